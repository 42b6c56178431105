package dev.pcb.it;

import dev.pcb.layout.CountersSnapshot;
import dev.pcb.testsupport.AgentProcess;
import dev.pcb.testsupport.BrokerProcess;
import dev.pcb.testsupport.PcbCommand;
import dev.pcb.testsupport.TestShare;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.SplittableRandom;

import static dev.pcb.layout.CounterType.BYTES_FILLED;
import static dev.pcb.layout.CounterType.FILLS;
import static dev.pcb.layout.CounterType.GUEST_CLIENTS;
import static dev.pcb.layout.CounterType.GUEST_PINS;
import static dev.pcb.layout.CounterType.HITS;
import static dev.pcb.layout.CounterType.MISSES;
import static dev.pcb.layout.CounterType.RELEASES;
import static dev.pcb.layout.CounterType.WINDOWS_PINNED;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code pcb warm} fills every window of the files under a path, pins nothing, shows progress, and makes the next
 * reader, in another guest, hit every window.
 */
@Timeout(180)
class WarmCommandTest
{
    private static final int BIG = 3 * TestShare.WINDOW + TestShare.WINDOW / 2;
    private static final int SMALL = 300;
    private static final int NESTED = TestShare.WINDOW + 1;
    /** Windows of the three files: 4 + 1 + 2. */
    private static final int WINDOWS = 7;

    @TempDir
    Path shareDir;

    private BrokerProcess broker;

    @BeforeEach
    void setUp() throws Exception
    {
        final SplittableRandom random = new SplittableRandom(9);
        write(shareDir.resolve("warm/big.bin"), BIG, random);
        write(shareDir.resolve("warm/small.txt"), SMALL, random);
        write(shareDir.resolve("warm/sub/nested.bin"), NESTED, random);
        write(shareDir.resolve("cold.bin"), 1000, random);
        broker = BrokerProcess.start(BrokerProcess.newRunDir("warm"), "--share", "data=" + shareDir,
            "--guest", "vm1", "--guest", "vm2", "--region-size", Long.toString(TestShare.REGION),
            "--window-size", Integer.toString(TestShare.WINDOW));
    }

    @AfterEach
    void tearDown() throws Exception
    {
        if (null != broker)
        {
            broker.close();
        }
    }

    @Test
    void warmsEveryWindowUnderADirectoryAndTheNextReaderHitsThem() throws Exception
    {
        final AgentProcess warm = PcbCommand.run("warm", "--run-dir", broker.runDir().toString(), "--guest", "vm1",
            "--progress", "data/warm/");
        assertEquals(0, warm.exitCode(), warm.stderr());
        assertTrue(warm.stdoutText().startsWith("warmed 3 file(s), " + WINDOWS + " window(s), " +
            (BIG + SMALL + NESTED) + " bytes"), warm.stdoutText());
        assertTrue(warm.stderr().contains("warm: 100% "), "progress line:\n" + warm.stderr());

        CountersSnapshot s = PcbCommand.awaitCounters(broker.runDir(), (c) ->
            WINDOWS == c.value(RELEASES) && 0 == c.value(GUEST_CLIENTS, "vm1"));
        assertEquals(WINDOWS, s.value(FILLS), "each window filled once");
        assertEquals(WINDOWS, s.value(MISSES) + s.value(HITS), "one ACQUIRE per window; read-ahead makes hits");
        assertEquals(BIG + SMALL + NESTED, s.value(BYTES_FILLED));
        assertEquals(0, s.value(WINDOWS_PINNED, "data"), "warming pins nothing");
        assertEquals(0, s.value(GUEST_PINS, "vm1"));

        final AgentProcess read = AgentProcess.run(broker, "vm2", "sha256",
            "data/warm/big.bin", "data/warm/small.txt", "data/warm/sub/nested.bin");
        assertEquals(0, read.exitCode(), read.stderr());
        assertTrue(read.stdoutText().startsWith(TestShare.sha256(shareDir.resolve("warm/big.bin")) + "  "),
            read.stdoutText());
        final long missesAfterWarm = s.value(MISSES);
        final long hitsAfterWarm = s.value(HITS);
        s = PcbCommand.awaitCounters(broker.runDir(), (c) -> 2 * WINDOWS == c.value(RELEASES));
        assertEquals(hitsAfterWarm + WINDOWS, s.value(HITS), "every window was warm");
        assertEquals(missesAfterWarm, s.value(MISSES), "and no more misses");
        assertEquals(WINDOWS, s.value(FILLS));
    }

    @Test
    void reportsAMissingPathAndWarmsTheRest() throws Exception
    {
        final AgentProcess warm = PcbCommand.run("warm", "--run-dir", broker.runDir().toString(), "--guest", "vm1",
            "--no-progress", "data/no-such-dir", "data/cold.bin");
        assertEquals(1, warm.exitCode(), warm.stderr());
        assertTrue(warm.stderr().contains("data/no-such-dir"), warm.stderr());
        assertTrue(warm.stdoutText().startsWith("warmed 1 file(s), 1 window(s), 1000 bytes"), warm.stdoutText());
        assertTrue(warm.stdoutText().contains("1 failure(s)"), warm.stdoutText());
        final CountersSnapshot s = PcbCommand.awaitCounters(broker.runDir(), (c) -> 1 == c.value(RELEASES));
        assertEquals(1, s.value(FILLS));
    }

    private static void write(final Path file, final int size, final SplittableRandom random) throws Exception
    {
        final byte[] bytes = new byte[size];
        random.nextBytes(bytes);
        Files.createDirectories(file.getParent());
        Files.write(file, bytes);
    }
}
