package dev.pcb.it;

import dev.pcb.agent.AgentConfig;
import dev.pcb.agent.PcbAgent;
import dev.pcb.agent.PcbException;
import dev.pcb.agent.PcbFile;
import dev.pcb.agent.WindowView;
import dev.pcb.layout.CountersSnapshot;
import dev.pcb.testsupport.BrokerProcess;
import dev.pcb.testsupport.PcbCommand;
import dev.pcb.testsupport.TestShare;
import dev.pcb.protocol.ErrorCode;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static dev.pcb.layout.CounterType.GUEST_CLIENTS;
import static dev.pcb.layout.CounterType.GUEST_HANDLES;
import static dev.pcb.layout.CounterType.GUEST_PINS;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A broker that pauses (SIGSTOP, then SIGCONT) for longer than its heartbeat lease is only waited for: a long read
 * completes with the right bytes, a call whose own deadline passes fails with a clear timeout and the next call
 * works, and the answers the broker sends late, for calls no one waits for any more, give back what they pinned.
 */
@Timeout(120)
class BrokerPauseTest
{
    /** Longer than the broker lease agents are told (3 s by default). */
    private static final long PAUSE_MS = 4_500;

    @TempDir
    Path shareDir;

    private TestShare share;
    private BrokerProcess broker;
    private final List<AutoCloseable> closeables = new ArrayList<>();
    private final ExecutorService threads = Executors.newSingleThreadExecutor();

    @AfterEach
    void tearDown() throws Exception
    {
        threads.shutdownNow();
        threads.awaitTermination(30, TimeUnit.SECONDS);
        for (int i = closeables.size() - 1; i >= 0; i--)
        {
            closeables.get(i).close();
        }
        if (null != broker)
        {
            broker.close();
        }
    }

    @Test
    void aLongReadSurvivesAPauseLongerThanTheHeartbeatLease() throws Exception
    {
        start();
        final PcbAgent agent = agent(Duration.ofSeconds(30));
        final PcbFile file = open(agent, "data/larger-than-region");
        final byte[] source = Files.readAllBytes(share.files().get("larger-than-region"));
        try (WindowView first = file.acquire(0))
        {
            TestShare.assertView(source, first);
        }

        broker.pause();
        // Every window after the first is a miss: the reader waits on the paused broker past its lease.
        final Future<byte[]> reader = threads.submit(() ->
        {
            final byte[] read = new byte[source.length];
            try (WindowView first = file.acquire(0))
            {
                first.buffer().getBytes(0, read, 0, first.length());
            }
            for (long w = 1; w < file.windowCount(); w++)
            {
                try (WindowView view = file.acquire(w))
                {
                    view.buffer().getBytes(0, read, (int)view.fileOffset(), view.length());
                }
            }
            return read;
        });
        Thread.sleep(PAUSE_MS);
        assertFalse(reader.isDone(), "the reader waited for the paused broker");
        broker.resume();

        final byte[] read = reader.get(60, TimeUnit.SECONDS);
        assertEquals(TestShare.sha256(source), TestShare.sha256(read), "every byte read right across the pause");
        try (WindowView view = file.acquire(file.windowCount() - 1))
        {
            TestShare.assertView(source, view);
        }
    }

    @Test
    void aCallWhoseDeadlinePassesDuringAPauseFailsAndTheNextCallWorks() throws Exception
    {
        start();
        final PcbAgent agent = agent(Duration.ofMillis(1_500));
        final PcbFile file = open(agent, "data/three-and-a-half");
        final byte[] source = Files.readAllBytes(share.files().get("three-and-a-half"));
        file.acquire(0).close();

        broker.pause();
        final long startNs = System.nanoTime();
        final PcbException timedOut = assertThrows(PcbException.class, () -> file.acquire(1));
        final long waitedMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startNs);
        assertEquals(ErrorCode.IO_ERROR, timedOut.code(), timedOut.getMessage());
        assertTrue(timedOut.getMessage().startsWith("ACQUIRE not answered within 1500 ms"), timedOut.getMessage());
        assertTrue(waitedMs >= 1_400 && waitedMs < PAUSE_MS, "failed at its own deadline: " + waitedMs + " ms");
        Thread.sleep(PAUSE_MS - waitedMs);
        broker.resume();

        try (WindowView view = file.acquire(2))
        {
            TestShare.assertView(source, view);
        }
        try (WindowView view = file.acquire(1))
        {
            TestShare.assertView(source, view);
        }
        assertEquals(source.length, agent.stat("data/three-and-a-half").size());
    }

    @Test
    void lateAnswersGiveBackTheirPinsAndHandles() throws Exception
    {
        start();
        final PcbAgent agent = agent(Duration.ofMillis(1_000));
        final PcbFile file = open(agent, "data/three-and-a-half");
        final byte[] source = Files.readAllBytes(share.files().get("three-and-a-half"));
        file.acquire(0).close();
        PcbCommand.awaitCounters(broker.runDir(), (c) -> 0 == c.value(GUEST_PINS, "vm1"));

        broker.pause();
        // Both reach the broker, which pins and opens for them once it runs again, after both callers gave up.
        assertThrows(PcbException.class, () -> file.acquire(1));
        assertThrows(PcbException.class, () -> agent.open("data/window"));
        Thread.sleep(PAUSE_MS - 2_000);
        broker.resume();

        CountersSnapshot s = PcbCommand.awaitCounters(broker.runDir(), (c) ->
            0 == c.value(GUEST_PINS, "vm1") && 1 == c.value(GUEST_HANDLES, "vm1"));
        assertEquals(0, s.value(GUEST_PINS, "vm1"), "the late ACQUIRED was released");
        assertEquals(1, s.value(GUEST_HANDLES, "vm1"), "the late OPENED was closed; the file opened before is open");

        // A retry pins once, and gives it back at close.
        final WindowView view = file.acquire(1);
        TestShare.assertView(source, view);
        PcbCommand.awaitCounters(broker.runDir(), (c) -> 1 == c.value(GUEST_PINS, "vm1"));
        view.close();
        s = PcbCommand.awaitCounters(broker.runDir(), (c) -> 0 == c.value(GUEST_PINS, "vm1"));
        assertEquals(0, s.value(GUEST_PINS, "vm1"));
    }

    @Test
    void anAgentClosesAtOnceDuringAPauseAndTheBrokerReleasesItAfter() throws Exception
    {
        start();
        final PcbAgent agent = agent(Duration.ofSeconds(30));
        final PcbFile file = agent.open("data/three-and-a-half");
        file.acquire(0);
        PcbCommand.awaitCounters(broker.runDir(), (c) -> 1 == c.value(GUEST_PINS, "vm1"));

        broker.pause();
        Thread.sleep(PAUSE_MS);
        final long startNs = System.nanoTime();
        agent.close();
        final long closeMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startNs);
        assertTrue(closeMs < 2_000, "close did not wait for the paused broker: " + closeMs + " ms");
        broker.resume();

        final CountersSnapshot s = PcbCommand.awaitCounters(broker.runDir(), (c) ->
            0 == c.value(GUEST_CLIENTS, "vm1") && 0 == c.value(GUEST_PINS, "vm1"));
        assertEquals(0, s.value(GUEST_HANDLES, "vm1"), "the given-back slot released the handle and its pin");
    }

    @Test
    void aCallInProgressWhenAnotherThreadClosesTheAgentEndsWithAnError() throws Exception
    {
        start();
        final PcbAgent agent = agent(Duration.ofSeconds(30));
        final PcbFile file = open(agent, "data/three-and-a-half");
        file.acquire(0).close();

        broker.pause();
        final Future<PcbException> waiting = threads.submit(() ->
        {
            try (WindowView ignored = file.acquire(1))
            {
                return null;
            }
            catch (final PcbException ex)
            {
                return ex;
            }
        });
        // The ACQUIRE is written and its thread waits (a paused broker cannot answer); past the broker lease, so the
        // close gives the slot back at once instead of asking the broker to DETACH.
        Thread.sleep(PAUSE_MS);
        final long startNs = System.nanoTime();
        agent.close();
        // Before the close counted calls in progress it unmapped the control region under this one: SIGSEGV.
        final PcbException ended = waiting.get(10, TimeUnit.SECONDS);
        final long endedMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startNs);
        broker.resume();
        assertNotNull(ended, "an ACQUIRE was answered by a paused broker");
        assertEquals(ErrorCode.SHUTTING_DOWN, ended.code(), ended.getMessage());
        assertEquals("agent is closed", ended.getMessage());
        assertTrue(endedMs < 5_000, "the waiting call ended " + endedMs + " ms after the close");
        PcbCommand.awaitCounters(broker.runDir(), (c) -> 0 == c.value(GUEST_CLIENTS, "vm1"));
    }

    private void start() throws Exception
    {
        share = TestShare.create(shareDir);
        broker = BrokerProcess.start(BrokerProcess.newRunDir("pause"), "--share", "data=" + shareDir,
            "--guest", "vm1", "--region-size", Long.toString(TestShare.REGION),
            "--window-size", Integer.toString(TestShare.WINDOW), "--read-ahead", "0");
    }

    private PcbAgent agent(final Duration requestTimeout) throws Exception
    {
        // No retained windows: every close releases at once, so the broker's pin gauge is exactly what is held.
        final PcbAgent agent = PcbAgent.attach(new AgentConfig().runDir(broker.runDir()).guest("vm1")
            .retainedWindows(0).requestTimeout(requestTimeout).connectTimeout(Duration.ofSeconds(20)));
        closeables.add(agent);
        return agent;
    }

    private PcbFile open(final PcbAgent agent, final String path) throws Exception
    {
        final PcbFile file = agent.open(path);
        closeables.add(file);
        return file;
    }
}
