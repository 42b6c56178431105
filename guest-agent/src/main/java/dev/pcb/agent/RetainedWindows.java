package dev.pcb.agent;

import dev.pcb.layout.RetainedWindowsDescriptor;
import org.agrona.concurrent.UnsafeBuffer;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import static dev.pcb.layout.RetainedWindowsDescriptor.BUSY;
import static dev.pcb.layout.RetainedWindowsDescriptor.EMPTY;
import static dev.pcb.layout.RetainedWindowsDescriptor.FILE_WINDOW_OFFSET;
import static dev.pcb.layout.RetainedWindowsDescriptor.HANDLE_ID_OFFSET;
import static dev.pcb.layout.RetainedWindowsDescriptor.RECLAIMED;
import static dev.pcb.layout.RetainedWindowsDescriptor.RETAINED;
import static dev.pcb.layout.RetainedWindowsDescriptor.STATE_OFFSET;

/**
 * Windows this process has stopped reading but keeps pinned, in its slot's table
 * ({@link RetainedWindowsDescriptor}), so that reading one again costs two atomic operations instead of a round trip
 * to the broker. The broker takes retained pins back whenever it needs the room, so retaining never makes another
 * reader's ACQUIRE fail; the table is bounded, and when it is full the oldest entry is released.
 * <p>
 * Each entry is owned by whoever swaps its state word away from {@code RETAINED | tag}: this class to read the view
 * again or to release it, the broker to drop the pin. The view remembers where it was retained and with which tag,
 * under its own monitor, which {@link PcbFile} holds around {@link #retain} and {@link #revive}.
 */
final class RetainedWindows
{
    /** Entries looked at for a free one before the oldest at the hand is released instead. */
    private static final int FREE_SEARCH = 16;

    private final UnsafeBuffer table;
    private final int capacity;
    // Written only while the entry is BUSY and before it is published, read only by whoever won the entry.
    private final WindowView[] views;
    private final AtomicInteger hand = new AtomicInteger();
    private final AtomicLong tags = new AtomicLong();

    /**
     * @param table    the slot's table, zeroed when the slot was accepted for this process.
     * @param capacity entries to use, 0 to retain nothing; checked by {@link AgentConfig#retainedWindows(int)}.
     */
    RetainedWindows(final UnsafeBuffer table, final int capacity)
    {
        this.table = table;
        this.capacity = capacity;
        this.views = new WindowView[capacity];
    }

    /**
     * Keep the pin of a view whose last reference was just closed. Caller holds the view's monitor.
     *
     * @return false when nothing can be retained; the caller releases the pin.
     */
    boolean retain(final WindowView view, final long handleId)
    {
        if (0 == capacity)
        {
            return false;
        }
        final int start = (hand.getAndIncrement() & Integer.MAX_VALUE) % capacity;
        int index = -1;
        for (int i = 0; i < FREE_SEARCH && i < capacity; i++)
        {
            final int candidate = (start + i) % capacity;
            final int at = offset(candidate) + STATE_OFFSET;
            final long state = table.getLongVolatile(at);
            final long kind = RetainedWindowsDescriptor.kind(state);
            if (EMPTY == kind && table.compareAndSetLong(at, state, BUSY))
            {
                index = candidate;
                break;
            }
            if (RECLAIMED == kind && takeBack(candidate, false))
            {
                index = candidate;
                break;
            }
        }
        if (index < 0)
        {
            index = start;
            if (!evict(index))
            {
                return false;
            }
        }

        final int at = offset(index);
        final long tag = tags.incrementAndGet();
        views[index] = view;
        table.putLong(at + HANDLE_ID_OFFSET, handleId);
        table.putLong(at + FILE_WINDOW_OFFSET, view.fileWindow());
        view.retainedAt(index, tag);
        // Volatile, not only release: PcbFile.close reads the table after setting its closing flag, and a retain
        // that races it must either be seen there or see the flag itself.
        table.putLongVolatile(at + STATE_OFFSET, RetainedWindowsDescriptor.state(tag, RETAINED));
        return true;
    }

    /**
     * Take back a retained view's pin for reading. Caller holds the view's monitor.
     *
     * @return true when the pin is still there; false when the view must be acquired from the broker.
     */
    boolean revive(final WindowView view)
    {
        final int index = view.retainedIndex();
        if (index < 0)
        {
            return false;
        }
        final long tag = view.retainedTag();
        view.retainedAt(-1, 0);
        final int at = offset(index);
        if (table.compareAndSetLong(at + STATE_OFFSET, RetainedWindowsDescriptor.state(tag, RETAINED), BUSY))
        {
            views[index] = null;
            table.putLongRelease(at + STATE_OFFSET, EMPTY);
            return true;
        }
        if (table.compareAndSetLong(at + STATE_OFFSET, RetainedWindowsDescriptor.state(tag, RECLAIMED), BUSY))
        {
            views[index] = null;
            table.putLongRelease(at + STATE_OFFSET, EMPTY);
            view.file().unpinned(view, false);
        }
        return false;
    }

    /**
     * Release every retained window of a file that is closing.
     */
    void releaseAll(final PcbFile file)
    {
        for (int i = 0; i < capacity; i++)
        {
            final WindowView view = views[i];
            if (null != view && view.file() == file && takeBack(i, true))
            {
                table.putLongRelease(offset(i) + STATE_OFFSET, EMPTY);
            }
        }
    }

    /**
     * Forget every retained pin without a message: the broker that held them is gone (restart) or about to drop them
     * all (detach).
     */
    void dropAll()
    {
        for (int i = 0; i < capacity; i++)
        {
            if (takeBack(i, false))
            {
                table.putLongRelease(offset(i) + STATE_OFFSET, EMPTY);
            }
        }
    }

    private boolean evict(final int index)
    {
        final long state = table.getLongVolatile(offset(index) + STATE_OFFSET);
        return RETAINED == RetainedWindowsDescriptor.kind(state) && takeBack(index, true);
    }

    /**
     * Win a retained or reclaimed entry and settle its view's pin; the entry is left BUSY for the caller.
     *
     * @param release send RELEASE for a pin that is still there.
     * @return false when the entry was not retained or reclaimed, or someone else won it.
     */
    private boolean takeBack(final int index, final boolean release)
    {
        final int at = offset(index);
        final long state = table.getLongVolatile(at + STATE_OFFSET);
        final long kind = RetainedWindowsDescriptor.kind(state);
        if ((RETAINED != kind && RECLAIMED != kind) || !table.compareAndSetLong(at + STATE_OFFSET, state, BUSY))
        {
            return false;
        }
        final WindowView view = views[index];
        views[index] = null;
        if (null != view)
        {
            // A reclaimed pin is gone at the broker already: only the bookkeeping is left.
            view.file().unpinned(view, release && RETAINED == kind);
        }
        return true;
    }

    private static int offset(final int index)
    {
        return RetainedWindowsDescriptor.entryOffset(index);
    }
}
