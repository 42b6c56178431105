package dev.pcb.broker;

import dev.pcb.layout.ControlRegionDescriptor;
import dev.pcb.layout.DataRegionDescriptor;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Everything a broker is started with, in the style of Aeron's {@code MediaDriver.Context}: fluent setters,
 * defaults that work on a laptop, and one {@link #validate()} that names the first thing wrong.
 */
public final class BrokerConfig
{
    /** Default data region size per share: 256 MiB. */
    public static final long DEFAULT_REGION_SIZE = 256L * 1024 * 1024;
    /** Default window size: 2 MiB, a huge page and the kernel's DAX granule. */
    public static final int DEFAULT_WINDOW_SIZE = 2 * 1024 * 1024;
    /** Default client lease: a client silent this long is detached. */
    public static final long DEFAULT_CLIENT_LEASE_MS = 5_000;
    /** Default broker lease agents apply to the broker's heartbeat. */
    public static final long DEFAULT_BROKER_LEASE_MS = 3_000;
    /** Default read-ahead: windows filled ahead of a sequential reader. */
    public static final int DEFAULT_READ_AHEAD_WINDOWS = 4;

    private Path runDir;
    private String runGroup;
    private final Map<String, Path> shares = new LinkedHashMap<>();
    private final Map<String, List<String>> guests = new LinkedHashMap<>();
    private long regionSize = DEFAULT_REGION_SIZE;
    private int windowSize = DEFAULT_WINDOW_SIZE;
    private int slotCount = ControlRegionDescriptor.DEFAULT_SLOT_COUNT;
    private int requestRingCapacity = ControlRegionDescriptor.DEFAULT_REQUEST_RING_CAPACITY;
    private int responseRingCapacity = ControlRegionDescriptor.DEFAULT_RESPONSE_RING_CAPACITY;
    private long clientLeaseMs = DEFAULT_CLIENT_LEASE_MS;
    private long brokerLeaseMs = DEFAULT_BROKER_LEASE_MS;
    private int fillThreads = 2;
    private int fillThreadsPerShare;
    private int readAheadWindows = DEFAULT_READ_AHEAD_WINDOWS;
    private int maxHandlesPerGuest = 16384;
    private int maxPinsPerGuest = Integer.MAX_VALUE;
    private int maxRequestsPerSecondPerGuest = 0;
    private boolean dropSourceCache = true;
    private boolean prefault;
    private boolean doorbell;
    private long packThreshold = -1;

    /**
     * Directory holding the region files.
     *
     * @param runDir a directory on tmpfs or hugetlbfs, created if missing.
     * @return this.
     */
    public BrokerConfig runDir(final Path runDir)
    {
        this.runDir = runDir;
        return this;
    }

    /** @return the run directory. */
    public Path runDir()
    {
        return runDir;
    }

    /**
     * A group whose members may read the run directory, the data regions and the counters, and read and write the
     * control regions: the group QEMU runs in when it is not the broker's user. Without one, only the broker's user
     * may open anything there.
     *
     * @param group a group name known to the host, or null for none (the default).
     * @return this.
     */
    public BrokerConfig runGroup(final String group)
    {
        this.runGroup = group;
        return this;
    }

    /** @return the group given access to the run directory, or null. */
    public String runGroup()
    {
        return runGroup;
    }

    /**
     * Add a share.
     *
     * @param name short name guests use as the first path component.
     * @param root host directory.
     * @return this.
     */
    public BrokerConfig share(final String name, final Path root)
    {
        if (null != shares.put(name, root))
        {
            throw new IllegalArgumentException("share named twice: " + name);
        }
        return this;
    }

    /** @return shares by name, in the order given. */
    public Map<String, Path> shares()
    {
        return shares;
    }

    /**
     * Add a guest that may read every share.
     *
     * @param name guest name.
     * @return this.
     */
    public BrokerConfig guest(final String name)
    {
        return guest(name, List.of());
    }

    /**
     * Add a guest that may read some shares.
     *
     * @param name       guest name.
     * @param shareNames shares it may read; empty for all.
     * @return this.
     */
    public BrokerConfig guest(final String name, final List<String> shareNames)
    {
        if (null != guests.put(name, new ArrayList<>(shareNames)))
        {
            throw new IllegalArgumentException("guest named twice: " + name);
        }
        return this;
    }

    /** @return guests by name with the shares each may read (empty for all). */
    public Map<String, List<String>> guests()
    {
        return guests;
    }

    /**
     * Data region size per share.
     *
     * @param regionSize a power of two.
     * @return this.
     */
    public BrokerConfig regionSize(final long regionSize)
    {
        this.regionSize = regionSize;
        return this;
    }

    /** @return data region size per share. */
    public long regionSize()
    {
        return regionSize;
    }

    /**
     * Window size.
     *
     * @param windowSize a power of two from 4 KiB.
     * @return this.
     */
    public BrokerConfig windowSize(final int windowSize)
    {
        this.windowSize = windowSize;
        return this;
    }

    /** @return window size. */
    public int windowSize()
    {
        return windowSize;
    }

    /**
     * Client slots per guest: processes of one guest attached at once.
     *
     * @param slotCount at least 1.
     * @return this.
     */
    public BrokerConfig slotCount(final int slotCount)
    {
        this.slotCount = slotCount;
        return this;
    }

    /** @return client slots per guest. */
    public int slotCount()
    {
        return slotCount;
    }

    /** @return request ring capacity per slot, without trailer. */
    public int requestRingCapacity()
    {
        return requestRingCapacity;
    }

    /** @return response ring capacity per slot, without trailer. */
    public int responseRingCapacity()
    {
        return responseRingCapacity;
    }

    /**
     * Client lease.
     *
     * @param ms a client whose heartbeat stalls this long is detached.
     * @return this.
     */
    public BrokerConfig clientLeaseMs(final long ms)
    {
        this.clientLeaseMs = ms;
        return this;
    }

    /** @return client lease in ms. */
    public long clientLeaseMs()
    {
        return clientLeaseMs;
    }

    /**
     * Broker lease advertised to agents.
     *
     * @param ms an agent declares the broker dead after its heartbeat stalls this long.
     * @return this.
     */
    public BrokerConfig brokerLeaseMs(final long ms)
    {
        this.brokerLeaseMs = ms;
        return this;
    }

    /** @return broker lease in ms. */
    public long brokerLeaseMs()
    {
        return brokerLeaseMs;
    }

    /**
     * Threads that fill windows from disk, so misses never stall hits.
     *
     * @param threads at least 1.
     * @return this.
     */
    public BrokerConfig fillThreads(final int threads)
    {
        this.fillThreads = threads;
        return this;
    }

    /** @return fill threads. */
    public int fillThreads()
    {
        return fillThreads;
    }

    /**
     * Fills of one share that may run at once; the share's further misses wait their turn on the conductor. Below
     * {@link #fillThreads()}, a share whose filesystem hangs can take only that many filler threads, and the other
     * shares' misses keep the rest.
     *
     * @param threads 1 to {@link #fillThreads()}, or 0 for the default: one fewer than the fill threads (at least 1)
     *                when there is more than one share, all of them when there is one.
     * @return this.
     */
    public BrokerConfig fillThreadsPerShare(final int threads)
    {
        this.fillThreadsPerShare = threads;
        return this;
    }

    /** @return fills of one share that may run at once, the default resolved. */
    public int fillThreadsPerShare()
    {
        if (fillThreadsPerShare > 0)
        {
            return fillThreadsPerShare;
        }
        return shares.size() > 1 ? Math.max(1, fillThreads - 1) : fillThreads;
    }

    /**
     * Windows filled ahead of a reader that acquires a file's windows in order, so the next fills overlap its
     * reading and each other; never pinned, so they are evicted like any cached window when room is short.
     *
     * @param windows 0 (no read-ahead) to 64.
     * @return this.
     */
    public BrokerConfig readAheadWindows(final int windows)
    {
        this.readAheadWindows = windows;
        return this;
    }

    /** @return windows filled ahead of a sequential reader. */
    public int readAheadWindows()
    {
        return readAheadWindows;
    }

    /**
     * Quota of open handles per guest, all its processes together.
     *
     * @param max handles.
     * @return this.
     */
    public BrokerConfig maxHandlesPerGuest(final int max)
    {
        this.maxHandlesPerGuest = max;
        return this;
    }

    /** @return open handle quota per guest. */
    public int maxHandlesPerGuest()
    {
        return maxHandlesPerGuest;
    }

    /**
     * Quota of pinned windows per guest, all its processes together: one guest cannot hold the whole region.
     *
     * @param max pins.
     * @return this.
     */
    public BrokerConfig maxPinsPerGuest(final int max)
    {
        this.maxPinsPerGuest = max;
        return this;
    }

    /** @return pin quota per guest. */
    public int maxPinsPerGuest()
    {
        return maxPinsPerGuest;
    }

    /**
     * Request rate quota per guest; RELEASE, CLOSE, ATTACH and DETACH are never refused, so a guest over its rate
     * can always give memory back.
     *
     * @param max requests per second, 0 for no limit.
     * @return this.
     */
    public BrokerConfig maxRequestsPerSecondPerGuest(final int max)
    {
        this.maxRequestsPerSecondPerGuest = max;
        return this;
    }

    /** @return request rate quota per guest, 0 for none. */
    public int maxRequestsPerSecondPerGuest()
    {
        return maxRequestsPerSecondPerGuest;
    }

    /**
     * Drop the source file's pages from the host page cache after a fill, so the host keeps one copy.
     *
     * @param drop true by default.
     * @return this.
     */
    public BrokerConfig dropSourceCache(final boolean drop)
    {
        this.dropSourceCache = drop;
        return this;
    }

    /** @return whether fills drop the source's page cache. */
    public boolean dropSourceCache()
    {
        return dropSourceCache;
    }

    /**
     * Allocate every page of the data regions at start, so no fill pays for first touching region memory (about ten
     * times the cost of the copy on tmpfs); the regions then hold their whole size of host memory from the start.
     *
     * @param prefault false by default: memory is taken as windows are first filled.
     * @return this.
     */
    public BrokerConfig prefault(final boolean prefault)
    {
        this.prefault = prefault;
        return this;
    }

    /** @return whether data regions are allocated in full at start. */
    public boolean prefault()
    {
        return prefault;
    }

    /**
     * Serve each guest's control region to an {@code ivshmem-doorbell} device as its ivshmem server, on
     * {@code guest-NAME.sock} in the run directory ({@link IvshmemServer}), so guests can ring the broker awake and be
     * interrupted by its answers. Guests attached with {@code ivshmem-plain} are not served that way and poll.
     *
     * @param doorbell false by default.
     * @return this.
     */
    public BrokerConfig doorbell(final boolean doorbell)
    {
        this.doorbell = doorbell;
        return this;
    }

    /** @return whether the broker is the ivshmem server of its guests' doorbell devices. */
    public boolean doorbell()
    {
        return doorbell;
    }

    /**
     * Files up to this size are packed, several to a window, at 64-byte aligned offsets.
     *
     * @param bytes threshold; 0 packs nothing; negative picks the default.
     * @return this.
     */
    public BrokerConfig packThreshold(final long bytes)
    {
        this.packThreshold = bytes;
        return this;
    }

    /**
     * Files up to this size share windows. Default: half a window, so a file never wastes more than half of the
     * window it occupies alone, and every file of a typical /usr or document tree (a few KiB) is packed.
     *
     * @return the threshold in bytes.
     */
    public long packThreshold()
    {
        return packThreshold >= 0 ? Math.min(packThreshold, windowSize) : windowSize / 2;
    }

    /**
     * Check the whole configuration.
     *
     * @return this.
     * @throws IllegalArgumentException naming the first problem.
     */
    public BrokerConfig validate()
    {
        if (null == runDir)
        {
            throw new IllegalArgumentException("--run-dir is required");
        }
        if (shares.isEmpty())
        {
            throw new IllegalArgumentException("at least one --share NAME=PATH is required");
        }
        if (guests.isEmpty())
        {
            throw new IllegalArgumentException("at least one --guest NAME is required");
        }
        DataRegionDescriptor.validateSizes(regionSize, windowSize);
        for (final Map.Entry<String, Path> share : shares.entrySet())
        {
            checkName("share", share.getKey());
            if (!Files.isDirectory(share.getValue()))
            {
                throw new IllegalArgumentException(
                    "share " + share.getKey() + ": " + share.getValue() + " is not a directory");
            }
        }
        for (final Map.Entry<String, List<String>> guest : guests.entrySet())
        {
            checkName("guest", guest.getKey());
            for (final String shareName : guest.getValue())
            {
                if (!shares.containsKey(shareName))
                {
                    throw new IllegalArgumentException(
                        "guest " + guest.getKey() + " names unknown share " + shareName);
                }
            }
        }
        if (slotCount < 1 || slotCount > 1024)
        {
            throw new IllegalArgumentException("slot count must be 1..1024: " + slotCount);
        }
        if (fillThreads < 1)
        {
            throw new IllegalArgumentException("fill threads must be at least 1: " + fillThreads);
        }
        if (fillThreadsPerShare < 0 || fillThreadsPerShare > fillThreads)
        {
            throw new IllegalArgumentException("fill threads per share must be 1.." + fillThreads +
                " (the fill threads), or 0 for the default: " + fillThreadsPerShare);
        }
        if (readAheadWindows < 0 || readAheadWindows > 64)
        {
            throw new IllegalArgumentException("read-ahead must be 0..64 windows: " + readAheadWindows);
        }
        if (clientLeaseMs < 100 || brokerLeaseMs < 100)
        {
            throw new IllegalArgumentException("leases must be at least 100 ms");
        }
        return this;
    }

    private static void checkName(final String kind, final String name)
    {
        if (!name.matches("[A-Za-z0-9][A-Za-z0-9_.-]{0,62}"))
        {
            throw new IllegalArgumentException(
                kind + " name must be 1-63 letters, digits, '.', '_' or '-', starting with a letter or digit: " +
                name);
        }
    }
}
