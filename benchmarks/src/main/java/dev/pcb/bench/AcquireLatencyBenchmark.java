package dev.pcb.bench;

import dev.pcb.agent.AgentConfig;
import dev.pcb.agent.PcbFile;
import dev.pcb.agent.WindowView;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.io.IOException;
import java.util.concurrent.TimeUnit;

/**
 * Average cost of one acquire/release pair, three ways, in one run:
 * <ul>
 *     <li><b>remotePair</b>: a window cached at the broker and not held here: {@code acquire} sends ACQUIRE to the
 *     broker (another process) and waits for ACQUIRED, {@code close} sends RELEASE;</li>
 *     <li><b>localPair</b>: a window this process already holds: an atomic increment and decrement, no message;</li>
 *     <li><b>ringFloorPair</b>: the same messages between two threads of one JVM over two bare
 *     {@code OneToOneRingBuffer}s: what the remote pair could approach.</li>
 * </ul>
 * Run with {@code -prof gc} to see allocation per pair. Percentiles are measured by the {@link AcquireLatency}
 * harness. Not final: JMH generates subclasses of benchmark and state classes.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(1)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class AcquireLatencyBenchmark
{
    static final String FILE_NAME = "acquire-8m.bin";
    static final int FILE_SIZE = 8 * 1024 * 1024;
    static final int WINDOW_SIZE = 2 * 1024 * 1024;
    static final long REGION_SIZE = 32L * 1024 * 1024;

    /** A broker in another process with the file's windows cached, none held or retained here. */
    @State(Scope.Benchmark)
    public static class Remote extends FixtureState
    {
        ShareFixture start() throws IOException
        {
            return ShareFixture.start(FILE_NAME, FILE_SIZE, REGION_SIZE, WINDOW_SIZE, false, false, 0);
        }
    }

    /** As {@link Remote}, but the agent retains the windows after their last close (its default). */
    @State(Scope.Benchmark)
    public static class Retained extends FixtureState
    {
        ShareFixture start() throws IOException
        {
            return ShareFixture.start(FILE_NAME, FILE_SIZE, REGION_SIZE, WINDOW_SIZE, false, false,
                AgentConfig.DEFAULT_RETAINED_WINDOWS);
        }
    }

    /** As {@link Remote}, but this process holds every window. */
    @State(Scope.Benchmark)
    public static class Local extends FixtureState
    {
        ShareFixture start() throws IOException
        {
            return ShareFixture.start(FILE_NAME, FILE_SIZE, REGION_SIZE, WINDOW_SIZE, true, false, 0);
        }
    }

    /** Two threads of this JVM and two bare rings. */
    @State(Scope.Benchmark)
    public static class Floor
    {
        RingFloor floor;

        /** Start the responder thread. */
        @Setup
        public void setup()
        {
            floor = new RingFloor();
        }

        /** Stop it. */
        @TearDown
        public void tearDown()
        {
            floor.close();
        }
    }

    /**
     * Acquire and release a window cached at the broker: ACQUIRE round trip plus RELEASE.
     *
     * @param state the fixture.
     * @return the view's length, consumed so the pair cannot be elided.
     * @throws IOException when the broker refuses.
     */
    @Benchmark
    public int remotePair(final Remote state) throws IOException
    {
        return pair(state.file);
    }

    /**
     * Acquire and release a window this process retains: the pin is taken back from the table and put there again,
     * no message.
     *
     * @param state the fixture.
     * @return the view's length.
     * @throws IOException when the broker refuses (only if it took the pin back).
     */
    @Benchmark
    public int retainedPair(final Retained state) throws IOException
    {
        return pair(state.file);
    }

    /**
     * Acquire and release a window this process holds.
     *
     * @param state the fixture.
     * @return the view's length.
     * @throws IOException never: no message is sent.
     */
    @Benchmark
    public int localPair(final Local state) throws IOException
    {
        return pair(state.file);
    }

    private static int pair(final PcbFile file) throws IOException
    {
        final WindowView view = file.acquire(0);
        final int length = view.length();
        view.close();
        return length;
    }

    /**
     * The same exchange over two bare rings between two threads.
     *
     * @param state the rings.
     */
    @Benchmark
    public void ringFloorPair(final Floor state)
    {
        state.floor.pair();
    }
}
