package dev.pcb.agent;

import dev.pcb.broker.Broker;
import dev.pcb.broker.BrokerConfig;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteBuffer;
import java.nio.channels.SeekableByteChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link PcbFile} and {@link RetainedWindows} in-process, against a real broker started in the same JVM through its
 * public entry point on a run directory under /dev/shm: bytes read right, a closed window read again without a
 * message, threads sharing windows, a broker restart under an open file.
 */
@Timeout(120)
class InProcessBrokerTest
{
    private static final int WINDOW = 64 * 1024;
    private static final long REGION = 1024 * 1024;

    @TempDir
    Path shareDir;

    private final Path runDir = Path.of("/dev/shm", "pcb-inproc-" + ProcessHandle.current().pid() + "-" +
        System.nanoTime());
    private final List<AutoCloseable> closeables = new ArrayList<>();
    private Broker broker;

    @AfterEach
    void tearDown() throws Exception
    {
        for (int i = closeables.size() - 1; i >= 0; i--)
        {
            closeables.get(i).close();
        }
        if (null != broker)
        {
            broker.close();
        }
        if (Files.exists(runDir))
        {
            try (Stream<Path> paths = Files.walk(runDir))
            {
                for (final Path p : paths.sorted(Comparator.reverseOrder()).toList())
                {
                    Files.deleteIfExists(p);
                }
            }
        }
    }

    @Test
    void everyFileReadsRightThroughViewsReadsAndChannels() throws Exception
    {
        final PcbAgent agent = startAndAttach(0);
        for (final int size : new int[]{0, 1, WINDOW - 1, WINDOW, WINDOW + 1, 3 * WINDOW + WINDOW / 2})
        {
            final byte[] source = write("f" + size, size);
            try (PcbFile file = agent.open("data/f" + size))
            {
                assertEquals(size, file.size());
                final ByteBuffer all = ByteBuffer.allocate(size);
                assertEquals(size == 0 ? -1 : size, file.read(0, all));
                assertArrayEquals(source, all.array(), "read of " + size);
                try (SeekableByteChannel channel = file.newChannel())
                {
                    final ByteBuffer tail = ByteBuffer.allocate(Math.max(0, size - size / 3));
                    channel.position(size / 3);
                    while (tail.hasRemaining() && channel.read(tail) > 0)
                    {
                        // Crosses windows.
                    }
                    for (int i = 0; i < tail.capacity(); i++)
                    {
                        assertEquals(source[size / 3 + i], tail.get(i), "channel byte " + (size / 3 + i));
                    }
                }
            }
        }
        assertEquals(0, agent.openFileCount());
    }

    @Test
    void aClosedWindowIsReadAgainWithoutAMessage() throws Exception
    {
        final PcbAgent agent = startAndAttach(256);
        final byte[] source = write("four", 4 * WINDOW);
        try (PcbFile file = agent.open("data/four"))
        {
            readAll(file, source);
            final long answers = agent.channel().responses().answers();
            for (int round = 0; round < 50; round++)
            {
                readAll(file, source);
            }
            assertEquals(answers, agent.channel().responses().answers(), "200 reads of retained windows, no message");
        }
    }

    @Test
    void threadsSharingWindowsAskTheBrokerOncePerWindow() throws Exception
    {
        final PcbAgent agent = startAndAttach(256);
        final byte[] source = write("eight", 8 * WINDOW);
        final PcbFile file = agent.open("data/eight");
        closeables.add(file);
        final long before = agent.channel().responses().answers();
        final ExecutorService threads = Executors.newFixedThreadPool(4);
        try
        {
            final List<Future<?>> readers = new ArrayList<>();
            for (int t = 0; t < 4; t++)
            {
                final SplittableRandom random = new SplittableRandom(t);
                readers.add(threads.submit(() ->
                {
                    for (int i = 0; i < 2_000; i++)
                    {
                        try (WindowView view = file.acquire(random.nextInt(8)))
                        {
                            final int at = random.nextInt(view.length());
                            assertEquals(source[(int)view.fileOffset() + at], view.buffer().getByte(at));
                        }
                    }
                    return null;
                }));
            }
            for (final Future<?> reader : readers)
            {
                reader.get(60, TimeUnit.SECONDS);
            }
        }
        finally
        {
            threads.shutdownNow();
            assertTrue(threads.awaitTermination(30, TimeUnit.SECONDS));
        }
        assertEquals(8, agent.channel().responses().answers() - before, "one ACQUIRE per window");
        assertEquals(8, file.heldViews(), "each window pinned once, retained");
        file.close();
        assertEquals(0, file.heldViews(), "closing the file released every retained pin");
    }

    @Test
    void anOpenFileReadsOnAcrossABrokerRestart() throws Exception
    {
        final PcbAgent agent = startAndAttach(0);
        final byte[] source = write("three", 3 * WINDOW);
        final PcbFile file = agent.open("data/three");
        closeables.add(file);
        final WindowView held = file.acquire(0);
        final long epoch = agent.channel().epoch();

        broker.close();
        broker = Broker.launch(config());
        await(30, () -> agent.channel().epoch() != epoch && null == agent.channel().brokerFailure(),
            () -> "re-attached: " + agent.channel().brokerFailure());
        for (int i = 0; i < WINDOW; i++)
        {
            assertEquals(source[i], held.buffer().getByte(i), "the view held across the restart");
        }
        held.close();
        readAll(file, source);
    }

    /**
     * A read that finds the broker gone waits for the next one outside the window's lock: the re-attach takes that
     * lock to forget the retained pins of the old broker. (It waited inside it once, and the re-attach then waited for
     * the read: both gave up only when the read's connect timeout passed, TreeVersionsTest in CI.)
     */
    @Test
    void aReadWaitingForARestartedBrokerDoesNotHoldUpTheReattach() throws Exception
    {
        final PcbAgent agent = startAndAttach(4);
        final byte[] source = write("one", WINDOW);
        final PcbFile file = agent.open("data/one");
        closeables.add(file);
        // Closed with its pin retained: the next read of window 0 asks nothing of the broker, unless it has gone.
        file.acquire(0).close();

        broker.close();
        await(10, () -> null != agent.channel().brokerFailure(), () -> "the agent never saw the broker shut down");
        final ExecutorService reader = Executors.newSingleThreadExecutor();
        try
        {
            final Thread[] thread = new Thread[1];
            final Future<byte[]> read = reader.submit(() ->
            {
                thread[0] = Thread.currentThread();
                final ByteBuffer bytes = ByteBuffer.allocate(WINDOW);
                file.read(0, bytes);
                return bytes.array();
            });
            await(10, () -> null != thread[0] && waitsForTheBroker(thread[0]),
                () -> "the read never waited for a broker");
            final long restartedNs = System.nanoTime();
            broker = Broker.launch(config());
            // Well inside the agent's 20 s connect timeout: a read held up by the re-attach fails only then.
            assertArrayEquals(source, read.get(10, TimeUnit.SECONDS), "read after the restart");
            System.out.println("read served " + TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - restartedNs) +
                " ms after the new broker was launched");
        }
        finally
        {
            reader.shutdownNow();
        }
    }

    /** Poll a condition every 5 ms until it holds; fail with the message once the bound passes. */
    private static void await(final long seconds, final BooleanSupplier condition, final Supplier<String> message)
        throws InterruptedException
    {
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        while (!condition.getAsBoolean())
        {
            assertTrue(System.nanoTime() < deadline, message);
            Thread.sleep(5);
        }
    }

    private static boolean waitsForTheBroker(final Thread thread)
    {
        for (final StackTraceElement frame : thread.getStackTrace())
        {
            if (frame.getMethodName().equals("awaitServing"))
            {
                return true;
            }
        }
        return false;
    }

    private PcbAgent startAndAttach(final int retainedWindows) throws Exception
    {
        broker = Broker.launch(config());
        final PcbAgent agent = PcbAgent.attach(new AgentConfig().runDir(runDir).guest("vm1")
            .retainedWindows(retainedWindows).connectTimeout(Duration.ofSeconds(20)));
        closeables.add(agent);
        return agent;
    }

    private BrokerConfig config()
    {
        return new BrokerConfig().runDir(runDir).share("data", shareDir).guest("vm1").regionSize(REGION)
            .windowSize(WINDOW).validate();
    }

    private byte[] write(final String name, final int size) throws Exception
    {
        final byte[] bytes = new byte[size];
        new SplittableRandom(size).nextBytes(bytes);
        Files.write(shareDir.resolve(name), bytes);
        return bytes;
    }

    private static void readAll(final PcbFile file, final byte[] source) throws Exception
    {
        for (long w = 0; w < file.windowCount(); w++)
        {
            try (WindowView view = file.acquire(w))
            {
                for (int i = 0; i < view.length(); i += 4093)
                {
                    assertEquals(source[(int)view.fileOffset() + i], view.buffer().getByte(i));
                }
            }
        }
    }
}
