package dev.pcb.bench;

import dev.pcb.agent.AgentConfig;
import dev.pcb.agent.PcbFile;
import dev.pcb.agent.WindowView;
import dev.pcb.testsupport.BrokerProcess;
import org.agrona.concurrent.UnsafeBuffer;

import java.io.IOException;
import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

import static dev.pcb.bench.ReadThroughputBenchmark.FILE_NAME;
import static dev.pcb.bench.ReadThroughputBenchmark.FILE_SIZE;
import static dev.pcb.bench.ReadThroughputBenchmark.PAGE;
import static dev.pcb.bench.ReadThroughputBenchmark.PAGES;
import static dev.pcb.bench.ReadThroughputBenchmark.PAGES_MASK;
import static dev.pcb.bench.ReadThroughputBenchmark.REGION_SIZE;
import static dev.pcb.bench.ReadThroughputBenchmark.WINDOW_SHIFT;
import static dev.pcb.bench.ReadThroughputBenchmark.WINDOW_SIZE;

/**
 * The headline ratios with the compared cases interleaved round by round in one process, so that whatever else the
 * machine does (other people's builds, CPU frequency, page-cache state) hits both sides of a ratio alike:
 * <ul>
 *     <li>one broker in its own process, one 256 MiB file, every window filled; in this JVM three agents on it:
 *     one that retains closed windows (the default: "views"), one that retains none (every acquire a round trip:
 *     "views, retaining off"), and one that holds every window ("views held"); the raw ceiling reads the retaining
 *     agent's mapping directly ({@link #rawOf}). So every view variant and the raw reads read <b>the same physical
 *     pages</b>, which separate JMH forks (each its own broker and region) cannot;</li>
 *     <li>the same variants as {@link ReadThroughputBenchmark} (sequential passes over the file and random 4 KiB
 *     pages, the same {@link Consumer#sum} loop, {@code FileChannel.read} of the warm source as the baseline), and
 *     the acquire pairs of {@link AcquireLatency} (remote, retained, the in-JVM ring floor);</li>
 *     <li>a warm-up, then rounds: in each round every case of a group runs the same number of passes, in an
 *     order that rotates by one and reverses every other round (so no case always runs first or after the same
 *     one), and counts with its best pass ({@link #measure}); each ratio is taken within one round, and the median,
 *     interquartile range and min-max of the per-round ratios are reported, with the CPU other processes used and
 *     the GC count of each round.</li>
 * </ul>
 * Sequential passes are checked against the file's checksum every time.
 * <pre>
 * InterleavedRatios [--rounds 48] [--warmup-rounds 5] [--chunk 262144] [--out DIR]
 * </pre>
 * Writes {@code ratios.md} (the summary table and every round) and {@code ratios.properties} into DIR.
 */
public final class InterleavedRatios
{
    /** Passes of a sequential case per round: one reads the whole 256 MiB file, 12-25 ms of CPU. */
    private static final int SEQ_PASSES = 2;
    /** Passes of a random or acquire case per round: one is {@link #RANDOM_READS} reads of 4 KiB, or 100 pairs. */
    private static final int SHORT_PASSES = 20;
    /**
     * Reads of a random pass: 4 MiB, 1.5-3 ms of CPU. JMH's 256 reads (0.4 ms) left a single round's random ratios
     * spread over 75-117% on a quiet machine, and 24 such rounds moved the median by 9 points between runs.
     */
    private static final int RANDOM_READS = 4 * ReadThroughputBenchmark.RANDOM_READS;
    private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();
    /** Keeps every sum live. */
    private static volatile long sink;

    private final int rounds;
    private final int warmupRounds;
    private final int chunk;

    private InterleavedRatios(final int rounds, final int warmupRounds, final int chunk)
    {
        this.rounds = rounds;
        this.warmupRounds = warmupRounds;
        this.chunk = chunk;
    }

    /**
     * Run the rounds and print the table.
     *
     * @param args options, see the class comment.
     * @throws Exception when the broker or an agent fails.
     */
    public static void main(final String[] args) throws Exception
    {
        int rounds = 48;
        int warmup = 5;
        int chunk = 256 * 1024;
        Path out = null;
        for (int i = 0; i < args.length; i++)
        {
            switch (args[i])
            {
                case "--rounds" -> rounds = Integer.parseInt(args[++i]);
                case "--warmup-rounds" -> warmup = Integer.parseInt(args[++i]);
                case "--chunk" -> chunk = Integer.parseInt(args[++i]);
                case "--out" -> out = Path.of(args[++i]);
                default ->
                {
                    System.err.println("usage: InterleavedRatios [--rounds N] [--warmup-rounds N] [--chunk BYTES] " +
                        "[--out DIR]");
                    System.exit(2);
                }
            }
        }
        final String report = new InterleavedRatios(rounds, warmup, chunk).run();
        if (null != out)
        {
            Files.createDirectories(out);
            Files.writeString(out.resolve("ratios.md"), report, StandardCharsets.UTF_8);
        }
        System.exit(0);
    }

    // ---------------------------------------------------------------- cases

    /** One pass of a case: reads (or pairs) done, returning a sum to keep them live. */
    @FunctionalInterface
    interface Pass
    {
        long run() throws IOException;

        /** Before the case's passes in a round, untimed. */
        default void begin()
        {
        }

        /** After the case's passes in a round, untimed. */
        default void end()
        {
        }
    }

    /**
     * A measured case.
     *
     * @param name     its name in the tables.
     * @param pass     one pass.
     * @param units    bytes (reads) or pairs (acquire) per pass.
     * @param passes   passes per round.
     * @param checksum the sum every pass must return, or null when passes differ.
     * @param perPair  true: report ns per unit (lower is better); false: MB/s.
     */
    record Case(String name, Pass pass, long units, int passes, Long checksum, boolean perPair)
    {
    }

    /**
     * A ratio of two cases of one group, taken in every round.
     *
     * @param what        the label.
     * @param numerator   case name.
     * @param denominator case name.
     * @param percent     print as percent, else as a factor.
     * @param target      the target as the docs state it, or "".
     */
    record Ratio(String what, String numerator, String denominator, boolean percent, String target)
    {
    }

    private String run() throws IOException
    {
        final StringBuilder md = new StringBuilder();
        final String loadBefore = CpuTicks.loadAverage();
        try (BrokerProcess broker = ShareFixture.startBroker(REGION_SIZE, WINDOW_SIZE);
            ShareFixture retaining = ShareFixture.attach(broker, FILE_NAME, FILE_SIZE, false, false,
                AgentConfig.DEFAULT_RETAINED_WINDOWS);
            ShareFixture roundTrip = ShareFixture.attach(broker, FILE_NAME, FILE_SIZE, false, false, 0);
            ShareFixture held = ShareFixture.attach(broker, FILE_NAME, FILE_SIZE, true, false, 0);
            FileChannel source = ReadThroughputBenchmark.openWarm())
        {
            final long checksum = held.checksum();
            final UnsafeBuffer[] raw = rawOf(retaining.file(), checksum);
            final List<List<Case>> groups = List.of(
                sequentialCases(retaining.file(), roundTrip.file(), held, raw, source, checksum),
                randomCases(retaining.file(), roundTrip.file(), held, raw, source),
                acquireCases(retaining.file(), roundTrip.file()));
            final List<Ratio> ratios = ratios();
            final List<String> names = new ArrayList<>();
            groups.forEach((g) -> g.forEach((c) -> names.add(c.name())));

            System.out.printf(Locale.ROOT, "%nInterleavedRatios: %d warm-up + %d rounds, %d cases, each its best of " +
                "%d (sequential) or %d passes per round; broker pid %d, agents here (pid %d)%n", warmupRounds, rounds,
                names.size(), SEQ_PASSES, SHORT_PASSES, broker.pid(), ProcessHandle.current().pid());
            for (int r = 0; r < warmupRounds; r++)
            {
                round(groups, r, null);
            }

            final double[][] values = new double[names.size()][rounds];
            final double[] foreign = new double[rounds];
            final long[] gcs = new long[rounds];
            final CpuTicks.Window all = new CpuTicks.Window(ProcessHandle.current().pid(), broker.pid());
            for (int r = 0; r < rounds; r++)
            {
                final CpuTicks.Window window = new CpuTicks.Window(ProcessHandle.current().pid(), broker.pid());
                final long gcBefore = gcCount();
                final double[] round = new double[names.size()];
                round(groups, r, round);
                for (int c = 0; c < round.length; c++)
                {
                    values[c][r] = round[c];
                }
                foreign[r] = window.foreignPercent();
                gcs[r] = gcCount() - gcBefore;
                System.out.printf(Locale.ROOT, "round %2d: %s; foreign CPU %.0f%%, GCs %d%n", r + 1,
                    roundLine(ratios, names, round), foreign[r], gcs[r]);
            }

            md.append(String.format(Locale.ROOT, "Interleaved rounds: %d warm-up + %d measured, each case its " +
                "best of %d (sequential) or %d passes per round, FileChannel chunk %d KiB; load average before %s, after %s; " +
                "foreign CPU %.0f%% of one core (per round %s) over the rounds (%.0f s); GCs in the rounds: %d%n%n",
                warmupRounds, rounds, SEQ_PASSES, SHORT_PASSES, chunk / 1024, loadBefore, CpuTicks.loadAverage(),
                all.foreignPercent(), Spread.of(foreign).cells(1, "%.0f%%").replace(" | ", ", "), all.seconds(),
                Arrays.stream(gcs).sum()));
            md.append("| ratio (per round) | median | IQR | min - max | target |\n|---|---:|---:|---:|---|\n");
            for (final Ratio ratio : ratios)
            {
                final Spread spread = Spread.of(perRound(ratio, names, values));
                md.append("| ").append(ratio.what()).append(" | ")
                    .append(spread.cells(ratio.percent() ? 100 : 1, ratio.percent() ? "%.1f%%" : "%.2fx"))
                    .append(" | ").append(ratio.target()).append(" |\n");
            }
            md.append("\n| case | median | IQR | min - max |\n|---|---:|---:|---:|\n");
            for (int c = 0; c < names.size(); c++)
            {
                final boolean perPair = caseOf(groups, names.get(c)).perPair();
                md.append("| ").append(names.get(c)).append(perPair ? ", ns/pair" : ", MB/s").append(" | ")
                    .append(Spread.of(values[c]).cells(1, perPair ? "%.1f" : "%.0f")).append(" |\n");
            }
            md.append("\nPer round (ratios in the order of the first table; foreign CPU in % of one core):\n\n```\n");
            for (int r = 0; r < rounds; r++)
            {
                final double[] round = new double[names.size()];
                for (int c = 0; c < round.length; c++)
                {
                    round[c] = values[c][r];
                }
                md.append(String.format(Locale.ROOT, "%2d %s foreign %.0f%% gc %d%n", r + 1,
                    roundLine(ratios, names, round), foreign[r], gcs[r]));
            }
            md.append("```\n");
        }
        System.out.println();
        System.out.println(md);
        return md.toString();
    }

    private static Case caseOf(final List<List<Case>> groups, final String name)
    {
        for (final List<Case> group : groups)
        {
            for (final Case c : group)
            {
                if (c.name().equals(name))
                {
                    return c;
                }
            }
        }
        throw new IllegalArgumentException(name);
    }

    private static List<Ratio> ratios()
    {
        return List.of(
            new Ratio("sequential: views / raw mapping", "seqViews", "seqRawMapping", true, ">= 95%"),
            new Ratio("sequential: views, retaining off / raw mapping", "seqViewsRoundTrip", "seqRawMapping", true,
                ""),
            new Ratio("sequential: views held / raw mapping", "seqViewsHeld", "seqRawMapping", true, ">= 95%"),
            new Ratio("sequential: views / FileChannel.read", "seqViews", "seqFileChannel", false, ">= 2x"),
            new Ratio("sequential: raw mapping / FileChannel.read", "seqRawMapping", "seqFileChannel", false,
                "(the most a view can reach)"),
            new Ratio("random 4 KiB: views / raw mapping", "random4kViews", "random4kRawMapping", true, ">= 95%"),
            new Ratio("random 4 KiB: views, retaining off / raw mapping", "random4kViewsRoundTrip",
                "random4kRawMapping", true, ""),
            new Ratio("random 4 KiB: views held / raw mapping", "random4kViewsHeld", "random4kRawMapping", true,
                ">= 95%"),
            new Ratio("random 4 KiB: views / FileChannel.read", "random4kViews", "random4kFileChannel", false,
                ">= 2x"),
            new Ratio("random 4 KiB: raw mapping / FileChannel.read", "random4kRawMapping", "random4kFileChannel",
                false, ""),
            new Ratio("acquire+release: remote pair / ring floor (ns per pair)", "remotePair", "ringFloorPair", false,
                ""),
            new Ratio("acquire+release: retained pair / remote pair (ns per pair)", "retainedPair", "remotePair",
                true, ""));
    }

    private static double[] perRound(final Ratio ratio, final List<String> names, final double[][] values)
    {
        final double[] a = values[names.indexOf(ratio.numerator())];
        final double[] b = values[names.indexOf(ratio.denominator())];
        final double[] r = new double[a.length];
        for (int i = 0; i < r.length; i++)
        {
            r[i] = a[i] / b[i];
        }
        return r;
    }

    private static String roundLine(final List<Ratio> ratios, final List<String> names, final double[] round)
    {
        final StringBuilder sb = new StringBuilder();
        for (final Ratio ratio : ratios)
        {
            final double v = round[names.indexOf(ratio.numerator())] / round[names.indexOf(ratio.denominator())];
            sb.append(ratio.percent() ? String.format(Locale.ROOT, "%6.1f%%", 100 * v) :
                String.format(Locale.ROOT, "%6.2fx", v));
        }
        return sb.toString();
    }

    /**
     * One round: each group's cases in turn, the order rotated by the round number and reversed every other round.
     * Each case's result (MB/s or ns per pair) goes to {@code results} in the order of the groups' lists.
     */
    private static void round(final List<List<Case>> groups, final int r, final double[] results) throws IOException
    {
        int base = 0;
        for (final List<Case> group : groups)
        {
            final int n = group.size();
            for (int k = 0; k < n; k++)
            {
                final int rotated = (k + r) % n;
                final int index = 0 == (r & 1) ? rotated : n - 1 - rotated;
                final double value = measure(group.get(index));
                if (null != results)
                {
                    results[base + index] = value;
                }
            }
            base += n;
        }
    }

    /**
     * A case's value in one round: its best pass of {@link Case#passes()}, every case the same number of passes so
     * each has the same chances. A read pass is timed by this thread's CPU time (user and system, so the
     * {@code pread} of the baseline counts): on a 2-core machine shared with other people's builds most passes of
     * 12-100 ms lose the core to another process's thread at least once, and wall time then measures the neighbours
     * rather than the code. A pair pass (100 pairs, tens of microseconds) is timed by wall time, because an agent
     * waiting for the broker may park and a parked thread uses no CPU; the best of 20 such short passes is
     * usually one no other process interrupted.
     */
    private static double measure(final Case c) throws IOException
    {
        long best = Long.MAX_VALUE;
        long sum = 0;
        c.pass().begin();
        for (int p = 0; p < c.passes(); p++)
        {
            final long start = c.perPair() ? System.nanoTime() : THREADS.getCurrentThreadCpuTime();
            final long passSum = c.pass().run();
            final long ns = (c.perPair() ? System.nanoTime() : THREADS.getCurrentThreadCpuTime()) - start;
            if (null != c.checksum() && passSum != c.checksum())
            {
                throw new IllegalStateException(c.name() + " read a sum of " + passSum + ", not " + c.checksum());
            }
            sum += passSum;
            best = Math.min(best, ns);
        }
        c.pass().end();
        sink += sum;
        return c.perPair() ? (double)best / c.units() : c.units() * 1e3 / best;
    }

    private static long gcCount()
    {
        long count = 0;
        for (final GarbageCollectorMXBean gc : ManagementFactory.getGarbageCollectorMXBeans())
        {
            count += Math.max(0, gc.getCollectionCount());
        }
        return count;
    }

    // ---------------------------------------------------------------- sequential

    /**
     * The raw ceiling: each window's bytes at the address the retaining agent's views read them, so the views and the
     * raw reads go through one mapping and its page tables and differ only by the API (acquire, bounds, close). With
     * a mapping of its own (until 916eff3) a random 4 KiB read's page walk was other work than the views', and the
     * random views / raw medians of three quiet runs spread over 5.7 points. The retaining agent keeps every window
     * pinned (the region holds the whole file), so these stay valid while it is attached.
     */
    private static UnsafeBuffer[] rawOf(final PcbFile file, final long checksum) throws IOException
    {
        final UnsafeBuffer[] raw = new UnsafeBuffer[(int)file.windowCount()];
        long sum = 0;
        for (int w = 0; w < raw.length; w++)
        {
            try (WindowView view = file.acquire(w))
            {
                raw[w] = new UnsafeBuffer(view.buffer().addressOffset(), view.length());
            }
            sum += Consumer.sum(raw[w], 0, raw[w].capacity());
        }
        if (sum != checksum)
        {
            throw new IllegalStateException("the raw windows read a sum of " + sum + ", not " + checksum);
        }
        return raw;
    }

    private List<Case> sequentialCases(
        final PcbFile retaining, final PcbFile roundTrip, final ShareFixture held, final UnsafeBuffer[] raw,
        final FileChannel source, final long checksum)
    {
        final ByteBuffer buffer = ByteBuffer.allocateDirect(chunk);
        final UnsafeBuffer bufferView = new UnsafeBuffer(buffer);
        return List.of(
            new Case("seqViews", () -> sequentialViews(retaining), FILE_SIZE, SEQ_PASSES, checksum, false),
            new Case("seqViewsRoundTrip", () -> sequentialViewsRoundTrip(roundTrip),
                FILE_SIZE, SEQ_PASSES, checksum, false),
            new Case("seqViewsHeld", () -> sequentialViewsHeld(held.file()), FILE_SIZE, SEQ_PASSES, checksum, false),
            new Case("seqRawMapping", () -> sequentialRaw(raw), FILE_SIZE, SEQ_PASSES, checksum, false),
            new Case("seqFileChannel", () -> sequentialFile(source, buffer, bufferView),
                FILE_SIZE, SEQ_PASSES, checksum, false));
    }

    // Three copies of one loop on purpose: each case gets its own compiled loop and its own type profile, as each
    // JMH benchmark does, so no case's profile (a round trip on every acquire, say) shapes another's code.

    private static long sequentialViews(final PcbFile file) throws IOException
    {
        long sum = 0;
        for (long w = 0, n = file.windowCount(); w < n; w++)
        {
            final WindowView view = file.acquire(w);
            try
            {
                sum += Consumer.sum(view.buffer(), 0, view.length());
            }
            finally
            {
                view.close();
            }
        }
        return sum;
    }

    private static long sequentialViewsRoundTrip(final PcbFile file) throws IOException
    {
        long sum = 0;
        for (long w = 0, n = file.windowCount(); w < n; w++)
        {
            final WindowView view = file.acquire(w);
            try
            {
                sum += Consumer.sum(view.buffer(), 0, view.length());
            }
            finally
            {
                view.close();
            }
        }
        return sum;
    }

    private static long sequentialViewsHeld(final PcbFile file) throws IOException
    {
        long sum = 0;
        for (long w = 0, n = file.windowCount(); w < n; w++)
        {
            final WindowView view = file.acquire(w);
            try
            {
                sum += Consumer.sum(view.buffer(), 0, view.length());
            }
            finally
            {
                view.close();
            }
        }
        return sum;
    }

    private static long sequentialRaw(final UnsafeBuffer[] windows)
    {
        long sum = 0;
        for (final UnsafeBuffer window : windows)
        {
            sum += Consumer.sum(window, 0, window.capacity());
        }
        return sum;
    }

    private static long sequentialFile(final FileChannel channel, final ByteBuffer buffer, final UnsafeBuffer view)
        throws IOException
    {
        long sum = 0;
        long position = 0;
        while (position < FILE_SIZE)
        {
            buffer.clear();
            final int n = channel.read(buffer, position);
            if (n <= 0)
            {
                throw new IllegalStateException("short read at " + position);
            }
            sum += Consumer.sum(view, 0, n);
            position += n;
        }
        return sum;
    }

    // ---------------------------------------------------------------- random 4 KiB

    /** Where a random case is in the shared page sequence; each case walks it on its own. */
    private static final class Cursor
    {
        int next;
    }

    private static List<Case> randomCases(
        final PcbFile retaining, final PcbFile roundTrip, final ShareFixture held, final UnsafeBuffer[] raw,
        final FileChannel source)
    {
        final ByteBuffer page = ByteBuffer.allocateDirect(PAGE);
        final UnsafeBuffer pageView = new UnsafeBuffer(page);
        final Cursor views = new Cursor();
        final Cursor trips = new Cursor();
        final Cursor holds = new Cursor();
        final Cursor raws = new Cursor();
        final Cursor files = new Cursor();
        final long bytes = (long)RANDOM_READS * PAGE;
        return List.of(
            new Case("random4kViews", () -> randomViews(retaining, views), bytes, SHORT_PASSES, null, false),
            new Case("random4kViewsRoundTrip", () -> randomViewsRoundTrip(roundTrip, trips),
                bytes, SHORT_PASSES, null, false),
            new Case("random4kViewsHeld", () -> randomViewsHeld(held.file(), holds), bytes, SHORT_PASSES, null, false),
            new Case("random4kRawMapping", () -> randomRaw(raw, raws), bytes, SHORT_PASSES, null, false),
            new Case("random4kFileChannel", () -> randomFile(source, page, pageView, files),
                bytes, SHORT_PASSES, null, false));
    }

    private static long randomViews(final PcbFile file, final Cursor cursor) throws IOException
    {
        long sum = 0;
        for (int i = 0; i < RANDOM_READS; i++)
        {
            final long position = (long)PAGES[cursor.next++ & PAGES_MASK] * PAGE;
            final WindowView view = file.acquire(position >>> WINDOW_SHIFT);
            try
            {
                sum += Consumer.sum(view.buffer(), (int)(position & (WINDOW_SIZE - 1)), PAGE);
            }
            finally
            {
                view.close();
            }
        }
        return sum;
    }

    private static long randomViewsRoundTrip(final PcbFile file, final Cursor cursor) throws IOException
    {
        long sum = 0;
        for (int i = 0; i < RANDOM_READS; i++)
        {
            final long position = (long)PAGES[cursor.next++ & PAGES_MASK] * PAGE;
            final WindowView view = file.acquire(position >>> WINDOW_SHIFT);
            try
            {
                sum += Consumer.sum(view.buffer(), (int)(position & (WINDOW_SIZE - 1)), PAGE);
            }
            finally
            {
                view.close();
            }
        }
        return sum;
    }

    private static long randomViewsHeld(final PcbFile file, final Cursor cursor) throws IOException
    {
        long sum = 0;
        for (int i = 0; i < RANDOM_READS; i++)
        {
            final long position = (long)PAGES[cursor.next++ & PAGES_MASK] * PAGE;
            final WindowView view = file.acquire(position >>> WINDOW_SHIFT);
            try
            {
                sum += Consumer.sum(view.buffer(), (int)(position & (WINDOW_SIZE - 1)), PAGE);
            }
            finally
            {
                view.close();
            }
        }
        return sum;
    }

    private static long randomRaw(final UnsafeBuffer[] windows, final Cursor cursor)
    {
        long sum = 0;
        for (int i = 0; i < RANDOM_READS; i++)
        {
            final long position = (long)PAGES[cursor.next++ & PAGES_MASK] * PAGE;
            sum += Consumer.sum(windows[(int)(position >>> WINDOW_SHIFT)], (int)(position & (WINDOW_SIZE - 1)), PAGE);
        }
        return sum;
    }

    private static long randomFile(
        final FileChannel channel, final ByteBuffer page, final UnsafeBuffer pageView, final Cursor cursor)
        throws IOException
    {
        long sum = 0;
        for (int i = 0; i < RANDOM_READS; i++)
        {
            final long position = (long)PAGES[cursor.next++ & PAGES_MASK] * PAGE;
            page.clear();
            while (page.hasRemaining())
            {
                if (channel.read(page, position + page.position()) <= 0)
                {
                    throw new IllegalStateException("short read at " + position);
                }
            }
            sum += Consumer.sum(pageView, 0, PAGE);
        }
        return sum;
    }

    // ---------------------------------------------------------------- acquire pairs

    private static final int PAIRS_PER_PASS = 100;
    /** Pairs each new ring floor runs untimed first: its responder thread has to be started and spinning. */
    private static final int FLOOR_WARM_PAIRS = 20_000;

    private static List<Case> acquireCases(final PcbFile retaining, final PcbFile roundTrip)
    {
        return List.of(
            new Case("remotePair", () -> pairs(roundTrip), PAIRS_PER_PASS, SHORT_PASSES, null, true),
            new Case("retainedPair", () -> pairs(retaining), PAIRS_PER_PASS, SHORT_PASSES, null, true),
            new Case("ringFloorPair", new FloorPass(), PAIRS_PER_PASS, SHORT_PASSES, null, true));
    }

    private static long pairs(final PcbFile file) throws IOException
    {
        for (int i = 0; i < PAIRS_PER_PASS; i++)
        {
            file.acquire(0).close();
        }
        return 0;
    }

    /**
     * Ring-floor pairs. Its responder thread busy-spins, so it runs only while this case is measured: started and
     * warmed before the case's passes in each round, stopped after them, so it never takes a core from another case.
     */
    private static final class FloorPass implements Pass
    {
        private RingFloor floor;

        @Override
        public void begin()
        {
            floor = new RingFloor();
            for (int i = 0; i < FLOOR_WARM_PAIRS; i++)
            {
                floor.pair();
            }
        }

        @Override
        public long run()
        {
            for (int i = 0; i < PAIRS_PER_PASS; i++)
            {
                floor.pair();
            }
            return 0;
        }

        @Override
        public void end()
        {
            floor.close();
            floor = null;
        }
    }
}
