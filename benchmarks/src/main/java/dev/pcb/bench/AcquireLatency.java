package dev.pcb.bench;

import dev.pcb.agent.AgentConfig;
import dev.pcb.agent.PcbFile;
import dev.pcb.agent.WindowView;
import org.HdrHistogram.Histogram;

import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Properties;
import java.util.concurrent.TimeUnit;

/**
 * Latency distribution of acquire/release pairs, with HdrHistogram, against the two-thread ring floor, all in one
 * run of one JVM (the agent) with the broker in another:
 * <ul>
 *     <li><b>ringFloor</b>: the same messages between two threads of this JVM over two bare rings;</li>
 *     <li><b>remotePair</b>: back-to-back acquire/close of a window cached at the broker and not held here:
 *     ACQUIRE round trip, then RELEASE;</li>
 *     <li><b>remotePairAfterIdleNus</b>: the same, but each pair follows N us of local work (a busy wait) during
 *     which the broker has nothing to do, for N in {@link #IDLE_GAPS_US}: from a gap the broker's conductor spins
 *     through to one long enough for it to park. 200 us is what a reader sees that acquires a 2 MiB window, reads
 *     it and moves on to the next;</li>
 *     <li><b>localHeld</b>: acquire/close of a window this process already holds: an atomic increment and
 *     decrement. Per-pair timings are mostly {@code System.nanoTime()} cost; the throughput phase is the
 *     real figure.</li>
 * </ul>
 * Each case runs a warm-up, then a latency phase timing every pair, then a throughput phase counting untimed
 * pairs. Results go to stdout, to a properties file for the suite summary, and to {@code .hgrm} files.
 * <pre>
 * AcquireLatency [--warmup-seconds 2] [--seconds 3] [--out FILE.properties] [--hgrm-dir DIR]
 * </pre>
 */
public final class AcquireLatency
{
    /** Local work between pairs in the idle cases, in microseconds. */
    static final long[] IDLE_GAPS_US = {10, 50, 200};
    private static final long MAX_RECORDABLE_NS = TimeUnit.SECONDS.toNanos(10);

    private final long warmupNs;
    private final long measureNs;
    private final Properties results = new Properties();
    private final Path hgrmDir;

    private AcquireLatency(final long warmupNs, final long measureNs, final Path hgrmDir)
    {
        this.warmupNs = warmupNs;
        this.measureNs = measureNs;
        this.hgrmDir = hgrmDir;
    }

    /**
     * Run every case and print the table.
     *
     * @param args options, see the class comment.
     * @throws Exception when the broker or agent fails.
     */
    public static void main(final String[] args) throws Exception
    {
        double warmupSeconds = 2;
        double seconds = 3;
        Path out = null;
        Path hgrmDir = null;
        for (int i = 0; i < args.length; i++)
        {
            switch (args[i])
            {
                case "--warmup-seconds": warmupSeconds = Double.parseDouble(args[++i]); break;
                case "--seconds": seconds = Double.parseDouble(args[++i]); break;
                case "--out": out = Path.of(args[++i]); break;
                case "--hgrm-dir": hgrmDir = Path.of(args[++i]); break;
                default:
                    System.err.println("usage: AcquireLatency [--warmup-seconds S] [--seconds S] [--out FILE] " +
                        "[--hgrm-dir DIR]");
                    System.exit(2);
            }
        }
        final AcquireLatency harness = new AcquireLatency(
            (long)(warmupSeconds * 1e9), (long)(seconds * 1e9), hgrmDir);
        harness.run();
        if (null != out)
        {
            try (OutputStream stream = Files.newOutputStream(out))
            {
                harness.results.store(stream, "pcb AcquireLatency: latencies in ns, throughput in pairs/s");
            }
        }
        System.exit(0);
    }

    private void run() throws IOException
    {
        System.out.printf(Locale.ROOT, "%nAcquireLatency: warm-up %.1f s, latency and throughput phases %.1f s " +
            "each per case; broker in its own JVM, agent here (pid %d)%n",
            warmupNs / 1e9, measureNs / 1e9, ProcessHandle.current().pid());
        System.out.printf(Locale.ROOT, "%-26s %10s %10s %9s %9s %9s %9s %9s %9s%n",
            "case", "pairs", "pairs/s", "p50 us", "p90 us", "p99 us", "p99.9 us", "p99.99us", "max us");

        try (RingFloor floor = new RingFloor())
        {
            measure("ringFloor", floor::pair, true);
        }

        try (ShareFixture fixture = ShareFixture.start(AcquireLatencyBenchmark.FILE_NAME,
            AcquireLatencyBenchmark.FILE_SIZE, AcquireLatencyBenchmark.REGION_SIZE,
            AcquireLatencyBenchmark.WINDOW_SIZE, false, false, 0))
        {
            final PcbFile file = fixture.file();
            final Pair remote = () -> file.acquire(0).close();
            measure("remotePair", remote, true);
            for (final long gapUs : IDLE_GAPS_US)
            {
                final long gapNs = TimeUnit.MICROSECONDS.toNanos(gapUs);
                measureAfterIdle("remotePairAfterIdle" + gapUs + "us", () ->
                {
                    final long until = System.nanoTime() + gapNs;
                    while (System.nanoTime() - until < 0)
                    {
                        Thread.onSpinWait();
                    }
                }, remote, measureNs / IDLE_GAPS_US.length);
            }

            final WindowView anchor = file.acquire(0);
            try
            {
                measure("localHeld", remote, true);
            }
            finally
            {
                anchor.close();
            }
        }

        try (ShareFixture fixture = ShareFixture.start(AcquireLatencyBenchmark.FILE_NAME,
            AcquireLatencyBenchmark.FILE_SIZE, AcquireLatencyBenchmark.REGION_SIZE,
            AcquireLatencyBenchmark.WINDOW_SIZE, false, false, AgentConfig.DEFAULT_RETAINED_WINDOWS))
        {
            final PcbFile file = fixture.file();
            measure("retainedPair", () -> file.acquire(0).close(), true);
        }
    }

    /**
     * Warm-up, timed phase, then (when asked) an untimed throughput phase.
     */
    private void measure(final String name, final Pair pair, final boolean throughput) throws IOException
    {
        runFor(pair, warmupNs);

        final Histogram histogram = new Histogram(MAX_RECORDABLE_NS, 3);
        final long end = System.nanoTime() + measureNs;
        long now;
        do
        {
            final long start = System.nanoTime();
            pair.run();
            now = System.nanoTime();
            histogram.recordValue(Math.min(now - start, MAX_RECORDABLE_NS));
        }
        while (now - end < 0);

        final double pairsPerSecond = throughput ? runFor(pair, measureNs) : Double.NaN;
        report(name, histogram, pairsPerSecond);
    }

    /**
     * An idle case: work before each pair, only the pair timed; no throughput phase, the gap bounds it. The JIT is
     * warm from the back-to-back case, so a short warm-up suffices.
     */
    private void measureAfterIdle(final String name, final Pair gap, final Pair pair, final long durationNs)
        throws IOException
    {
        final long warmupEnd = System.nanoTime() + Math.min(warmupNs / 4, 250_000_000L);
        while (System.nanoTime() - warmupEnd < 0)
        {
            gap.run();
            pair.run();
        }
        final Histogram histogram = new Histogram(MAX_RECORDABLE_NS, 3);
        final long end = System.nanoTime() + durationNs;
        long now;
        do
        {
            gap.run();
            final long start = System.nanoTime();
            pair.run();
            now = System.nanoTime();
            histogram.recordValue(Math.min(now - start, MAX_RECORDABLE_NS));
        }
        while (now - end < 0);
        report(name, histogram, Double.NaN);
    }

    /**
     * Untimed pairs for a while, checking the clock every 1024 so the clock costs nothing per pair.
     *
     * @return pairs per second.
     */
    private static double runFor(final Pair pair, final long durationNs) throws IOException
    {
        final long start = System.nanoTime();
        final long end = start + durationNs;
        long pairs = 0;
        long now;
        do
        {
            for (int i = 0; i < 1024; i++)
            {
                pair.run();
            }
            pairs += 1024;
            now = System.nanoTime();
        }
        while (now - end < 0);
        return pairs * 1e9 / (now - start);
    }

    private void report(final String name, final Histogram histogram, final double pairsPerSecond)
        throws IOException
    {
        System.out.printf(Locale.ROOT, "%-26s %10d %10s %9.2f %9.2f %9.2f %9.2f %9.2f %9.2f%n",
            name,
            histogram.getTotalCount(),
            Double.isNaN(pairsPerSecond) ? "-" : String.format(Locale.ROOT, "%.0f", pairsPerSecond),
            histogram.getValueAtPercentile(50) / 1e3,
            histogram.getValueAtPercentile(90) / 1e3,
            histogram.getValueAtPercentile(99) / 1e3,
            histogram.getValueAtPercentile(99.9) / 1e3,
            histogram.getValueAtPercentile(99.99) / 1e3,
            histogram.getMaxValue() / 1e3);
        results.setProperty(name + ".count", Long.toString(histogram.getTotalCount()));
        results.setProperty(name + ".p50Ns", Long.toString(histogram.getValueAtPercentile(50)));
        results.setProperty(name + ".p90Ns", Long.toString(histogram.getValueAtPercentile(90)));
        results.setProperty(name + ".p99Ns", Long.toString(histogram.getValueAtPercentile(99)));
        results.setProperty(name + ".p999Ns", Long.toString(histogram.getValueAtPercentile(99.9)));
        results.setProperty(name + ".p9999Ns", Long.toString(histogram.getValueAtPercentile(99.99)));
        results.setProperty(name + ".maxNs", Long.toString(histogram.getMaxValue()));
        results.setProperty(name + ".meanNs", String.format(Locale.ROOT, "%.1f", histogram.getMean()));
        if (!Double.isNaN(pairsPerSecond))
        {
            results.setProperty(name + ".pairsPerSecond", String.format(Locale.ROOT, "%.0f", pairsPerSecond));
        }
        if (null != hgrmDir)
        {
            Files.createDirectories(hgrmDir);
            try (PrintStream out = new PrintStream(Files.newOutputStream(hgrmDir.resolve(name + ".hgrm"))))
            {
                // Values in microseconds, as HdrHistogram's plotter expects with a scaling ratio of 1000 from ns.
                histogram.outputPercentileDistribution(out, 1000.0);
            }
        }
    }

    /** One acquire/release pair, or one unit of local work. */
    @FunctionalInterface
    interface Pair
    {
        void run() throws IOException;
    }
}
