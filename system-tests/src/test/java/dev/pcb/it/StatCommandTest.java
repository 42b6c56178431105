package dev.pcb.it;

import dev.pcb.cli.StatCommand;
import dev.pcb.layout.CounterType;
import dev.pcb.testsupport.AgentProcess;
import dev.pcb.testsupport.BrokerProcess;
import dev.pcb.testsupport.JavaProcess;
import dev.pcb.testsupport.PcbCommand;
import dev.pcb.testsupport.TestShare;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code pcb stat} as an operator runs it, in its own process: against a running broker it shows the counts of a
 * known workload; after the broker stopped or was killed it still prints them and says the broker is down.
 */
@Timeout(180)
class StatCommandTest
{
    private static final int SIZE = 5000;

    @TempDir
    Path shareDir;

    private BrokerProcess broker;
    private Process watcher;

    @BeforeEach
    void setUp() throws Exception
    {
        final byte[] bytes = new byte[SIZE];
        new SplittableRandom(3).nextBytes(bytes);
        Files.write(shareDir.resolve("file.bin"), bytes);
        broker = BrokerProcess.start(BrokerProcess.newRunDir("stat"), "--share", "data=" + shareDir,
            "--guest", "vm1", "--guest", "vm2", "--region-size", Long.toString(TestShare.REGION),
            "--window-size", Integer.toString(TestShare.WINDOW));
    }

    @AfterEach
    void tearDown() throws Exception
    {
        if (null != watcher)
        {
            watcher.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
        if (null != broker)
        {
            broker.close();
        }
    }

    @Test
    void showsTheCountsOfARunningBroker() throws Exception
    {
        readTheFileTwice();
        final AgentProcess stat = PcbCommand.run("stat", "--run-dir", broker.runDir().toString());
        final String text = stat.stdoutText();
        assertEquals(0, stat.exitCode(), text + stat.stderr());
        assertTrue(text.contains("state: running"), text);
        assertKnownCounts(text);
        assertTrue(text.matches("(?s).*\\n  data +15 +14 +0 +1 +0 +0\\n.*"),
            "share row: 15 windows, 14 free, 0 pinned, 1 tree version in use, 0 advances, 0 bad flips\n" + text);
        assertTrue(text.matches("(?s).*\\n  vm1 +0 +0 +0 +[1-9]\\d* +\\d.* ago\\n.*"), "vm1 row\n" + text);
        assertTrue(text.matches("(?s).*\\n  vm2 +0 +0 +0 +0 +never\\n.*"), "vm2 row\n" + text);
    }

    @Test
    void afterACleanStopPrintsTheLastValuesAndSaysDown() throws Exception
    {
        readTheFileTwice();
        broker.stop();

        final AgentProcess stat = PcbCommand.run("stat", "--run-dir", broker.runDir().toString());
        final String text = stat.stdoutText();
        assertEquals(StatCommand.EXIT_BROKER_DOWN, stat.exitCode(), text + stat.stderr());
        assertTrue(text.contains("state: DOWN: the broker stopped"), text);
        assertTrue(text.contains("the values below are the last ones it published"), text);
        assertKnownCounts(text);
    }

    @Test
    void afterAKillSaysTheProcessIsGone() throws Exception
    {
        readTheFileTwice();
        final long pid = broker.process().pid();
        broker.kill();

        final AgentProcess stat = PcbCommand.run("stat", "--run-dir", broker.runDir().toString());
        final String text = stat.stdoutText();
        assertEquals(StatCommand.EXIT_BROKER_DOWN, stat.exitCode(), text + stat.stderr());
        assertTrue(text.contains("state: DOWN: broker process " + pid + " is not running"), text);
        assertKnownCounts(text);
    }

    @Test
    void watchRedrawsUntilInterrupted() throws Exception
    {
        readTheFileTwice();
        watcher = JavaProcess.pcb("stat", "--run-dir", broker.runDir().toString(), "--watch", "--interval", "100")
            .redirectError(ProcessBuilder.Redirect.DISCARD).start();
        final ByteArrayOutputStream out = new ByteArrayOutputStream();
        final InputStream in = watcher.getInputStream();
        final byte[] chunk = new byte[8192];
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (frames(out) < 4 && System.nanoTime() < deadline)
        {
            final int n = in.read(chunk);
            if (n < 0)
            {
                break;
            }
            out.write(chunk, 0, n);
        }
        watcher.destroy();
        assertTrue(watcher.waitFor(10, TimeUnit.SECONDS), "stops on SIGTERM like on Ctrl-C");
        watcher = null;

        final String text = out.toString(StandardCharsets.UTF_8);
        assertTrue(frames(out) >= 4, "redrawn at least four times:\n" + text);
        final String lastFull = text.split("\033\\[H\033\\[2J")[2];
        assertTrue(lastFull.contains("PER SEC"), "later frames show rates:\n" + lastFull);
        assertKnownCounts(lastFull);
    }

    @Test
    void withoutABrokerSaysSoAndFails() throws Exception
    {
        final AgentProcess stat = PcbCommand.run("stat", "--run-dir", shareDir.resolve("nothing-here").toString());
        assertEquals(1, stat.exitCode());
        assertTrue(stat.stderr().contains("no counters file"), stat.stderr());
        assertFalse(stat.stdoutText().contains("COUNTER"));
    }

    /**
     * One miss and fill, then one hit: a fresh broker, one window, two agent processes.
     */
    private void readTheFileTwice() throws Exception
    {
        for (int i = 0; i < 2; i++)
        {
            final AgentProcess cat = AgentProcess.run(broker, "vm1", "cat", "data/file.bin");
            assertEquals(0, cat.exitCode(), cat.stderr());
            assertEquals(SIZE, cat.stdout().length);
        }
        PcbCommand.awaitCounters(broker.runDir(), (c) -> 2 == c.value(CounterType.RELEASES) &&
            0 == c.value(CounterType.GUEST_CLIENTS, "vm1"));
    }

    private static void assertKnownCounts(final String text)
    {
        assertEquals(2, PcbCommand.statRow(text, "opens"), text);
        assertEquals(1, PcbCommand.statRow(text, "misses"), text);
        assertEquals(1, PcbCommand.statRow(text, "hits"), text);
        assertEquals(1, PcbCommand.statRow(text, "fills"), text);
        assertEquals(SIZE, PcbCommand.statRow(text, "bytes filled"), text);
        assertEquals(2, PcbCommand.statRow(text, "releases"), text);
        assertEquals(2, PcbCommand.statRow(text, "clients attached"), text);
        assertEquals(0, PcbCommand.statRow(text, "errors"), text);
        assertEquals(0, PcbCommand.statRow(text, "evictions"), text);
    }

    private static int frames(final ByteArrayOutputStream out)
    {
        final String text = out.toString(StandardCharsets.UTF_8);
        int count = 0;
        for (int at = text.indexOf("\033[H\033[2J"); at >= 0; at = text.indexOf("\033[H\033[2J", at + 1))
        {
            count++;
        }
        // The frame after the last clear may be incomplete: count only those followed by another clear.
        return Math.max(0, count - 1);
    }
}
