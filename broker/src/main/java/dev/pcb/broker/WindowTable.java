package dev.pcb.broker;

import dev.pcb.layout.WindowDescriptor;
import org.agrona.BitUtil;

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
    /** Alignment of a small file's slot in a packed window: a cache line, so slots never share one. */
    static final int PACK_ALIGNMENT = 64;
    /**
     * Broker-only state of a window a previous broker filled and a guest may still read: never allocated; its
     * descriptor keeps saying READY. It ends as a HOLD pin of a client, or FREE when the grace period ends.
     */
    static final int STATE_QUARANTINED = -2;

    private final DataRegion region;
    private final int count;
    private final int[] state;
    // long: the sum over guests of pins each capped at --max-pins (up to Integer.MAX_VALUE) cannot wrap.
    private final long[] pins;
    private final long[] generation;
    private final boolean[] referenced;
    private final FileVersion[] owner;
    private final long[] ownerFileWindow;
    private int hand;
    private int free;
    private int pinnedWindows;
    private long evictions;
    private final java.util.List<FileVersion>[] members;
    private final int[] packUsed;
    private final int[] packFills;
    private int currentPack = NONE;
    private int quarantined;
    private boolean quarantineOver = true;

    WindowTable(final DataRegion region)
    {
        this.region = region;
        this.count = region.windowCount();
        this.state = new int[count];
        this.pins = new long[count];
        this.generation = new long[count];
        this.referenced = new boolean[count];
        this.owner = new FileVersion[count];
        this.ownerFileWindow = new long[count];
        @SuppressWarnings("unchecked")
        final java.util.List<FileVersion>[] lists = new java.util.List[count];
        this.members = lists;
        this.packUsed = new int[count];
        this.packFills = new int[count];
        int freeWindows = 0;
        final boolean recovered = region.isRecovered();
        for (int i = 0; i < count; i++)
        {
            final int old = recovered ? region.descriptorState(i) : WindowDescriptor.STATE_FREE;
            if (WindowDescriptor.STATE_READY == old || WindowDescriptor.STATE_PACKED == old)
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

    long pins(final int window)
    {
        return pins[window];
    }

    long generation(final int window)
    {
        return generation[window];
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
        final int window = take();
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
     * Give a small file a slot in a packed window: many small files share one window, each at its own offset
     * (aligned to {@link #PACK_ALIGNMENT}), so a 3 KiB file costs about 3 KiB of the region, not a whole window.
     * The version records its window and offset.
     *
     * @return the packed window, or {@link #NONE} when no window can be had.
     */
    int allocatePacked(final FileVersion version, final int length)
    {
        final int slot = BitUtil.align(Math.max(1, length), PACK_ALIGNMENT);
        int window = currentPack;
        if (NONE == window || WindowDescriptor.STATE_PACKED != state[window] ||
            packUsed[window] + slot > region.windowSize())
        {
            window = take();
            if (NONE == window)
            {
                return NONE;
            }
            state[window] = WindowDescriptor.STATE_PACKED;
            owner[window] = null;
            members[window] = new java.util.ArrayList<>();
            packUsed[window] = 0;
            generation[window] = nextEven(generation[window] + 1);
            region.describe(window, generation[window], WindowDescriptor.STATE_PACKED, 0, 0, 0);
            currentPack = window;
        }
        version.packedAt(window, packUsed[window]);
        version.putWindow(0, window);
        members[window].add(version);
        packUsed[window] += slot;
        referenced[window] = true;
        return window;
    }

    void packFillStarted(final int window)
    {
        packFills[window]++;
    }

    void packFillEnded(final int window)
    {
        packFills[window]--;
    }

    /**
     * A packed file's bytes are no longer wanted (its fill failed, or its version can never be read again): the
     * window forgets it; the hole stays until the window is recycled, which happens at once when it was the last
     * member and nothing pins the window.
     */
    void removeMember(final int window, final FileVersion version)
    {
        final java.util.List<FileVersion> list = members[window];
        if (null != list && list.remove(version))
        {
            version.removeWindow(0, window);
            if (list.isEmpty() && 0 == pins[window] && 0 == packFills[window])
            {
                discard(window);
            }
        }
    }

    private int take()
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
            if (0 == pins[i] && isEvictable(i) && isReclaimable(i))
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
            if (0 != pins[i] || !isEvictable(i))
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

    private boolean isEvictable(final int window)
    {
        return WindowDescriptor.STATE_READY == state[window] ||
            (WindowDescriptor.STATE_PACKED == state[window] && 0 == packFills[window]);
    }

    private boolean isReclaimable(final int window)
    {
        if (WindowDescriptor.STATE_PACKED == state[window])
        {
            for (final FileVersion member : members[window])
            {
                if (!member.isReclaimable())
                {
                    return false;
                }
            }
            return true;
        }
        return owner[window].isReclaimable();
    }

    private void evict(final int window)
    {
        detach(window);
        evictions++;
    }

    private void detach(final int window)
    {
        final java.util.List<FileVersion> packed = members[window];
        if (null != packed)
        {
            members[window] = null;
            if (currentPack == window)
            {
                currentPack = NONE;
            }
            for (final FileVersion member : packed)
            {
                member.removeWindow(0, window);
            }
        }
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
