package dev.pcb.agent;

import com.sun.jna.Pointer;
import net.openhft.chronicle.bytes.PointerBytesStore;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

import java.nio.ByteBuffer;
import java.util.concurrent.atomic.AtomicIntegerFieldUpdater;
import java.util.concurrent.atomic.AtomicLongFieldUpdater;

/**
 * A pinned window of an open file, read in place in shared memory: no copy was made to give it to you.
 * <p>
 * Every {@link PcbFile#acquire(long)} that returns a view must be matched by exactly one {@link #close()}. Threads
 * that acquire the same window of the same file share one view and one broker pin; when the last of them closes it
 * the process retains the pin for a quick re-read, and the broker takes it back when it needs the room. While the
 * view is held its bytes never change: they are the bytes of the file version the handle opened. After the matching
 * close, the view must not be read.
 */
public final class WindowView implements AutoCloseable
{
    private static final AtomicIntegerFieldUpdater<WindowView> REFS =
        AtomicIntegerFieldUpdater.newUpdater(WindowView.class, "refs");
    private static final AtomicLongFieldUpdater<WindowView> PIN_TAG =
        AtomicLongFieldUpdater.newUpdater(WindowView.class, "pinTag");

    private final PcbFile file;
    private final long fileWindow;
    private final UnsafeBuffer buffer = new UnsafeBuffer(0, 0);
    // Made on first use: Chronicle's start-up (hundreds of classes) is paid only by those who read through it.
    private volatile PointerBytesStore bytesStore;
    /** Guards {@link #heldAcrossRestart} between a release and a re-attach claiming the view. */
    final Object recoveryLock = new Object();
    /** Claimed with HOLD from a restarted broker: released as a held window, not through the handle. */
    boolean heldAcrossRestart;
    private long fileOffset;
    private long address;
    private int length;
    private int regionWindow;
    private long generation;
    // The retained windows entry bound to this view, under the view's monitor; -1 when none.
    private int retainedIndex = -1;
    private long retainedTag;
    private long retainedEpoch;
    // The tag of the retention whose pin is still to be settled (released or counted gone); 0 when none. Settled
    // exactly once, by whoever swaps it to 0: this view's own thread, an evicting thread or a restart.
    private volatile long pinTag;
    private volatile int refs;

    WindowView(final PcbFile file, final long fileWindow)
    {
        this.file = file;
        this.fileWindow = fileWindow;
    }

    /**
     * Take one more reference if the view is live.
     *
     * @return false when the view has been released and must be acquired from the broker again.
     */
    boolean tryRetain()
    {
        int current;
        do
        {
            current = refs;
            if (current <= 0)
            {
                return false;
            }
        }
        while (!REFS.compareAndSet(this, current, current + 1));
        return true;
    }

    /**
     * Point the view at a window the broker just pinned; only while no one holds it.
     */
    void bind(final long address, final int length, final long fileOffset, final int regionWindow, final long generation)
    {
        this.address = address;
        this.length = length;
        this.fileOffset = fileOffset;
        this.regionWindow = regionWindow;
        this.generation = generation;
        buffer.wrap(address, length);
        final PointerBytesStore store = bytesStore;
        if (null != store)
        {
            store.set(address, length);
        }
        heldAcrossRestart = false;
        REFS.set(this, 1);
    }

    /**
     * Read again a view whose pin was retained: the first reference since its last close.
     */
    void revived()
    {
        REFS.set(this, 1);
    }

    void retainedAt(final int index, final long tag, final long epoch)
    {
        retainedIndex = index;
        retainedTag = tag;
        retainedEpoch = epoch;
        if (index >= 0)
        {
            PIN_TAG.set(this, tag);
        }
    }

    /**
     * Claim the settling of a retention's pin.
     *
     * @return true for exactly one caller per retention tag.
     */
    boolean settle(final long tag)
    {
        return 0 != tag && PIN_TAG.compareAndSet(this, tag, 0);
    }

    long retainedEpoch()
    {
        return retainedEpoch;
    }

    /**
     * Drop the last reference, if it still is the last; under the view's monitor.
     *
     * @return false when another thread took a reference meanwhile.
     */
    boolean dropLastReference()
    {
        return REFS.compareAndSet(this, 1, 0);
    }

    int retainedIndex()
    {
        return retainedIndex;
    }

    long retainedTag()
    {
        return retainedTag;
    }

    PcbFile file()
    {
        return file;
    }

    /** @return index of this window in the file. */
    public long fileWindow()
    {
        return fileWindow;
    }

    /** @return file offset of byte 0 of this view. */
    public long fileOffset()
    {
        return fileOffset;
    }

    /** @return valid bytes: the window size, or less for the last window of the file. */
    public int length()
    {
        return length;
    }

    /** @return address of byte 0 in this process, for native code. */
    public long address()
    {
        return address;
    }

    /** @return index of the window in the share's data region. */
    public int regionWindow()
    {
        return regionWindow;
    }

    /** @return generation of the region window when it was acquired. */
    public long generation()
    {
        return generation;
    }

    /**
     * Agrona view of the bytes; reused, so reading it allocates nothing. Do not write: data regions are read-only.
     *
     * @return buffer over the window's valid bytes.
     */
    public DirectBuffer buffer()
    {
        return buffer;
    }

    /**
     * Chronicle Bytes view of the bytes, zero-copy; reused.
     *
     * @return a {@link PointerBytesStore} over the window's valid bytes.
     */
    public PointerBytesStore bytesStore()
    {
        PointerBytesStore store = bytesStore;
        if (null == store)
        {
            // Only a holder gets here, so the view is bound and stays so: racing holders each set theirs correctly.
            store = new PointerBytesStore();
            store.set(address, length);
            bytesStore = store;
        }
        return store;
    }

    /**
     * A new read-only {@link ByteBuffer} over the bytes, zero-copy; each call makes a new buffer object so each
     * caller has its own position and limit.
     *
     * @return a read-only direct buffer over the window's valid bytes.
     */
    public ByteBuffer byteBuffer()
    {
        return new Pointer(address).getByteBuffer(0, length).asReadOnlyBuffer();
    }

    /**
     * Drop this reference. After the last one the process retains the broker's pin (see
     * {@link AgentConfig#retainedWindows(int)}) or releases it; the view must not be read again until acquired again.
     */
    public void close()
    {
        while (true)
        {
            final int current = refs;
            if (current > 1)
            {
                if (REFS.compareAndSet(this, current, current - 1))
                {
                    return;
                }
            }
            else if (1 == current)
            {
                // The last reference goes under the view's monitor, so no acquire can slip in between the count
                // reaching 0 and the pin being retained or released.
                if (file.lastClosed(this))
                {
                    return;
                }
            }
            else
            {
                throw new IllegalStateException("WindowView closed more times than acquired");
            }
        }
    }

    int refs()
    {
        return refs;
    }
}
