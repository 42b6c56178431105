package dev.pcb.bench;

import dev.pcb.agent.AgentConfig;
import dev.pcb.agent.PcbFile;
import dev.pcb.agent.WindowView;
import org.agrona.concurrent.UnsafeBuffer;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

/**
 * Read throughput of one warm file three ways, in one run so the ratios are comparable on a noisy machine:
 * <ol>
 *     <li><b>views</b>: the agent's zero-copy window views, {@code acquire(w)} then {@link WindowView#buffer()};
 *     in two states: windows cached at the broker but not held here (each acquire is an ACQUIRE round trip and the
 *     last close a RELEASE), and windows already held by this process (acquire is an atomic increment);</li>
 *     <li><b>rawMapping</b>: the ceiling: the same bytes of the same data region, mapped a second time read-only
 *     and read through plain {@link UnsafeBuffer}s, with no protocol at all;</li>
 *     <li><b>fileChannel</b>: the baseline: {@link FileChannel#read(ByteBuffer, long)} of the source file (warm in
 *     the host page cache) into a reused direct buffer.</li>
 * </ol>
 * Every variant runs the same consumer loop ({@link Consumer#sum}) over every byte it reads. Sequential variants
 * read the whole 256 MiB file per invocation; random variants read {@value #RANDOM_READS} pages of 4 KiB at
 * 4 KiB-aligned offsets from one fixed pseudo-random sequence. Scores are in operations per microsecond with one
 * operation per byte: bytes/us, which is MB/s (10^6 bytes per second).
 * <p>
 * The broker runs in its own JVM (started in each state's setup); this JMH fork is the agent. Not final: JMH
 * generates subclasses of benchmark and state classes.
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Fork(1)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class ReadThroughputBenchmark
{
    /** The file: 128 windows of 2 MiB; bigger than the L3 cache, so reads come from memory. */
    public static final int FILE_SIZE = 256 * 1024 * 1024;
    /** Window size. */
    public static final int WINDOW_SIZE = 2 * 1024 * 1024;
    /** Region size: the file plus the superblock and descriptor table must fit, so twice the file. */
    public static final long REGION_SIZE = 2L * FILE_SIZE;
    /** Size of one random read. */
    public static final int PAGE = 4096;
    /** Random reads per invocation. */
    public static final int RANDOM_READS = 256;
    /** Bytes per random invocation. */
    public static final int RANDOM_BYTES = RANDOM_READS * PAGE;

    static final String FILE_NAME = "read-256m.bin";
    static final int WINDOW_SHIFT = Integer.numberOfTrailingZeros(WINDOW_SIZE);
    static final int PAGES_MASK = (1 << 16) - 1;
    /** The same random page sequence for every variant, so all read the same pages in the same order. */
    static final int[] PAGES = randomPages();

    private static int[] randomPages()
    {
        final SplittableRandom random = new SplittableRandom(42);
        final int[] pages = new int[PAGES_MASK + 1];
        for (int i = 0; i < pages.length; i++)
        {
            pages[i] = random.nextInt(FILE_SIZE / PAGE);
        }
        return pages;
    }

    /**
     * Windows cached at the broker, none held here, and the agent as it comes: it retains closed windows, so an
     * acquire of one read before costs no message.
     */
    @State(Scope.Benchmark)
    public static class CachedViews extends FixtureState
    {
        int cursor;

        ShareFixture start() throws IOException
        {
            return ShareFixture.start(FILE_NAME, FILE_SIZE, REGION_SIZE, WINDOW_SIZE, false, false,
                AgentConfig.DEFAULT_RETAINED_WINDOWS);
        }
    }

    /** Windows cached at the broker, an agent that retains nothing: every acquire is a round trip. */
    @State(Scope.Benchmark)
    public static class RoundTripViews extends FixtureState
    {
        int cursor;

        ShareFixture start() throws IOException
        {
            return ShareFixture.start(FILE_NAME, FILE_SIZE, REGION_SIZE, WINDOW_SIZE, false, false, 0);
        }
    }

    /** Every window held by this process: acquire is the local fast path. */
    @State(Scope.Benchmark)
    public static class HeldViews extends FixtureState
    {
        int cursor;

        ShareFixture start() throws IOException
        {
            return ShareFixture.start(FILE_NAME, FILE_SIZE, REGION_SIZE, WINDOW_SIZE, true, false, 0);
        }
    }

    /** The data region mapped a second time, read-only, with a plain buffer per window. */
    @State(Scope.Benchmark)
    public static class RawMapping extends FixtureState
    {
        UnsafeBuffer[] windows;
        int cursor;

        ShareFixture start() throws IOException
        {
            final ShareFixture started =
                ShareFixture.start(FILE_NAME, FILE_SIZE, REGION_SIZE, WINDOW_SIZE, true, true, 0);
            windows = started.rawWindows();
            return started;
        }
    }

    /** The source file through {@link FileChannel}, warm in the page cache, read in chunks; no broker involved. */
    @State(Scope.Benchmark)
    public static class FileRead
    {
        /** Bytes per read call: 256 KiB fits this machine's 1 MiB L2, the baseline's best case; full mode sweeps. */
        @Param({"262144"})
        int chunk;

        FileChannel channel;
        ByteBuffer buffer;
        UnsafeBuffer bufferView;

        /**
         * Open the file and read it once so it is in the page cache.
         *
         * @throws IOException when it cannot be read.
         */
        @Setup
        public void setup() throws IOException
        {
            channel = openWarm();
            buffer = ByteBuffer.allocateDirect(chunk);
            bufferView = new UnsafeBuffer(buffer);
        }

        /**
         * Close the file.
         *
         * @throws IOException never in practice.
         */
        @TearDown
        public void tearDown() throws IOException
        {
            channel.close();
        }
    }

    /** The source file through {@link FileChannel}, warm in the page cache, read a page at a time. */
    @State(Scope.Benchmark)
    public static class FilePages
    {
        FileChannel channel;
        ByteBuffer page;
        UnsafeBuffer pageView;
        int cursor;

        /**
         * Open the file and read it once so it is in the page cache.
         *
         * @throws IOException when it cannot be read.
         */
        @Setup
        public void setup() throws IOException
        {
            channel = openWarm();
            page = ByteBuffer.allocateDirect(PAGE);
            pageView = new UnsafeBuffer(page);
        }

        /**
         * Close the file.
         *
         * @throws IOException never in practice.
         */
        @TearDown
        public void tearDown() throws IOException
        {
            channel.close();
        }
    }

    static FileChannel openWarm() throws IOException
    {
        final Path source = BenchData.ensureFile(FILE_NAME, FILE_SIZE);
        // One full read puts the file in the page cache: the baseline is measured at its best, warm.
        ShareFixture.fileChecksum(source);
        return FileChannel.open(source, StandardOpenOption.READ);
    }

    /**
     * (a) Views, windows cached but not held: acquire, read, close each window.
     *
     * @param state the fixture.
     * @return the sum.
     * @throws IOException when an acquire fails.
     */
    @Benchmark
    @OperationsPerInvocation(FILE_SIZE)
    public long seqViews(final CachedViews state) throws IOException
    {
        return sequentialViews(state.file);
    }

    /**
     * (a) Views through an agent that retains nothing: an ACQUIRE round trip and a RELEASE per window.
     *
     * @param state the fixture.
     * @return the sum.
     * @throws IOException when an acquire fails.
     */
    @Benchmark
    @OperationsPerInvocation(FILE_SIZE)
    public long seqViewsRoundTrip(final RoundTripViews state) throws IOException
    {
        return sequentialViews(state.file);
    }

    /**
     * (a) Views, windows held by this process: the same code, acquire is the local fast path.
     *
     * @param state the fixture.
     * @return the sum.
     * @throws IOException when an acquire fails.
     */
    @Benchmark
    @OperationsPerInvocation(FILE_SIZE)
    public long seqViewsHeld(final HeldViews state) throws IOException
    {
        return sequentialViews(state.file);
    }

    /**
     * (b) The ceiling: the same window bytes through a raw mapping.
     *
     * @param state the fixture.
     * @return the sum.
     */
    @Benchmark
    @OperationsPerInvocation(FILE_SIZE)
    public long seqRawMapping(final RawMapping state)
    {
        long sum = 0;
        for (final UnsafeBuffer window : state.windows)
        {
            sum += Consumer.sum(window, 0, window.capacity());
        }
        return sum;
    }

    /**
     * (c) The baseline: positional reads of the source file into a reused direct buffer.
     *
     * @param state the file.
     * @return the sum.
     * @throws IOException when a read fails.
     */
    @Benchmark
    @OperationsPerInvocation(FILE_SIZE)
    public long seqFileChannel(final FileRead state) throws IOException
    {
        final ByteBuffer buffer = state.buffer;
        final FileChannel channel = state.channel;
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
            sum += Consumer.sum(state.bufferView, 0, n);
            position += n;
        }
        return sum;
    }

    /**
     * (a) Random 4 KiB reads through views, windows cached, not held, retained by the agent after each read.
     *
     * @param state the fixture.
     * @return the sum.
     * @throws IOException when an acquire fails.
     */
    @Benchmark
    @OperationsPerInvocation(RANDOM_BYTES)
    public long random4kViews(final CachedViews state) throws IOException
    {
        final long sum = randomPages(state.file, state.cursor);
        state.cursor += RANDOM_READS;
        return sum;
    }

    /**
     * (a) Random 4 KiB reads through views, an agent that retains nothing: a round trip per read.
     *
     * @param state the fixture.
     * @return the sum.
     * @throws IOException when an acquire fails.
     */
    @Benchmark
    @OperationsPerInvocation(RANDOM_BYTES)
    public long random4kViewsRoundTrip(final RoundTripViews state) throws IOException
    {
        final long sum = randomPages(state.file, state.cursor);
        state.cursor += RANDOM_READS;
        return sum;
    }

    /**
     * (a) Random 4 KiB reads through views, windows held by this process.
     *
     * @param state the fixture.
     * @return the sum.
     * @throws IOException when an acquire fails.
     */
    @Benchmark
    @OperationsPerInvocation(RANDOM_BYTES)
    public long random4kViewsHeld(final HeldViews state) throws IOException
    {
        final long sum = randomPages(state.file, state.cursor);
        state.cursor += RANDOM_READS;
        return sum;
    }

    /**
     * (b) Random 4 KiB reads through the raw mapping.
     *
     * @param state the fixture.
     * @return the sum.
     */
    @Benchmark
    @OperationsPerInvocation(RANDOM_BYTES)
    public long random4kRawMapping(final RawMapping state)
    {
        final UnsafeBuffer[] windows = state.windows;
        long sum = 0;
        int cursor = state.cursor;
        for (int i = 0; i < RANDOM_READS; i++)
        {
            final long position = (long)PAGES[cursor++ & PAGES_MASK] * PAGE;
            sum += Consumer.sum(windows[(int)(position >>> WINDOW_SHIFT)], (int)(position & (WINDOW_SIZE - 1)), PAGE);
        }
        state.cursor = cursor;
        return sum;
    }

    /**
     * (c) Random 4 KiB positional reads of the source file.
     *
     * @param state the file.
     * @return the sum.
     * @throws IOException when a read fails.
     */
    @Benchmark
    @OperationsPerInvocation(RANDOM_BYTES)
    public long random4kFileChannel(final FilePages state) throws IOException
    {
        final ByteBuffer page = state.page;
        final FileChannel channel = state.channel;
        long sum = 0;
        int cursor = state.cursor;
        for (int i = 0; i < RANDOM_READS; i++)
        {
            final long position = (long)PAGES[cursor++ & PAGES_MASK] * PAGE;
            page.clear();
            while (page.hasRemaining())
            {
                if (channel.read(page, position + page.position()) <= 0)
                {
                    throw new IllegalStateException("short read at " + position);
                }
            }
            sum += Consumer.sum(state.pageView, 0, PAGE);
        }
        state.cursor = cursor;
        return sum;
    }

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

    private static long randomPages(final PcbFile file, final int cursor) throws IOException
    {
        long sum = 0;
        for (int i = 0; i < RANDOM_READS; i++)
        {
            sum += readPage(file, (long)PAGES[(cursor + i) & PAGES_MASK] * PAGE);
        }
        return sum;
    }

    private static long readPage(final PcbFile file, final long position) throws IOException
    {
        final WindowView view = file.acquire(position >>> WINDOW_SHIFT);
        try
        {
            return Consumer.sum(view.buffer(), (int)(position & (WINDOW_SIZE - 1)), PAGE);
        }
        finally
        {
            view.close();
        }
    }
}
