package dev.pcb.it;

import dev.pcb.agent.AgentConfig;
import dev.pcb.agent.PcbAgent;
import dev.pcb.agent.PcbFile;
import dev.pcb.agent.WindowView;
import dev.pcb.testsupport.BrokerProcess;
import dev.pcb.testsupport.JavaProcess;
import dev.pcb.testsupport.TestShare;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * An idle broker sleeps on its doorbells: with one idle host agent attached (heartbeats running, a file open) it
 * uses almost no CPU, and the first request after the idle spell is answered, woken by the agent's ring. The CPU
 * bound is a property of sleeping (a polling broker parks every 500 us and costs several percent of a core), not a
 * speed claim. Likewise a host agent's call waiting for an answer that does not come (its broker paused) sleeps on
 * the answer doorbell instead of polling, and gets the right answer when it comes.
 */
@Timeout(120)
class IdleBrokerTest
{
    private static final int WINDOWS = 5;
    private static final long WINDOW_MS = 3_000;
    /** 2% of one core; a polling broker used 3.6-5.4% on this machine. */
    private static final double MAX_IDLE_CORE_FRACTION = 0.02;

    @TempDir
    Path shareDir;

    private BrokerProcess broker;
    private PcbAgent agent;
    private PcbFile file;
    private Process waiter;

    @AfterEach
    void tearDown() throws Exception
    {
        if (null != waiter)
        {
            waiter.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
        if (null != file)
        {
            file.close();
        }
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
    void anIdleBrokerWithAnIdleHostAgentSleepsAndAnswersTheFirstRequest() throws Exception
    {
        final TestShare share = TestShare.create(shareDir);
        broker = BrokerProcess.start(BrokerProcess.newRunDir("idle"), "--share", "data=" + shareDir,
            "--guest", "vm1", "--region-size", Long.toString(TestShare.REGION),
            "--window-size", Integer.toString(TestShare.WINDOW), "--read-ahead", "0");
        agent = PcbAgent.attach(new AgentConfig().runDir(broker.runDir()).guest("vm1").retainedWindows(0)
            .connectTimeout(Duration.ofSeconds(20)));
        file = agent.open("data/larger-than-region");
        final byte[] source = Files.readAllBytes(share.files().get("larger-than-region"));
        try (WindowView first = file.acquire(0))
        {
            TestShare.assertView(source, first);
        }
        // A fresh JVM's compiler threads run on for seconds after start on a loaded machine: the first windows may
        // count them. A polling broker stays above the bound in every window; a sleeping one drops below it.
        final StringBuilder windows = new StringBuilder();
        boolean slept = false;
        for (int i = 0; i < WINDOWS && !slept; i++)
        {
            final long ticksBefore = broker.cpuTicks();
            final long t0 = System.nanoTime();
            Thread.sleep(WINDOW_MS);
            final double seconds = (System.nanoTime() - t0) / 1e9;
            final long ticks = broker.cpuTicks() - ticksBefore;
            final double fraction = ticks / 100.0 / seconds;
            windows.append(String.format(" %d ticks in %.2f s (%.2f%%);", ticks, seconds, 100 * fraction));
            slept = fraction < MAX_IDLE_CORE_FRACTION;
        }
        assertTrue(slept, "idle broker above " + 100 * MAX_IDLE_CORE_FRACTION + "% of a core in every window:" +
            windows + " threads (ticks since start): " + broker.threadCpuTicks());

        try (WindowView again = file.acquire(1))
        {
            TestShare.assertView(source, again);
        }
    }

    @Test
    void aHostAgentWaitingForAnAnswerSleepsUntilItComes() throws Exception
    {
        final TestShare share = TestShare.create(shareDir);
        broker = BrokerProcess.start(BrokerProcess.newRunDir("idle-agent"), "--share", "data=" + shareDir,
            "--guest", "vm1", "--region-size", Long.toString(TestShare.REGION),
            "--window-size", Integer.toString(TestShare.WINDOW), "--read-ahead", "0");
        waiter = new ProcessBuilder(JavaProcess.javaCommand(WaitingAgent.class.getName(),
            broker.runDir().toString(), "vm1", "data/larger-than-region", "block")).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        final BufferedReader lines = new BufferedReader(new InputStreamReader(waiter.getInputStream(),
            StandardCharsets.UTF_8));
        assertEquals("ready", lines.readLine(), "the waiting agent attached and read window 0");

        broker.pause();
        final OutputStream go = waiter.getOutputStream();
        go.write('\n');
        go.flush();
        // The agent's JVM compiles on for a while after start: a polling wait stays above the bound in every window,
        // a sleeping one drops below it.
        Thread.sleep(1_000);
        final StringBuilder windows = new StringBuilder();
        boolean slept = false;
        for (int i = 0; i < WINDOWS && !slept; i++)
        {
            final long ticksBefore = JavaProcess.cpuTicks(waiter.pid());
            final long t0 = System.nanoTime();
            Thread.sleep(WINDOW_MS);
            final double seconds = (System.nanoTime() - t0) / 1e9;
            final long ticks = JavaProcess.cpuTicks(waiter.pid()) - ticksBefore;
            final double fraction = ticks / 100.0 / seconds;
            windows.append(String.format(" %d ticks in %.2f s (%.2f%%);", ticks, seconds, 100 * fraction));
            slept = fraction < MAX_IDLE_CORE_FRACTION;
        }
        assertTrue(waiter.isAlive(), "the agent still waits for its answer");
        broker.resume();
        assertTrue(slept, "agent waiting for an answer above " + 100 * MAX_IDLE_CORE_FRACTION +
            "% of a core in every window:" + windows);

        final byte[] source = Files.readAllBytes(share.files().get("larger-than-region"));
        assertEquals("window 1 " + TestShare.sha256(Arrays.copyOfRange(source, TestShare.WINDOW, 2 * TestShare.WINDOW)),
            lines.readLine(), "the answer that came woke the agent, with the right bytes");
        go.close();
        assertTrue(waiter.waitFor(30, TimeUnit.SECONDS), "the agent exited");
        assertEquals(0, waiter.exitValue());
    }
}
