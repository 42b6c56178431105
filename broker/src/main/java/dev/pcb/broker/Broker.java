package dev.pcb.broker;

import dev.pcb.layout.RunDirectory;
import dev.pcb.nativeshim.Linux;
import org.agrona.CloseHelper;
import org.agrona.concurrent.AgentRunner;
import org.agrona.concurrent.BackoffIdleStrategy;
import org.agrona.concurrent.SystemEpochClock;
import org.agrona.concurrent.SystemNanoClock;
import org.agrona.concurrent.UnsafeBuffer;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import static java.lang.System.Logger.Level.INFO;
import static java.lang.System.Logger.Level.WARNING;

/**
 * A running broker: the data region of every share and the control region of every guest in the run directory,
 * one conductor thread serving them, and filler threads reading from disk.
 * <p>
 * Start one with {@link #launch(BrokerConfig)} and stop it with {@link #close()}. Region files are reused, not
 * recreated, when a broker starts again on the same run directory (QEMU keeps the files it attached mapped), as long
 * as they are the broker's own: {@link RunFiles} says what the broker trusts there.
 */
public final class Broker implements AutoCloseable
{
    /** How long the conductor may park when idle: bounds the answer time of the first request after a lull. */
    public static final long MAX_IDLE_PARK_NS = TimeUnit.MICROSECONDS.toNanos(500);

    /**
     * Yields before the conductor starts to park: a few milliseconds. A reader streaming through windows asks again
     * within microseconds to a few hundred microseconds; parking between its requests would add a wake-up (tens of
     * microseconds) to each. After the yields the conductor backs off to {@link #MAX_IDLE_PARK_NS}, so an idle
     * broker costs little CPU.
     */
    public static final int IDLE_YIELDS = 10_000;

    /** System property: {@code true} keeps the conductor polling (backoff only), never sleeping on doorbells. */
    public static final String NO_SLEEP_PROPERTY = "pcb.broker.noSleep";

    private static final System.Logger LOG = System.getLogger("pcb.broker");

    private final BrokerConfig config;
    private final long epoch;
    private final List<Share> shares = new ArrayList<>();
    private final List<GuestControl> guests = new ArrayList<>();
    private final ExecutorService fillers;
    private final ExecutorService metadataWorkers;
    private final List<ExecutorService> closers = new ArrayList<>();
    private final AgentRunner runner;
    private final DoorbellIdleStrategy idle;
    private final BrokerCounters counters;
    private final Thread treeWatcher;
    private IvshmemServer doorbells;
    private volatile boolean closed;

    private Broker(final BrokerConfig config) throws IOException
    {
        this.config = config.validate();
        final SecureRandom random = new SecureRandom();
        this.epoch = Math.max(1, System.currentTimeMillis());
        final RunFiles runFiles = RunFiles.prepare(config.runDir(), config.runGroup());
        // Fills hold read leases; a lease break is signalled with SIGIO, whose default action would kill the broker.
        Linux.ignoreSignal(Linux.SIGIO);

        boolean ok = false;
        try
        {
            final AtomicLong versionIds = new AtomicLong();
            int shareId = 0;
            for (final Map.Entry<String, Path> entry : config.shares().entrySet())
            {
                final Path regionFile = RunDirectory.dataRegionFile(config.runDir(), entry.getKey());
                runFiles.removeUntrustedRegionFile(regionFile);
                final DataRegion region = new DataRegion(
                    regionFile,
                    config.regionSize(),
                    config.windowSize(),
                    random.nextLong() | 1,
                    epoch,
                    entry.getKey());
                if (config.prefault())
                {
                    final long startNs = System.nanoTime();
                    region.prefault();
                    LOG.log(INFO, "share " + entry.getKey() + ": region allocated in " +
                        (System.nanoTime() - startNs) / 1_000_000 + " ms");
                }
                // A link is kept as configured: it is a versioned share, re-read at every flip (docs/versions.md).
                final Path configured = Files.isSymbolicLink(entry.getValue()) ?
                    entry.getValue().toAbsolutePath() : entry.getValue().toRealPath();
                final Share share = new Share(++shareId, entry.getKey(), configured, region,
                    versionIds::incrementAndGet);
                shares.add(share);
                runFiles.regionFileMapped(regionFile, false);
                share.checkLeases(Files.getFileStore(Path.of(share.tree().current().path())).type());
                LOG.log(INFO, "share " + entry.getKey() + " opened: " + (share.tree().isVersioned() ?
                    "versioned, " + configured + " -> " + share.tree().current().path() : configured) + ", " +
                    region.windowCount() + " windows of " + region.windowSize() + " bytes in " + region.file());
            }
            for (final Map.Entry<String, List<String>> entry : config.guests().entrySet())
            {
                final List<Share> given = new ArrayList<>();
                for (final Share share : shares)
                {
                    if (entry.getValue().isEmpty() || entry.getValue().contains(share.name()))
                    {
                        given.add(share);
                    }
                }
                final StringBuilder names = new StringBuilder();
                given.forEach((share) -> names.append(share.name()).append('\n'));
                final Path sharesFile = RunDirectory.guestSharesFile(config.runDir(), entry.getKey());
                runFiles.replace(sharesFile, names.toString());
                final Path controlFile = RunDirectory.controlRegionFile(config.runDir(), entry.getKey());
                runFiles.removeUntrustedRegionFile(controlFile);
                guests.add(new GuestControl(entry.getKey(), controlFile, given, config, epoch, Linux.getpid()));
                runFiles.regionFileMapped(controlFile, true);
            }

            for (final Share share : shares)
            {
                // One thread per share, in order: a close or fstat that waits on a hung share waits only for it.
                final ExecutorService closer = Executors.newSingleThreadExecutor((r) ->
                {
                    final Thread thread = new Thread(r, "pcb-closer-" + share.name());
                    thread.setDaemon(true);
                    return thread;
                });
                closers.add(closer);
                share.closeOn(closer);
            }
            final AtomicInteger fillerIds = new AtomicInteger();
            this.fillers = Executors.newFixedThreadPool(config.fillThreads(), (r) ->
            {
                final Thread thread = new Thread(r, "pcb-filler-" + fillerIds.incrementAndGet());
                thread.setDaemon(true);
                return thread;
            });
            // Threads are made as needed and bounded by the tasks: MetadataWork.IN_FLIGHT_PER_GUEST per guest. A fixed
            // pool would let one hung share take every worker, and with them every guest's OPEN, STAT and LIST.
            final AtomicInteger metadataIds = new AtomicInteger();
            this.metadataWorkers = Executors.newCachedThreadPool((r) ->
            {
                final Thread thread = new Thread(r, "pcb-metadata-" + metadataIds.incrementAndGet());
                thread.setDaemon(true);
                return thread;
            });
            this.counters = BrokerCounters.create(RunDirectory.countersFile(config.runDir()), Linux.getpid(), epoch,
                System.currentTimeMillis(), shares, guests);
            runFiles.hostReadable(RunDirectory.countersFile(config.runDir()));
            final GuestControl[] guestArray = guests.toArray(new GuestControl[0]);
            if (config.doorbell())
            {
                this.doorbells = new IvshmemServer(runFiles, guestArray);
            }
            this.idle = new DoorbellIdleStrategy(guestArray,
                new BackoffIdleStrategy(100, IDLE_YIELDS, 1_000, MAX_IDLE_PARK_NS), SystemNanoClock.INSTANCE,
                !Boolean.getBoolean(NO_SLEEP_PROPERTY), config);
            final TreeWatcher watcher = new TreeWatcher(shares, config.runDir());
            this.treeWatcher = new Thread(watcher::run, "pcb-tree-watcher");
            treeWatcher.setDaemon(true);
            final BrokerConductor conductor = new BrokerConductor(config, epoch, shares, guestArray,
                fillers, metadataWorkers, idle::wake, SystemEpochClock.INSTANCE,
                SystemNanoClock.INSTANCE, counters, watcher);
            this.runner = new AgentRunner(
                idle,
                (ex) -> LOG.log(WARNING, "conductor error", ex),
                null,
                conductor);
            runFiles.replace(RunDirectory.pidFile(config.runDir()), Linux.getpid() + "\n");
            ok = true;
        }
        finally
        {
            if (!ok)
            {
                closeRegions();
            }
        }
    }

    /**
     * Create the regions and start serving.
     *
     * @param config what to serve to whom.
     * @return the running broker.
     * @throws IOException when a region file cannot be created or a share opened.
     */
    public static Broker launch(final BrokerConfig config) throws IOException
    {
        requireBoundsChecks();
        final Broker broker = new Broker(config);
        AgentRunner.startOnThread(broker.runner);
        broker.treeWatcher.start();
        LOG.log(INFO, () -> "broker started: epoch " + broker.epoch + ", " + broker.shares.size() + " share(s), " +
            broker.guests.size() + " guest(s), run dir " + config.runDir());
        return broker;
    }

    /**
     * Refuse to serve without Agrona's bounds checks: every ring and record a guest writes is read through buffers
     * whose checks are the only thing that keeps a hostile length or index inside the guest's own region.
     *
     * @throws IllegalStateException when {@code -Dagrona.disable.bounds.checks=true} turned them off.
     */
    public static void requireBoundsChecks()
    {
        if (!UnsafeBuffer.SHOULD_BOUNDS_CHECK)
        {
            throw new IllegalStateException("refusing to start: -D" + UnsafeBuffer.DISABLE_BOUNDS_CHECKS_PROP_NAME +
                "=true disables Agrona's bounds checks, on which guest isolation rests; remove it");
        }
    }

    /** @return the configuration it runs with. */
    public BrokerConfig config()
    {
        return config;
    }

    /** @return the epoch of this broker instance. */
    public long epoch()
    {
        return epoch;
    }

    /**
     * Region files a guest attaches, data regions first, with their sizes: what QEMU needs.
     *
     * @param guestName a configured guest.
     * @return the files in attach order.
     */
    public List<RegionFile> regionFiles(final String guestName)
    {
        for (final GuestControl guest : guests)
        {
            if (guest.name().equals(guestName))
            {
                final List<RegionFile> files = new ArrayList<>();
                for (final Share share : guest.shares())
                {
                    files.add(new RegionFile(share.region().file(), share.region().regionLength(), true));
                }
                files.add(new RegionFile(guest.file(), guest.regionLength(), false,
                    config.doorbell() ? RunDirectory.doorbellSocketFile(config.runDir(), guestName) : null));
                return files;
            }
        }
        throw new IllegalArgumentException("no such guest: " + guestName);
    }

    /** {@inheritDoc} */
    public void close()
    {
        if (closed)
        {
            return;
        }
        closed = true;
        // A sleeping conductor sees the stop only when it wakes: ring its bell while close waits.
        runner.close(10, (thread) -> idle.wake());
        treeWatcher.interrupt();
        fillers.shutdownNow();
        metadataWorkers.shutdownNow();
        // Closes still queued run before the regions go; exit closes whatever a hung share still holds.
        closers.forEach(ExecutorService::shutdown);
        try
        {
            treeWatcher.join(10_000);
            fillers.awaitTermination(10, TimeUnit.SECONDS);
            metadataWorkers.awaitTermination(10, TimeUnit.SECONDS);
            for (final ExecutorService closer : closers)
            {
                closer.awaitTermination(10, TimeUnit.SECONDS);
            }
        }
        catch (final InterruptedException ex)
        {
            Thread.currentThread().interrupt();
        }
        closeRegions();
        try
        {
            Files.deleteIfExists(RunDirectory.pidFile(config.runDir()));
        }
        catch (final IOException ignore)
        {
            // Best effort: a stale pid file names a process that is gone.
        }
        LOG.log(INFO, () -> "broker stopped: " + counters.snapshot());
    }

    private void closeRegions()
    {
        // Before the regions: its thread wakes their doorbell words.
        CloseHelper.quietClose(doorbells);
        if (null != counters)
        {
            counters.close();
        }
        for (final GuestControl guest : guests)
        {
            CloseHelper.quietClose(guest);
        }
        for (final Share share : shares)
        {
            CloseHelper.quietClose(share);
        }
    }

    /**
     * A region file and how a guest attaches it.
     *
     * @param path           file in the run directory.
     * @param length         bytes, a power of two.
     * @param readOnly       true for data regions.
     * @param doorbellSocket for a control region served to an {@code ivshmem-doorbell} device ({@code --doorbell}):
     *                       the broker's ivshmem server socket; null for {@code ivshmem-plain}.
     */
    public record RegionFile(Path path, long length, boolean readOnly, Path doorbellSocket)
    {
        /**
         * A region attached as {@code ivshmem-plain}.
         *
         * @param path     file in the run directory.
         * @param length   bytes, a power of two.
         * @param readOnly true for data regions.
         */
        public RegionFile(final Path path, final long length, final boolean readOnly)
        {
            this(path, length, readOnly, null);
        }
    }
}
