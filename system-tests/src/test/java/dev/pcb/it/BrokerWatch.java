package dev.pcb.it;

import dev.pcb.layout.CountersSnapshot;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Watches a broker process from the host while a test attacks it: the largest gap between two advances of the
 * conductor's heartbeat in its counters file; and, on demand, the process's resident memory and open descriptors
 * from /proc and its live heap through jcmd.
 */
final class BrokerWatch implements AutoCloseable
{
    /**
     * A heartbeat gap this long means the conductor stalled: it beats every 100 ms, and the bound leaves room for a
     * loaded two-core machine (seen: gaps near 2 s while six builds ran) while a hang is caught long before any
     * client times out.
     */
    static final long STALL_MS = 5_000;

    private static final long SAMPLE_MS = 50;

    private final Path runDir;
    private final Thread thread;
    private volatile boolean running = true;
    private volatile long maxGapMs;
    private volatile long advances;
    private volatile String failure;

    private BrokerWatch(final Path runDir)
    {
        this.runDir = runDir;
        this.thread = new Thread(this::run, "broker-watch");
        this.thread.setDaemon(true);
    }

    /**
     * Start watching the heartbeat of the broker serving a run directory.
     */
    static BrokerWatch start(final Path runDir)
    {
        final BrokerWatch watch = new BrokerWatch(runDir);
        watch.thread.start();
        return watch;
    }

    /**
     * Longest time, in ms, the heartbeat stood still since the watch started (or since {@link #reset()}), counting
     * a stall that is still going on.
     */
    long maxGapMs()
    {
        return maxGapMs;
    }

    /** How many times the heartbeat advanced. */
    long advances()
    {
        return advances;
    }

    /** Why the counters file could not be read, or null. */
    String failure()
    {
        return failure;
    }

    /** Forget the gaps seen so far, for example after a deliberate restart. */
    void reset()
    {
        maxGapMs = 0;
    }

    /** Resident set size of a process in KiB, from {@code /proc/PID/status} VmRSS. */
    static long residentKib(final long pid) throws IOException
    {
        for (final String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "status")))
        {
            if (line.startsWith("VmRSS:"))
            {
                return Long.parseLong(line.replaceAll("[^0-9]", ""));
            }
        }
        throw new IOException("no VmRSS for pid " + pid);
    }

    /**
     * Live heap of a JVM after a full collection, in KiB: {@code jcmd PID GC.run}, then the "used" of
     * {@code GC.heap_info}.
     */
    static long liveHeapKib(final long pid) throws IOException, InterruptedException
    {
        jcmd(pid, "GC.run");
        final Matcher m = Pattern.compile("used (\\d+)K").matcher(jcmd(pid, "GC.heap_info"));
        if (!m.find())
        {
            throw new IOException("no heap size from jcmd " + pid + " GC.heap_info");
        }
        return Long.parseLong(m.group(1));
    }

    private static String jcmd(final long pid, final String command) throws IOException, InterruptedException
    {
        final Process process = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "jcmd").toString(),
            Long.toString(pid), command).redirectErrorStream(true).start();
        final String out = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!process.waitFor(30, TimeUnit.SECONDS) || 0 != process.exitValue())
        {
            process.destroyForcibly();
            throw new IOException("jcmd " + pid + " " + command + " failed: " + out);
        }
        return out;
    }

    /** Open file descriptors of a process, from {@code /proc/PID/fd}. */
    static long openDescriptors(final long pid) throws IOException
    {
        try (Stream<Path> fds = Files.list(Path.of("/proc", Long.toString(pid), "fd")))
        {
            return fds.count();
        }
    }

    private void run()
    {
        long last = -1;
        long lastChangeMs = System.currentTimeMillis();
        while (running)
        {
            final long now = System.currentTimeMillis();
            try
            {
                final long heartbeat = CountersSnapshot.read(runDir).heartbeatTimestampMs();
                if (heartbeat != last)
                {
                    if (last >= 0)
                    {
                        advances++;
                    }
                    last = heartbeat;
                    lastChangeMs = now;
                }
                failure = null;
            }
            catch (final IOException ex)
            {
                // A restarting broker republishes the file; a stall shows as a growing gap all the same.
                failure = ex.toString();
            }
            maxGapMs = Math.max(maxGapMs, now - lastChangeMs);
            try
            {
                Thread.sleep(SAMPLE_MS);
            }
            catch (final InterruptedException ex)
            {
                return;
            }
        }
    }

    /** {@inheritDoc} */
    public void close() throws InterruptedException
    {
        running = false;
        thread.interrupt();
        thread.join(5_000);
    }
}
