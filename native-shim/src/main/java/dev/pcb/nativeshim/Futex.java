package dev.pcb.nativeshim;

import com.sun.jna.Memory;
import com.sun.jna.Native;
import com.sun.jna.NativeLibrary;
import com.sun.jna.Platform;
import com.sun.jna.Pointer;

/**
 * Shared (cross-process) futexes on 32-bit words of a {@code MAP_SHARED} mapping: {@code futex_waitv} (Linux 5.16+)
 * to wait on several words at once, {@code FUTEX_WAKE} to wake their waiters.
 * <p>
 * The futexes are not {@code FUTEX_PRIVATE}: the waiter and the waker are different processes that map the same file,
 * and the kernel keys a shared futex by the page and offset, not by the virtual address.
 * <pre>
 *   struct futex_waitv (24 bytes, one per word waited on):
 *    0: u64 val (expected value) | 8: u64 uaddr | 16: u32 flags (FUTEX2_SIZE_U32) | 20: u32 reserved
 * </pre>
 * A {@link Waiter} owns its native arguments, allocated once: waiting allocates nothing.
 */
public final class Futex
{
    // Unified syscall table: the same number on x86_64 and aarch64.
    private static final long SYS_FUTEX_WAITV = 449;
    private static final long SYS_FUTEX = "aarch64".equals(System.getProperty("os.arch")) ? 98 : 202;
    private static final long FUTEX_WAKE = 1;
    private static final long FUTEX2_SIZE_U32 = 0x02;
    private static final long CLOCK_MONOTONIC = 1;
    private static final int WAITV_LENGTH = 24;
    private static final int ETIMEDOUT = 110;
    private static final int EAGAIN = 11;
    private static final int EINTR = 4;

    static
    {
        Native.register(Futex.class, NativeLibrary.getInstance(Platform.C_LIBRARY_NAME));
    }

    private Futex()
    {
    }

    private static native long syscall(long number, long a1, long a2, long a3, long a4, long a5);

    /**
     * Wake waiters of a shared futex word.
     *
     * @param address of a 4-byte aligned word in a shared mapping.
     * @param count   how many waiters to wake at most.
     * @return how many were woken, or -1 when the call failed (never fatal to a waker: the waiter has a timeout).
     */
    public static int wake(final long address, final int count)
    {
        return (int)syscall(SYS_FUTEX, address, FUTEX_WAKE, count, 0, 0);
    }

    /**
     * Waits on up to a fixed number of words at once, as one thread. Not thread safe.
     */
    public static final class Waiter
    {
        private final Memory waiters;
        private final Memory timeout = new Memory(16);
        private final int capacity;
        private int count;

        /**
         * Prepare native arguments for up to {@code capacity} words.
         *
         * @param capacity words waited on at most, 1 to 128 (the kernel's limit).
         */
        public Waiter(final int capacity)
        {
            if (capacity < 1 || capacity > 128)
            {
                throw new IllegalArgumentException("futex_waitv waits on 1 to 128 words, not " + capacity);
            }
            this.capacity = capacity;
            this.waiters = new Memory((long)WAITV_LENGTH * capacity);
            waiters.clear();
        }

        /**
         * Set the words to wait on next.
         *
         * @param index   0 to capacity - 1.
         * @param address of a 4-byte aligned word in a shared mapping.
         */
        public void word(final int index, final long address)
        {
            if (index >= capacity)
            {
                throw new IllegalArgumentException("word " + index + " beyond capacity " + capacity);
            }
            final long at = (long)WAITV_LENGTH * index;
            waiters.setLong(at + 8, address);
            waiters.setInt(at + 16, (int)FUTEX2_SIZE_U32);
            waiters.setInt(at + 20, 0);
            count = Math.max(count, index + 1);
        }

        /**
         * Set the value a word must still hold for the wait to sleep: read it before the last check for work.
         *
         * @param index    a word set with {@link #word}.
         * @param expected the value read.
         */
        public void expect(final int index, final int expected)
        {
            waiters.setLong((long)WAITV_LENGTH * index, expected & 0xFFFF_FFFFL);
        }

        /**
         * Sleep until a word differs from its expected value and is woken, or the timeout passes.
         *
         * @param timeoutNs longest sleep.
         * @return true when woken or a word had already changed, false on timeout or a signal.
         * @throws ErrnoException when the kernel refuses the call (ENOSYS before Linux 5.16, EPERM under seccomp).
         */
        public boolean await(final long timeoutNs) throws ErrnoException
        {
            // The timeout is absolute on CLOCK_MONOTONIC, the clock System.nanoTime reads on Linux.
            final long deadline = System.nanoTime() + timeoutNs;
            timeout.setLong(0, deadline / 1_000_000_000L);
            timeout.setLong(8, deadline % 1_000_000_000L);
            final long result = syscall(SYS_FUTEX_WAITV, Pointer.nativeValue(waiters), count, 0,
                Pointer.nativeValue(timeout), CLOCK_MONOTONIC);
            if (result >= 0)
            {
                return true;
            }
            final int errno = Native.getLastError();
            if (EAGAIN == errno)
            {
                return true;
            }
            if (ETIMEDOUT == errno || EINTR == errno)
            {
                return false;
            }
            throw new ErrnoException("futex_waitv", count + " word(s)", errno);
        }
    }
}
