package dev.pcb.agent;

import dev.pcb.layout.RetainedWindowsDescriptor;
import dev.pcb.layout.RetainedWindowsTable;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import static dev.pcb.layout.RetainedWindowsDescriptor.BUSY;
import static dev.pcb.layout.RetainedWindowsDescriptor.EMPTY;
import static dev.pcb.layout.RetainedWindowsDescriptor.RECLAIMED;
import static dev.pcb.layout.RetainedWindowsDescriptor.RETAINED;
import static dev.pcb.layout.RetainedWindowsDescriptor.state;

/**
 * Windows this process has stopped reading but keeps pinned, in its slot's table ({@link RetainedWindowsTable}, which
 * makes every transition of the shared state word),
 * so that reading one again costs a compare-and-set instead of a round trip to the broker. The broker takes retained
 * pins back whenever it needs the room, so retaining never makes another reader's ACQUIRE fail; the table is
 * bounded, and when no entry is free the oldest at the hand is released.
 * <p>
 * An entry stays bound to its view while the view is read again ({@code BUSY | tag}: the broker keeps off) and is
 * parked again with one store when the view is closed ({@code RETAINED | tag}). Whoever swaps the state word away from
 * {@code RETAINED | tag} owns the pin: the view to read it again, this class to release it, the broker to drop it.
 * The view's binding (index, tag, epoch) is guarded by the view's monitor, which {@link PcbFile} holds around every
 * call here that names a view. Each retention's pin is settled (released, or counted gone) exactly once, by whoever
 * wins {@link WindowView#settle(long)} for its tag, whatever the table says: a restarted broker zeroes it.
 */
final class RetainedWindows
{
    /** Entries looked at for a free one before the entry at the hand is released instead. */
    private static final int FREE_SEARCH = 16;

    private final RetainedWindowsTable table;
    private final int capacity;
    // Written only by whoever holds the entry exclusively (BUSY), read only by whoever wins it next.
    private final WindowView[] views;
    private final AtomicInteger hand = new AtomicInteger();
    private final AtomicLong tags = new AtomicLong();

    /**
     * @param table    the slot's table, zeroed when the slot was accepted for this process.
     * @param capacity entries to use, 0 to retain nothing; checked by {@link AgentConfig#retainedWindows(int)}.
     */
    RetainedWindows(final RetainedWindowsTable table, final int capacity)
    {
        this.table = table;
        this.capacity = capacity;
        this.views = new WindowView[capacity];
    }

    /**
     * Keep the pin of a view whose last reference was just closed: park its entry again, or bind it to a new one.
     *
     * @param epoch the broker epoch the view's handle belongs to.
     * @return false when nothing can be retained; the caller releases the pin.
     */
    boolean retain(final WindowView view, final long handleId, final long epoch)
    {
        final int bound = view.retainedIndex();
        if (bound >= 0)
        {
            if (view.retainedEpoch() == epoch)
            {
                // Volatile (repark): PcbFile.close reads the table after setting its closing flag, and a retain
                // that races it must either be seen there or see the flag itself.
                table.repark(bound, view.retainedTag());
                return true;
            }
            // Bound under a broker that is gone: the caller unbinds and releases.
            return false;
        }
        if (0 == capacity)
        {
            return false;
        }

        final int start = (hand.getAndIncrement() & Integer.MAX_VALUE) % capacity;
        int index = -1;
        for (int i = 0; i < FREE_SEARCH && i < capacity; i++)
        {
            final int candidate = (start + i) % capacity;
            final long current = table.state(candidate);
            final long kind = RetainedWindowsDescriptor.kind(current);
            if ((EMPTY == kind && table.claim(candidate, current)) ||
                (RECLAIMED == kind && takeBack(candidate, current, false)))
            {
                index = candidate;
                break;
            }
        }
        if (index < 0)
        {
            final long current = table.state(start);
            if (RETAINED != RetainedWindowsDescriptor.kind(current) || !takeBack(start, current, true))
            {
                return false;
            }
            index = start;
        }

        final long tag = tags.incrementAndGet();
        views[index] = view;
        view.retainedAt(index, tag, epoch);
        table.park(index, tag, handleId, view.fileWindow());
        return true;
    }

    /**
     * Take back a retained view's pin for reading; its entry stays bound to it.
     *
     * @param epoch the broker epoch now: a pin retained under another broker is not there any more.
     * @return true when the pin is still there; false when the view must be acquired from the broker.
     */
    boolean revive(final WindowView view, final long epoch)
    {
        final int index = view.retainedIndex();
        if (index < 0)
        {
            return false;
        }
        final long tag = view.retainedTag();
        if (view.retainedEpoch() == epoch)
        {
            if (table.revive(index, tag))
            {
                return true;
            }
            // Dropped by the broker: only the bookkeeping is left. Or the entry went to another view, and whoever
            // took it settled this pin.
            free(index, state(tag, RECLAIMED), false);
            view.retainedAt(-1, 0, 0);
            return false;
        }
        // Retained under a broker that is gone (the new one may have cleared the table).
        forget(index, view);
        return false;
    }

    /**
     * Free the entry of a view whose pin is to be released now, not parked. Caller holds the view's monitor.
     *
     * @return true when the caller owns the pin and releases it; false when it was settled already.
     */
    boolean unbind(final WindowView view)
    {
        final int index = view.retainedIndex();
        if (index < 0)
        {
            return true;
        }
        final long tag = view.retainedTag();
        clear(index, view);
        view.retainedAt(-1, 0, 0);
        return view.settle(tag);
    }

    /**
     * Release a view's own parked pin after all: its file started closing meanwhile. Caller holds the view's monitor.
     */
    void releaseOwn(final WindowView view)
    {
        final int index = view.retainedIndex();
        if (index >= 0)
        {
            free(index, state(view.retainedTag(), RETAINED), true);
            view.retainedAt(-1, 0, 0);
        }
    }

    /**
     * Release every parked window of a file that is closing; windows being read release at their last close.
     */
    void releaseAll(final PcbFile file)
    {
        for (int i = 0; i < capacity; i++)
        {
            final long current = table.state(i);
            final WindowView view = views[i];
            if (null != view && view.file() == file)
            {
                free(i, current, true);
            }
        }
    }

    /**
     * Forget every parked pin without a message: the broker that held them is gone (restart) or about to drop them
     * all (detach). Goes by this process's own record of the entries, not by the table, which a restarted broker
     * clears.
     */
    void dropAll()
    {
        for (int i = 0; i < capacity; i++)
        {
            final WindowView view = views[i];
            if (null != view)
            {
                synchronized (view)
                {
                    if (view.retainedIndex() == i && 0 == view.refs())
                    {
                        forget(i, view);
                    }
                }
            }
        }
    }

    /**
     * A view parked at an entry lost its pin with its broker: clear the entry if it is still the view's, and count
     * the pin as gone. Caller holds the view's monitor.
     */
    private void forget(final int index, final WindowView view)
    {
        final long tag = view.retainedTag();
        clear(index, view);
        view.retainedAt(-1, 0, 0);
        if (view.settle(tag))
        {
            view.file().unpinned(view, false);
        }
    }

    /**
     * Empty an entry that still records this view, whatever its state word says now (a restarted broker zeroes it),
     * unless another thread is filling it in; the broker may reclaim it meanwhile, so retry until settled.
     */
    private void clear(final int index, final WindowView view)
    {
        final long own = state(view.retainedTag(), BUSY);
        while (views[index] == view)
        {
            final long current = table.state(index);
            if (BUSY == RetainedWindowsDescriptor.kind(current) && own != current)
            {
                return;
            }
            // The view's own BUSY|tag is this caller's already; anything else is won with a claim.
            if (own == current || table.claim(index, current))
            {
                views[index] = null;
                table.free(index);
                return;
            }
        }
    }

    /**
     * Win a parked or reclaimed entry, settle its view's pin and empty the entry.
     */
    private void free(final int index, final long seen, final boolean release)
    {
        if (takeBack(index, seen, release))
        {
            table.free(index);
        }
    }

    /**
     * Win a parked or reclaimed entry and settle its view's pin; the entry is left BUSY for the caller.
     *
     * @param seen    the state read just before; a successful swap proves the view read after it is the one.
     * @param release send RELEASE for a pin that is still there.
     * @return false when the entry was not parked or reclaimed, or someone else won it.
     */
    private boolean takeBack(final int index, final long seen, final boolean release)
    {
        final long kind = RetainedWindowsDescriptor.kind(seen);
        if ((RETAINED != kind && RECLAIMED != kind) || !table.claim(index, seen))
        {
            return false;
        }
        final WindowView view = views[index];
        views[index] = null;
        if (null != view && view.settle(RetainedWindowsTable.tag(seen)))
        {
            // A reclaimed pin is gone at the broker already: only the bookkeeping is left.
            view.file().unpinned(view, release && RETAINED == kind);
        }
        return true;
    }
}
