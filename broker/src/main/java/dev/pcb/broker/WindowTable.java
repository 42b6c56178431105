package dev.pcb.broker;

import dev.pcb.layout.WindowDescriptor;

/**
 * The broker's book of a data region's windows: state, owner, pin count, and a CLOCK hand for eviction.
 * <p>
 * Touched only by the conductor thread, so plain arrays suffice. A window with a non-zero pin count is never chosen
 * for eviction, which is the guarantee readers rely on: bytes a guest holds are never overwritten.
 * Windows of versions no handle holds any more are reclaimed before CLOCK considers anything else.
 */
final class WindowTable
{
    static final int NONE = -1;
    /**
     * Broker-only state of a window a previous broker filled and a guest may still read: never allocated; its
     * descriptor keeps saying READY. It ends as a HOLD pin of a client, or FREE when the grace period ends.
     */
    static final int STATE_QUARANTINED = -2;

    private final DataRegion region;
    private final int count;
    private final int[] state;
    private final int[] pins;
    private final long[] generation;
    private final boolean[] referenced;
    private final FileVersion[] owner;
    private final long[] ownerFileWindow;
    private int hand;
    private int free;
    private int pinnedWindows;
    private long evictions;
    private int quarantined;
    private boolean quarantineOver = true;

    WindowTable(final DataRegion region)
    {
        this.region = region;
        this.count = region.windowCount();
        this.state = new int[count];
        this.pins = new int[count];
        this.generation = new long[count];
        this.referenced = new boolean[count];
        this.owner = new FileVersion[count];
        this.ownerFileWindow = new long[count];
        int freeWindows = 0;
        final boolean recovered = region.isRecovered();
        for (int i = 0; i < count; i++)
        {
            if (recovered && WindowDescriptor.STATE_READY == region.descriptorState(i))
            {
                state[i] = STATE_QUARANTINED;
                generation[i] = region.descriptorGeneration(i);
                quarantined++;
            }
            else
            {
                generation[i] = recovered ? nextEven(region.descriptorGeneration(i)) : 0;
                region.describe(i, generation[i], WindowDescriptor.STATE_FREE, 0, 0, 0);
                freeWindows++;
            }
        }
        this.free = freeWindows;
        this.quarantineOver = 0 == quarantined;
    }

    int quarantinedCount()
    {
        return quarantined;
    }

    /**
     * A client still reads a window from before the restart: pin it if it is quarantined at that generation.
     *
     * @return false when the window is not a quarantined window of that generation.
     */
    boolean hold(final int window, final long expectedGeneration)
    {
        if (window < 0 || window >= count || STATE_QUARANTINED != state[window] ||
            generation[window] != expectedGeneration)
        {
            return false;
        }
        if (0 == pins[window]++)
        {
            pinnedWindows++;
        }
        return true;
    }

    /**
     * A held window was released.
     *
     * @return false when the window was not held.
     */
    boolean unhold(final int window)
    {
        if (window < 0 || window >= count || STATE_QUARANTINED != state[window] || pins[window] <= 0)
        {
            return false;
        }
        if (0 == --pins[window])
        {
            pinnedWindows--;
            if (quarantineOver)
            {
                freeQuarantined(window);
            }
        }
        return true;
    }

    /**
     * The grace period for clients to claim their windows is over: free every quarantined window nobody holds.
     *
     * @return windows freed.
     */
    int endQuarantine()
    {
        quarantineOver = true;
        int freed = 0;
        for (int i = 0; i < count; i++)
        {
            if (STATE_QUARANTINED == state[i] && 0 == pins[i])
            {
                freeQuarantined(i);
                freed++;
            }
        }
        return freed;
    }

    boolean isQuarantineOver()
    {
        return quarantineOver;
    }

    private void freeQuarantined(final int window)
    {
        quarantined--;
        state[window] = WindowDescriptor.STATE_FREE;
        generation[window] = nextEven(generation[window] + 1);
        region.describe(window, generation[window], WindowDescriptor.STATE_FREE, 0, 0, 0);
        free++;
    }

    int count()
    {
        return count;
    }

    int freeCount()
    {
        return free;
    }

    int pinnedCount()
    {
        return pinnedWindows;
    }

    long evictions()
    {
        return evictions;
    }

    int state(final int window)
    {
        return state[window];
    }

    int pins(final int window)
    {
        return pins[window];
    }

    long generation(final int window)
    {
        return generation[window];
    }

    FileVersion owner(final int window)
    {
        return owner[window];
    }

    long ownerFileWindow(final int window)
    {
        return ownerFileWindow[window];
    }

    void pin(final int window)
    {
        if (0 == pins[window]++)
        {
            pinnedWindows++;
        }
        referenced[window] = true;
    }

    void unpin(final int window)
    {
        if (pins[window] <= 0)
        {
            throw new IllegalStateException("unpin of unpinned window " + window);
        }
        if (0 == --pins[window])
        {
            pinnedWindows--;
        }
    }

    /**
     * Find a window to fill: a free one, else an unpinned window of a version nobody holds, else CLOCK over the
     * unpinned READY windows. The evicted window is detached from its version.
     *
     * @return a window now FILLING and owned by the version, or {@link #NONE} when every window is pinned or filling.
     */
    int allocate(final FileVersion version, final long fileWindow, final long fileOffset, final int length)
    {
        int window = NONE;
        if (free > 0)
        {
            for (int i = 0; i < count; i++)
            {
                if (WindowDescriptor.STATE_FREE == state[i])
                {
                    window = i;
                    free--;
                    break;
                }
            }
        }
        if (NONE == window)
        {
            window = findOrphan();
        }
        if (NONE == window)
        {
            window = clock();
        }
        if (NONE == window)
        {
            return NONE;
        }

        state[window] = WindowDescriptor.STATE_FILLING;
        owner[window] = version;
        ownerFileWindow[window] = fileWindow;
        referenced[window] = true;
        generation[window] = nextOdd(generation[window]);
        region.describe(window, generation[window], WindowDescriptor.STATE_FILLING, version.id(), fileOffset, length);
        version.putWindow(fileWindow, window);
        return window;
    }

    /**
     * A fill finished with complete bytes: the window becomes READY at an even generation.
     */
    void filled(final int window, final long fileOffset, final int length)
    {
        state[window] = WindowDescriptor.STATE_READY;
        generation[window]++;
        region.describe(window, generation[window], WindowDescriptor.STATE_READY, owner[window].id(), fileOffset, length);
    }

    /**
     * Drop a window's contents: it becomes FREE and its version forgets it. Its pins must already be gone.
     */
    void discard(final int window)
    {
        detach(window);
        state[window] = WindowDescriptor.STATE_FREE;
        generation[window] = nextEven(generation[window]);
        region.describe(window, generation[window], WindowDescriptor.STATE_FREE, 0, 0, 0);
        free++;
    }

    private int findOrphan()
    {
        for (int i = 0; i < count; i++)
        {
            if (0 == pins[i] && WindowDescriptor.STATE_READY == state[i] && owner[i].isReclaimable())
            {
                evict(i);
                return i;
            }
        }
        return NONE;
    }

    private int clock()
    {
        // Two sweeps: the first clears reference bits, the second must then find any unpinned READY window.
        for (int step = 0, limit = 2 * count; step < limit; step++)
        {
            final int i = hand;
            hand = (hand + 1 == count) ? 0 : hand + 1;
            if (0 != pins[i] || WindowDescriptor.STATE_READY != state[i])
            {
                continue;
            }
            if (referenced[i])
            {
                referenced[i] = false;
                continue;
            }
            evict(i);
            return i;
        }
        return NONE;
    }

    private void evict(final int window)
    {
        detach(window);
        evictions++;
    }

    private void detach(final int window)
    {
        final FileVersion version = owner[window];
        if (null != version)
        {
            version.removeWindow(ownerFileWindow[window], window);
            owner[window] = null;
        }
    }

    private static long nextOdd(final long generation)
    {
        return (generation & 1) == 0 ? generation + 1 : generation + 2;
    }

    private static long nextEven(final long generation)
    {
        return (generation & 1) == 0 ? generation : generation + 1;
    }
}
