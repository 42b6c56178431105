package dev.pcb.cli;

import dev.pcb.broker.Broker;
import dev.pcb.broker.BrokerConfig;
import org.agrona.concurrent.ShutdownSignalBarrier;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.PrintWriter;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * {@code pcb broker}: serve shares to guests until SIGTERM or SIGINT.
 */
@Command(
    name = "broker",
    mixinStandardHelpOptions = true,
    description = {
        "Serve host directories to guests through shared memory, until SIGTERM or SIGINT.",
        "Prints, for each guest, the QEMU arguments that attach its regions."
    })
public final class BrokerCommand implements java.util.concurrent.Callable<Integer>
{
    @Option(names = "--run-dir", required = true, paramLabel = "DIR",
        description = "Directory for the region files, on tmpfs or hugetlbfs (e.g. /dev/shm/pcb).")
    Path runDir;

    @Option(names = "--run-group", paramLabel = "NAME",
        description = "Group that may read the run directory, data regions and counters, and read and write the " +
            "control regions (QEMU's group when it runs as another user; default: the broker's user only).")
    String runGroup;

    @Option(names = "--share", required = true, paramLabel = "NAME=PATH",
        description = "A host directory to serve, as NAME=PATH. Repeat for more shares.")
    Map<String, Path> shares;

    @Option(names = "--guest", required = true, paramLabel = "NAME[:SHARE,...]",
        description = "A guest to serve, with the shares it may read (default: all). Repeat for more guests.")
    List<String> guests;

    @Option(names = "--region-size", paramLabel = "SIZE", converter = Sizes.class,
        description = "Data region size per share, a power of two (default: ${DEFAULT-VALUE}).")
    long regionSize = BrokerConfig.DEFAULT_REGION_SIZE;

    @Option(names = "--window-size", paramLabel = "SIZE", converter = Sizes.class,
        description = "Window size, a power of two from 4k (default: ${DEFAULT-VALUE}).")
    long windowSize = BrokerConfig.DEFAULT_WINDOW_SIZE;

    @Option(names = "--slots", paramLabel = "N",
        description = "Client slots per guest: processes of one guest attached at once (default: ${DEFAULT-VALUE}).")
    int slots = 8;

    @Option(names = "--fill-threads", paramLabel = "N", description = "Threads reading from disk (default: ${DEFAULT-VALUE}).")
    int fillThreads = 2;

    @Option(names = "--fill-threads-per-share", paramLabel = "N",
        description = "Fills of one share run at once, so a share on a hung filesystem leaves filler threads to " +
            "the others; 0: one fewer than --fill-threads with several shares, all with one (default: ${DEFAULT-VALUE}).")
    int fillThreadsPerShare;

    @Option(names = "--read-ahead", paramLabel = "WINDOWS",
        description = "Windows filled ahead of a reader going through a file in order; 0: none " +
            "(default: ${DEFAULT-VALUE}).")
    int readAheadWindows = BrokerConfig.DEFAULT_READ_AHEAD_WINDOWS;

    @Option(names = "--client-lease", paramLabel = "MS",
        description = "Detach a client whose heartbeat stalls this long (default: ${DEFAULT-VALUE} ms).")
    long clientLeaseMs = BrokerConfig.DEFAULT_CLIENT_LEASE_MS;

    @Option(names = "--max-handles", paramLabel = "N",
        description = "Open files per guest, all its processes together (default: ${DEFAULT-VALUE}).")
    int maxHandles = 16384;

    @Option(names = "--max-pins", paramLabel = "N",
        description = "Pinned windows per guest, all its processes together (default: no limit).")
    int maxPins = Integer.MAX_VALUE;

    @Option(names = "--max-request-rate", paramLabel = "N",
        description = "Requests per second per guest (OPEN, STAT, LIST, ACQUIRE; default: no limit).")
    int maxRequestRate;

    @Option(names = "--pack-threshold", paramLabel = "SIZE", converter = Sizes.class,
        description = "Files up to this size share windows (default: half a window; 0: never).")
    long packThreshold = -1;

    @Option(names = "--keep-source-cache",
        description = "Leave the source files in the host page cache after a fill (default: drop, one host copy).")
    boolean keepSourceCache;

    @Option(names = "--prefault",
        description = "Allocate the data regions' memory in full at start, so first fills do not pay for it " +
            "(default: allocate as windows are first filled).")
    boolean prefault;

    @Option(names = "--doorbell",
        description = "Be the ivshmem server of each guest's control region (socket guest-NAME.sock in the run dir): " +
            "pcb qemu-args then attaches it as ivshmem-doorbell, whose doorbell and interrupts replace polling " +
            "(docs/qemu.md). Default: ivshmem-plain.")
    boolean doorbell;

    @Option(names = "--log-level", paramLabel = "LEVEL", description = "INFO (default), WARNING, FINE, ...")
    String logLevel;

    @Option(names = "--metrics-port", paramLabel = "PORT",
        description = "Serve Prometheus metrics at http://ADDRESS:PORT/metrics (0: any free port; default: off).")
    Integer metricsPort;

    @Option(names = "--metrics-address", paramLabel = "ADDRESS",
        description = "Address the metrics endpoint binds (default: ${DEFAULT-VALUE}, this host only).")
    String metricsAddress = "127.0.0.1";

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    /** {@inheritDoc} */
    public Integer call() throws Exception
    {
        if (null != logLevel)
        {
            Logging.level(logLevel);
        }
        final BrokerConfig config = new BrokerConfig()
            .runDir(runDir)
            .runGroup(runGroup)
            .regionSize(regionSize)
            .windowSize(Math.toIntExact(windowSize))
            .slotCount(slots)
            .fillThreads(fillThreads)
            .fillThreadsPerShare(fillThreadsPerShare)
            .readAheadWindows(readAheadWindows)
            .clientLeaseMs(clientLeaseMs)
            .maxHandlesPerGuest(maxHandles)
            .maxPinsPerGuest(maxPins)
            .maxRequestsPerSecondPerGuest(maxRequestRate)
            .dropSourceCache(!keepSourceCache)
            .prefault(prefault)
            .doorbell(doorbell)
            .packThreshold(packThreshold);
        shares.forEach(config::share);
        for (final String guest : guests)
        {
            final int colon = guest.indexOf(':');
            if (colon < 0)
            {
                config.guest(guest);
            }
            else
            {
                config.guest(guest.substring(0, colon), Arrays.asList(guest.substring(colon + 1).split(",")));
            }
        }
        try
        {
            config.validate();
            if (null != metricsPort && (metricsPort < 0 || metricsPort > 65535))
            {
                throw new IllegalArgumentException("--metrics-port must be 0 to 65535, not " + metricsPort);
            }
        }
        catch (final IllegalArgumentException ex)
        {
            throw new CommandLine.ParameterException(spec.commandLine(), ex.getMessage());
        }

        // The barrier's shutdown hook waits for close(), so the broker is closed first and the barrier last.
        try (ShutdownSignalBarrier barrier = new ShutdownSignalBarrier(); Broker broker = Broker.launch(config);
            MetricsServer metrics = null == metricsPort ? null :
                MetricsServer.start(new InetSocketAddress(metricsAddress, metricsPort), runDir))
        {
            final PrintWriter out = spec.commandLine().getOut();
            out.println("pcb broker serving " + config.shares().keySet() + " from " + runDir + " (pid " +
                ProcessHandle.current().pid() + ")");
            for (final String guest : config.guests().keySet())
            {
                out.println();
                out.println("QEMU arguments for guest " + guest + ":");
                out.println("  " + QemuArgsCommand.render(broker.regionFiles(guest)));
            }
            out.println();
            if (null != metrics)
            {
                out.println("metrics: " + metrics.url());
            }
            out.println("ready");
            out.flush();
            barrier.await();
        }
        return 0;
    }
}
