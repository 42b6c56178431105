package dev.pcb.it;

import dev.pcb.agent.AgentConfig;
import dev.pcb.agent.DirEntry;
import dev.pcb.agent.PcbAgent;
import dev.pcb.agent.PcbException;
import dev.pcb.agent.PcbFile;
import dev.pcb.agent.StaleFileException;
import dev.pcb.agent.WindowView;
import dev.pcb.cli.InspectCommand;
import dev.pcb.protocol.ErrorCode;
import dev.pcb.testsupport.BrokerProcess;
import dev.pcb.testsupport.TestShare;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.Arrays;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * One test per row of docs/coherence.md: what a reader holding a handle sees, and what a new opener sees, after
 * each kind of change the host makes.
 */
@Timeout(120)
class CoherenceTest
{
    private static final int WINDOW = TestShare.WINDOW;
    private static final int SIZE = 4 * WINDOW;

    @TempDir
    Path shareDir;

    private BrokerProcess broker;
    private PcbAgent agent;
    private byte[] original;
    private Path file;

    @BeforeEach
    void setUp() throws Exception
    {
        original = bytes(SIZE, 1);
        file = shareDir.resolve("f.bin");
        Files.write(file, original);
        // No read-ahead: each test decides which windows are filled before the change and which after it.
        broker = BrokerProcess.start(BrokerProcess.newRunDir("coherence"), "--share", "data=" + shareDir,
            "--guest", "vm1", "--region-size", Long.toString(TestShare.REGION),
            "--window-size", Integer.toString(WINDOW), "--read-ahead", "0");
        agent = PcbAgent.attach(new AgentConfig().runDir(broker.runDir()).guest("vm1")
            .connectTimeout(Duration.ofSeconds(20)));
    }

    @AfterEach
    void tearDown() throws Exception
    {
        if (null != agent)
        {
            agent.close();
        }
        if (null != broker)
        {
            broker.close();
        }
    }

    @Test
    void writeInPlace() throws Exception
    {
        try (PcbFile reader = agent.open("data/f.bin"))
        {
            final WindowView held = reader.acquire(0);
            readWindow(reader, 1);
            final byte[] changed = bytes(SIZE, 2);
            overwriteInPlace(file, changed);

            assertArrayEquals(Arrays.copyOfRange(original, 0, WINDOW), copy(held), "held view changed");
            held.close();
            assertArrayEquals(Arrays.copyOfRange(original, WINDOW, 2 * WINDOW), readWindow(reader, 1),
                "filled window of the old version must still serve its holder");
            assertThrows(StaleFileException.class, () -> reader.acquire(2));

            assertArrayEquals(changed, readAll("data/f.bin"), "a new open sees the new bytes");
        }
    }

    @Test
    void append() throws Exception
    {
        try (PcbFile reader = agent.open("data/f.bin"))
        {
            readWindow(reader, 0);
            final byte[] extra = bytes(WINDOW / 2, 3);
            Files.write(file, extra, StandardOpenOption.APPEND);

            assertEquals(SIZE, reader.size(), "the handle keeps its version's size");
            assertArrayEquals(Arrays.copyOfRange(original, 0, WINDOW), readWindow(reader, 0));
            final StaleFileException stale = assertThrows(StaleFileException.class, () -> reader.acquire(3));
            assertTrue(stale.getMessage().contains("f.bin"), stale.getMessage());

            final byte[] expected = Arrays.copyOf(original, SIZE + extra.length);
            System.arraycopy(extra, 0, expected, SIZE, extra.length);
            assertArrayEquals(expected, readAll("data/f.bin"));
        }
    }

    @Test
    void truncate() throws Exception
    {
        try (PcbFile reader = agent.open("data/f.bin"))
        {
            readWindow(reader, 0);
            try (FileChannel channel = FileChannel.open(file, StandardOpenOption.WRITE))
            {
                channel.truncate(WINDOW + 10);
            }
            assertArrayEquals(Arrays.copyOfRange(original, 0, WINDOW), readWindow(reader, 0));
            assertThrows(StaleFileException.class, () -> reader.acquire(3));
            assertArrayEquals(Arrays.copyOf(original, WINDOW + 10), readAll("data/f.bin"));
        }
    }

    @Test
    void renameOverKeepsTheOldVersionForItsReader() throws Exception
    {
        try (PcbFile reader = agent.open("data/f.bin"))
        {
            final long oldVersion = reader.versionId();
            final byte[] replacement = bytes(SIZE + 123, 4);
            final Path tmp = shareDir.resolve("f.bin.tmp");
            Files.write(tmp, replacement);
            Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);

            assertArrayEquals(original, readAllOf(reader), "the reader must go on reading the old bytes");
            assertArrayEquals(replacement, readAll("data/f.bin"), "a new open sees the replacement");
            assertTrue(RegionProbe.windowsOf(broker.runDir(), "data", oldVersion) > 0);

            reader.close();
            awaitNoWindows(oldVersion);
        }
    }

    @Test
    void deleteKeepsTheFileForItsReaderAndFreesItAfterTheLastClose() throws Exception
    {
        final PcbFile reader = agent.open("data/f.bin");
        final long version = reader.versionId();
        readWindow(reader, 0);
        Files.delete(file);

        assertArrayEquals(original, readAllOf(reader), "a deleted file stays readable for its holder");
        final PcbException missing = assertThrows(PcbException.class, () -> agent.open("data/f.bin"));
        assertEquals(ErrorCode.NO_SUCH_FILE, missing.code());
        assertEquals(SIZE / WINDOW, RegionProbe.windowsOf(broker.runDir(), "data", version));

        reader.close();
        awaitNoWindows(version);
    }

    @Test
    void chmodChangesNothingForReaders() throws Exception
    {
        try (PcbFile reader = agent.open("data/f.bin"))
        {
            readWindow(reader, 0);
            Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("r--------"));
            assertArrayEquals(original, readAllOf(reader), "chmod must not make a handle stale");
            try (PcbFile again = agent.open("data/f.bin"))
            {
                assertEquals(reader.versionId(), again.versionId(), "same bytes, same version");
                assertEquals(0400, again.attributes().mode() & 0777);
            }
        }
    }

    @Test
    void directoryChangesAreSeenByTheNextListAndOpen() throws Exception
    {
        Files.write(shareDir.resolve("new.txt"), bytes(10, 5));
        Files.createDirectories(shareDir.resolve("d"));
        Files.write(shareDir.resolve("d/x"), bytes(10, 6));
        assertTrue(agent.list("data").stream().map(DirEntry::name).anyMatch("new.txt"::equals));
        assertArrayEquals(bytes(10, 6), readAll("data/d/x"));

        Files.move(shareDir.resolve("d"), shareDir.resolve("e"));
        assertEquals(ErrorCode.NO_SUCH_FILE, assertThrows(PcbException.class, () -> agent.open("data/d/x")).code());
        assertArrayEquals(bytes(10, 6), readAll("data/e/x"));

        Files.delete(shareDir.resolve("new.txt"));
        assertTrue(agent.list("data").stream().map(DirEntry::name).noneMatch("new.txt"::equals));
    }

    @Test
    void inspectShowsVersionsHandlesAndPins() throws Exception
    {
        try (PcbFile reader = agent.open("data/f.bin"); WindowView ignored = reader.acquire(1))
        {
            final String report = InspectCommand.report(broker.runDir(), 5_000);
            assertTrue(report.contains("version " + reader.versionId() + " f.bin size=" + SIZE + " handles=1"), report);
            assertTrue(report.contains("handle ") && report.contains("data/f.bin") && report.contains("pins=1"), report);
        }
    }

    private void awaitNoWindows(final long version) throws Exception
    {
        final long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (RegionProbe.windowsOf(broker.runDir(), "data", version) != 0)
        {
            assertTrue(System.nanoTime() < deadline, "windows of version " + version + " were not freed");
            Thread.sleep(20);
        }
    }

    private byte[] readAll(final String path) throws Exception
    {
        try (PcbFile f = agent.open(path))
        {
            return readAllOf(f);
        }
    }

    private static byte[] readAllOf(final PcbFile f) throws Exception
    {
        final ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (long w = 0; w < f.windowCount(); w++)
        {
            out.write(readWindow(f, w));
        }
        return out.toByteArray();
    }

    private static byte[] readWindow(final PcbFile f, final long w) throws Exception
    {
        try (WindowView view = f.acquire(w))
        {
            return copy(view);
        }
    }

    private static byte[] copy(final WindowView view)
    {
        final byte[] bytes = new byte[view.length()];
        view.buffer().getBytes(0, bytes);
        return bytes;
    }

    private static void overwriteInPlace(final Path file, final byte[] content) throws Exception
    {
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.WRITE))
        {
            final ByteBuffer buffer = ByteBuffer.wrap(content);
            while (buffer.hasRemaining())
            {
                channel.write(buffer);
            }
        }
    }

    private static byte[] bytes(final int size, final long seed)
    {
        final byte[] bytes = new byte[size];
        new SplittableRandom(seed).nextBytes(bytes);
        assertNotEquals(0, size == 0 ? 1 : bytes.length);
        return bytes;
    }
}
