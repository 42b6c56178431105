package dev.pcb.nativeshim;

import com.sun.jna.Memory;
import com.sun.jna.Native;
import com.sun.jna.NativeLibrary;
import com.sun.jna.Platform;
import com.sun.jna.Pointer;

/**
 * Linux eventfds: a 64-bit counter in the kernel that one side adds to ({@link #signal}) and the other drains
 * ({@link #drain}), and {@code poll(2)} over several of them ({@link Poller}). An ivshmem server hands QEMU one per
 * interrupt vector and peer: QEMU writes the broker's when the guest rings its doorbell, and turns a write to the
 * guest's into an interrupt. Descriptors are created with {@code EFD_CLOEXEC | EFD_NONBLOCK}: a drain never blocks,
 * waits go through {@link Poller}.
 */
public final class EventFd
{
    private static final int EFD_NONBLOCK = 04000;
    private static final int EFD_CLOEXEC = 02000000;
    private static final short POLLIN = 0x1;
    private static final int POLLFD_LENGTH = 8;
    private static final int EAGAIN = 11;
    private static final int EINTR = 4;

    static
    {
        Native.register(EventFd.class, NativeLibrary.getInstance(Platform.C_LIBRARY_NAME));
    }

    private EventFd()
    {
    }

    private static native int eventfd(int initial, int flags);

    private static native long read(int fd, long address, long count);

    private static native long write(int fd, long address, long count);

    private static native int poll(long fds, long count, int timeoutMs);

    /**
     * A new eventfd with counter 0, close-on-exec and non-blocking. The caller closes it ({@link Linux#close}).
     *
     * @return the descriptor.
     * @throws ErrnoException e.g. EMFILE.
     */
    public static int create() throws ErrnoException
    {
        final int fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        if (fd < 0)
        {
            throw new ErrnoException("eventfd", "0", Native.getLastError());
        }
        return fd;
    }

    /**
     * Add 1 to the counter, waking whoever polls it.
     *
     * @param fd      an eventfd.
     * @param scratch 8 bytes of native memory owned by the calling thread.
     * @throws ErrnoException e.g. EBADF.
     */
    public static void signal(final int fd, final Memory scratch) throws ErrnoException
    {
        scratch.setLong(0, 1);
        if (8 != write(fd, Pointer.nativeValue(scratch), 8))
        {
            throw new ErrnoException("write", "eventfd " + fd, Native.getLastError());
        }
    }

    /**
     * Read and reset the counter.
     *
     * @param fd      an eventfd.
     * @param scratch 8 bytes of native memory owned by the calling thread.
     * @return the counter (signals since the last drain), 0 when there were none.
     * @throws ErrnoException e.g. EBADF.
     */
    public static long drain(final int fd, final Memory scratch) throws ErrnoException
    {
        if (8 == read(fd, Pointer.nativeValue(scratch), 8))
        {
            return scratch.getLong(0);
        }
        final int errno = Native.getLastError();
        if (EAGAIN == errno || EINTR == errno)
        {
            return 0;
        }
        throw new ErrnoException("read", "eventfd " + fd, errno);
    }

    /**
     * {@code poll(2)} for input on a fixed set of descriptors, with its native arguments allocated once: waiting
     * allocates nothing. Not thread safe.
     */
    public static final class Poller
    {
        private final Memory fds;
        private final int capacity;
        private int count;

        /**
         * @param capacity descriptors polled at most.
         */
        public Poller(final int capacity)
        {
            if (capacity < 1)
            {
                throw new IllegalArgumentException("a poller needs room for one descriptor at least, not " + capacity);
            }
            this.capacity = capacity;
            this.fds = new Memory((long)POLLFD_LENGTH * capacity);
            fds.clear();
        }

        /**
         * Set a descriptor to poll; indexes 0 to {@code count - 1} are polled.
         *
         * @param index 0 to capacity - 1.
         * @param fd    the descriptor, or -1 for a hole the kernel skips.
         */
        public void fd(final int index, final int fd)
        {
            if (index < 0 || index >= capacity)
            {
                throw new IllegalArgumentException("descriptor " + index + " beyond capacity " + capacity);
            }
            final long at = (long)POLLFD_LENGTH * index;
            fds.setInt(at, fd);
            fds.setShort(at + 4, POLLIN);
            fds.setShort(at + 6, (short)0);
            count = Math.max(count, index + 1);
        }

        /**
         * Wait until a descriptor is readable, or the timeout passes.
         *
         * @param timeoutMs longest wait, -1 for none.
         * @return how many descriptors are readable (or in error or hung up), 0 on timeout or a signal.
         * @throws ErrnoException e.g. EINVAL.
         */
        public int await(final int timeoutMs) throws ErrnoException
        {
            final int ready = poll(Pointer.nativeValue(fds), count, timeoutMs);
            if (ready >= 0)
            {
                return ready;
            }
            final int errno = Native.getLastError();
            if (EINTR == errno)
            {
                return 0;
            }
            throw new ErrnoException("poll", count + " descriptor(s)", errno);
        }

        /**
         * After {@link #await}: did the descriptor at an index become readable (or fail, or hang up)?
         *
         * @param index a polled index.
         * @return true when its {@code revents} is not 0.
         */
        public boolean ready(final int index)
        {
            return 0 != fds.getShort((long)POLLFD_LENGTH * index + 6);
        }
    }
}
