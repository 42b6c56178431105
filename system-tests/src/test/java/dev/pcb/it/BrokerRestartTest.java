package dev.pcb.it;
import dev.pcb.agent.AgentConfig;
import dev.pcb.agent.BrokerUnavailableException;
import dev.pcb.agent.PcbAgent;
import dev.pcb.agent.PcbFile;
import dev.pcb.agent.WindowView;
import dev.pcb.cli.InspectCommand;
import dev.pcb.layout.CounterType;
import dev.pcb.layout.CountersSnapshot;
import dev.pcb.testsupport.AgentProcess;
import dev.pcb.testsupport.BrokerProcess;
import dev.pcb.testsupport.ChildProcesses;
import dev.pcb.testsupport.JavaProcess;
import dev.pcb.testsupport.PcbCommand;
import dev.pcb.testsupport.TestShare;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The broker stops (SIGTERM) or dies (kill -9) and starts again on the same run directory while agents read:
 * readers finish their files with correct bytes, and windows they still hold are never reused.
 */
@Timeout(180)
class BrokerRestartTest
{
    @TempDir
    Path shareDir;

    private final ChildProcesses children = new ChildProcesses();
    private Path runDir;
    private BrokerProcess broker;

    @BeforeEach
    void setUp() throws Exception
    {
        final SplittableRandom random = new SplittableRandom(11);
        write("big.bin", 40 * TestShare.WINDOW + 777, random);
        write("held.bin", 4 * TestShare.WINDOW, random);
        for (int i = 0; i < 6; i++)
        {
            write("churn-" + i + ".bin", 5 * TestShare.WINDOW, random);
        }
        runDir = BrokerProcess.newRunDir("restart");
        broker = startBroker();
    }

    @AfterEach
    void tearDown() throws Exception
    {
        children.close();
        if (null != broker)
        {
            broker.close();
        }
    }

    @Test
    void aReaderFinishesItsFileAcrossAKillNineAndRestart() throws Exception
    {
        readAcrossRestart(true);
    }

    @Test
    void aReaderFinishesItsFileAcrossAStopAndRestart() throws Exception
    {
        readAcrossRestart(false);
    }

    @Test
    void windowsHeldAcrossARestartAreNeverReused() throws Exception
    {
        final Path holderErr = Files.createTempFile("pcb-pin-holder", ".err");
        final Process holder = children.track(new ProcessBuilder(JavaProcess.javaCommand(PinHolder.class.getName(),
            runDir.toString(), "vm1", "data/held.bin", "4")).redirectError(holderErr.toFile()).start());
        final BufferedReader holderOut = new BufferedReader(
            new InputStreamReader(holder.getInputStream(), StandardCharsets.UTF_8));
        assertEquals("held", holderOut.readLine());

        broker.kill();
        broker = startBroker();

        // Read every churn file twice: 60 windows of traffic through a 15-window region.
        for (int round = 0; round < 2; round++)
        {
            final List<String> args = new ArrayList<>(List.of("sha256"));
            for (int i = 0; i < 6; i++)
            {
                args.add("data/churn-" + i + ".bin");
            }
            final AgentProcess churn = AgentProcess.run(broker, "vm2", args.toArray(new String[0]));
            assertEquals(0, churn.exitCode(), churn.stderr());
        }
        Thread.sleep(500);
        assertTrue(holder.isAlive(), () -> "the holder saw its held bytes change (CORRUPT) or died: " +
            describeExit(holder, holderOut, holderErr));
        Files.deleteIfExists(holderErr);
        final String report = InspectCommand.report(runDir, 5000);
        assertTrue(report.contains("pins=4"), report);
    }

    @Test
    void retainedWindowsOfTheOldBrokerAreForgottenAndTheFileClosesAfterARestart() throws Exception
    {
        final byte[] held = Files.readAllBytes(shareDir.resolve("held.bin"));
        try (PcbAgent agent = PcbAgent.attach(new AgentConfig().runDir(runDir).guest("vm1")
            .connectTimeout(Duration.ofSeconds(20))))
        {
            final PcbFile file = agent.open("data/held.bin");
            for (long w = 0; w < file.windowCount(); w++)
            {
                file.acquire(w).close();
            }
            PcbCommand.awaitCounters(runDir, (c) -> 4 == c.value(CounterType.GUEST_PINS, "vm1"));

            broker.stop();
            broker = startBroker();
            agent.stat("data/held.bin");

            // Windows retained under the old broker are read again through the new one, with the right bytes.
            for (long w = 0; w < file.windowCount(); w++)
            {
                try (WindowView view = file.acquire(w))
                {
                    TestShare.assertView(held, view);
                }
            }
            file.close();
            final CountersSnapshot s = PcbCommand.awaitCounters(runDir, (c) ->
                0 == c.value(CounterType.GUEST_HANDLES, "vm1") && 0 == c.value(CounterType.GUEST_PINS, "vm1"));
            assertEquals(1, s.value(CounterType.GUEST_CLIENTS, "vm1"), "the agent is still attached");
        }
    }

    @Test
    void aDeadBrokerIsReportedClearlyInBoundedTime() throws Exception
    {
        try (PcbAgent agent = PcbAgent.attach(new AgentConfig().runDir(runDir).guest("vm1")
            .connectTimeout(Duration.ofSeconds(2)));
            PcbFile file = agent.open("data/held.bin");
            WindowView view = file.acquire(0))
        {
            broker.kill();
            final long start = System.nanoTime();
            final BrokerUnavailableException dead =
                assertThrows(BrokerUnavailableException.class, () -> agent.open("data/big.bin"));
            final long waitedMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
            assertTrue(dead.getMessage().contains("has not heartbeated"), dead.getMessage());
            assertTrue(waitedMs < 15_000, "waited " + waitedMs + " ms");
            assertEquals(Files.readAllBytes(shareDir.resolve("held.bin"))[0], view.buffer().getByte(0),
                "a view held when the broker died stays readable");
        }
    }

    private void readAcrossRestart(final boolean kill) throws Exception
    {
        final Process reader = children.track(new ProcessBuilder(JavaProcess.javaCommand(StreamingReader.class.getName(),
            runDir.toString(), "vm1", "data/big.bin", "60")).start());
        final BufferedReader out = new BufferedReader(
            new InputStreamReader(reader.getInputStream(), StandardCharsets.UTF_8));
        assertEquals("started", out.readLine());
        Thread.sleep(700);
        if (kill)
        {
            broker.kill();
        }
        else
        {
            // 143 is how a JVM reports SIGTERM after running its shutdown hooks; the broker closed cleanly if it
            // removed its pid file.
            final int code = broker.stop();
            assertTrue(code == 0 || code == 143, "exit code " + code + "\n" + broker.output());
            assertTrue(Files.notExists(dev.pcb.layout.RunDirectory.pidFile(runDir)), "pid file left behind");
        }
        assertTrue(reader.isAlive(), "the reader must wait for a new broker, not fail");
        Thread.sleep(300);
        broker = startBroker();

        final String result = out.readLine();
        final String err = new String(reader.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(reader.waitFor(60, TimeUnit.SECONDS));
        assertEquals(0, reader.exitValue(), err);
        assertEquals("sha256 " + TestShare.sha256(shareDir.resolve("big.bin")) + " bytes " +
            Files.size(shareDir.resolve("big.bin")), result, err);
    }

    private BrokerProcess startBroker() throws Exception
    {
        return BrokerProcess.start(runDir, "--share", "data=" + shareDir, "--guest", "vm1", "--guest", "vm2",
            "--region-size", Long.toString(TestShare.REGION), "--window-size", Integer.toString(TestShare.WINDOW),
            "--client-lease", "2000");
    }

    private void write(final String name, final int size, final SplittableRandom random) throws Exception
    {
        final byte[] bytes = new byte[size];
        random.nextBytes(bytes);
        Files.write(shareDir.resolve(name), bytes);
    }

    private static String describeExit(final Process holder, final BufferedReader out, final Path err)
    {
        try
        {
            final StringBuilder text = new StringBuilder("exit " + holder.exitValue() + "\n");
            for (String line = out.readLine(); null != line; line = out.readLine())
            {
                text.append(line).append('\n');
            }
            return text.append(Files.readString(err)).toString();
        }
        catch (final Exception ex)
        {
            return ex.toString();
        }
    }
}
