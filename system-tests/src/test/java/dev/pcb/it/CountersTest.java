package dev.pcb.it;

import dev.pcb.agent.AgentConfig;
import dev.pcb.agent.PcbAgent;
import dev.pcb.agent.PcbException;
import dev.pcb.agent.PcbFile;
import dev.pcb.agent.WindowView;
import dev.pcb.layout.CountersSnapshot;
import dev.pcb.protocol.ErrorCode;
import dev.pcb.testsupport.AgentProcess;
import dev.pcb.testsupport.BrokerProcess;
import dev.pcb.testsupport.PcbCommand;
import dev.pcb.testsupport.PcbExtension;
import dev.pcb.testsupport.TestShare;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.nio.file.Files;
import java.time.Duration;
import java.util.SplittableRandom;

import static dev.pcb.layout.CounterType.BYTES_FILLED;
import static dev.pcb.layout.CounterType.CLIENTS_ATTACHED;
import static dev.pcb.layout.CounterType.CLIENTS_DETACHED;
import static dev.pcb.layout.CounterType.ERRORS;
import static dev.pcb.layout.CounterType.ERRORS_BY_CODE;
import static dev.pcb.layout.CounterType.EVICTIONS;
import static dev.pcb.layout.CounterType.FILLS;
import static dev.pcb.layout.CounterType.FILL_TIME;
import static dev.pcb.layout.CounterType.GUEST_CLIENTS;
import static dev.pcb.layout.CounterType.GUEST_HANDLES;
import static dev.pcb.layout.CounterType.GUEST_LAST_HEARTBEAT;
import static dev.pcb.layout.CounterType.GUEST_PINS;
import static dev.pcb.layout.CounterType.GUEST_REQUESTS;
import static dev.pcb.layout.CounterType.HITS;
import static dev.pcb.layout.CounterType.MISSES;
import static dev.pcb.layout.CounterType.NO_SPACE;
import static dev.pcb.layout.CounterType.OPENS;
import static dev.pcb.layout.CounterType.RELEASES;
import static dev.pcb.layout.CounterType.REQUESTS;
import static dev.pcb.layout.CounterType.RETAINED_RECLAIMS;
import static dev.pcb.layout.CounterType.STALE;
import static dev.pcb.layout.CounterType.WINDOWS;
import static dev.pcb.layout.CounterType.WINDOWS_FREE;
import static dev.pcb.layout.CounterType.WINDOWS_PINNED;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A known workload against a fresh broker, and the exact counts it must leave in the shared-memory counters: three
 * files each within one window, read once (three misses, three fills), again while retained (no request), then by a
 * second process that retains nothing (three hits, three releases).
 */
@Timeout(180)
class CountersTest
{
    private static final int[] SIZES = {1000, 30_000, TestShare.WINDOW};

    @RegisterExtension
    final PcbExtension pcb = new PcbExtension("counters");

    private BrokerProcess broker;
    private PcbAgent agent;
    private final PcbFile[] files = new PcbFile[SIZES.length];

    @BeforeEach
    void setUp() throws Exception
    {
        final SplittableRandom random = new SplittableRandom(11);
        for (int i = 0; i < SIZES.length; i++)
        {
            final byte[] bytes = new byte[SIZES[i]];
            random.nextBytes(bytes);
            Files.write(pcb.shareDir().resolve("f" + i), bytes);
        }
        broker = pcb.startBroker();
        agent = pcb.agent("vm1");
    }

    @AfterEach
    void tearDown() throws Exception
    {
        for (final PcbFile file : files)
        {
            if (null != file)
            {
                file.close();
            }
        }
    }

    @Test
    void aKnownWorkloadLeavesExactCounts() throws Exception
    {
        final long startMs = System.currentTimeMillis();
        for (int i = 0; i < files.length; i++)
        {
            files[i] = agent.open("data/f" + i);
        }
        readEachOnce();
        // Read again while the agent retains the windows: no request at all.
        readEachOnce();
        CountersSnapshot s = PcbCommand.awaitCounters(broker.runDir(), (c) ->
            3 == c.value(GUEST_PINS, "vm1") && 3 == c.value(GUEST_HANDLES, "vm1"));
        assertEquals(0, s.value(HITS));
        assertEquals(0, s.value(RELEASES));
        assertEquals(2, s.value(WINDOWS_PINNED, "data"), "two small files share one packed window");

        // Closing the files releases the retained windows; a second process that retains nothing then hits thrice.
        for (int i = 0; i < files.length; i++)
        {
            files[i].close();
            files[i] = null;
        }
        try (PcbAgent second = PcbAgent.attach(new AgentConfig().runDir(broker.runDir()).guest("vm1")
            .retainedWindows(0).connectTimeout(Duration.ofSeconds(20))))
        {
            for (int i = 0; i < files.length; i++)
            {
                files[i] = second.open("data/f" + i);
            }
            readEachOnce();
            for (int i = 0; i < files.length; i++)
            {
                files[i].close();
                files[i] = null;
            }
        }

        // RELEASE has no answer and the gauges are sampled: wait until all six releases and the handles show.
        s = PcbCommand.awaitCounters(broker.runDir(), (c) ->
            6 == c.value(RELEASES) && 0 == c.value(GUEST_HANDLES, "vm1") && 1 == c.value(GUEST_CLIENTS, "vm1"));
        assertEquals(6, s.value(OPENS));
        assertEquals(3, s.value(MISSES));
        assertEquals(3, s.value(FILLS));
        assertEquals(3, s.value(HITS));
        assertEquals(SIZES[0] + SIZES[1] + SIZES[2], s.value(BYTES_FILLED));
        assertEquals(6, s.value(RELEASES));
        assertEquals(0, s.value(RETAINED_RECLAIMS), "the region never ran out of room");
        assertTrue(s.value(FILL_TIME) > 0, "fill time is measured");
        assertEquals(0, s.value(EVICTIONS));
        assertEquals(0, s.value(STALE));
        assertEquals(0, s.value(ERRORS));
        assertEquals(0, s.value(NO_SPACE));
        assertEquals(2, s.value(CLIENTS_ATTACHED));
        assertEquals(0, s.value(CLIENTS_DETACHED));
        // 2 ATTACH, 6 OPEN, 6 ACQUIRE, 6 RELEASE, 6 CLOSE, 1 DETACH; all of them from vm1.
        assertEquals(27, s.value(REQUESTS));
        assertEquals(s.value(REQUESTS), s.value(GUEST_REQUESTS, "vm1"));

        final long windows = s.value(WINDOWS, "data");
        assertEquals(TestShare.REGION / TestShare.WINDOW - 1, windows, "1 MiB of 64 KiB windows, less the table");
        // The 1000 and 30,000 byte files are packed into one window; the one-window file has its own.
        assertEquals(windows - 2, s.value(WINDOWS_FREE, "data"), s.counters().toString());
        assertEquals(0, s.value(WINDOWS_PINNED, "data"));
        assertEquals(0, s.value(GUEST_PINS, "vm1"));
        final long heartbeat = s.value(GUEST_LAST_HEARTBEAT, "vm1");
        assertTrue(heartbeat >= startMs - 1000 && heartbeat <= System.currentTimeMillis(), "heartbeat " + heartbeat);

        assertEquals(0, s.value(GUEST_CLIENTS, "vm2"));
        assertEquals(0, s.value(GUEST_HANDLES, "vm2"));
        assertEquals(0, s.value(GUEST_REQUESTS, "vm2"));
        assertEquals(0, s.value(GUEST_LAST_HEARTBEAT, "vm2"), "never heard from");
        assertTrue(s.isBrokerUp());
    }

    private void readEachOnce() throws PcbException
    {
        for (final PcbFile file : files)
        {
            try (WindowView view = file.acquire(0))
            {
                assertEquals(file.size(), view.length());
            }
        }
    }

    @Test
    void pinsHandlesErrorsAndASecondGuestAreCounted() throws Exception
    {
        files[0] = agent.open("data/f0");
        final WindowView held = files[0].acquire(0);
        CountersSnapshot s = PcbCommand.awaitCounters(broker.runDir(), (c) ->
            1 == c.value(GUEST_PINS, "vm1") && 1 == c.value(GUEST_HANDLES, "vm1"));
        assertEquals(1, s.value(WINDOWS_PINNED, "data"));
        assertEquals(1, s.value(MISSES));

        final PcbException missing = assertThrows(PcbException.class, () -> agent.open("data/no-such-file"));
        assertEquals(ErrorCode.NO_SUCH_FILE, missing.code());
        s = PcbCommand.awaitCounters(broker.runDir(), (c) -> 1 == c.value(ERRORS));
        assertEquals(1, s.value(ERRORS_BY_CODE, "NO_SUCH_FILE"));
        assertEquals(0, s.value(ERRORS_BY_CODE, "STALE"));

        // Another guest reads the same file in its own process: a hit on the one shared copy.
        final AgentProcess cat = AgentProcess.run(broker, "vm2", "cat", "data/f0");
        assertEquals(0, cat.exitCode(), cat.stderr());
        s = PcbCommand.awaitCounters(broker.runDir(), (c) -> 2 == c.value(OPENS) && 1 == c.value(RELEASES) &&
            0 == c.value(GUEST_CLIENTS, "vm2"));
        assertEquals(1, s.value(HITS));
        assertEquals(1, s.value(MISSES));
        assertEquals(1, s.value(FILLS));
        assertEquals(2, s.value(CLIENTS_ATTACHED));
        assertTrue(s.value(GUEST_REQUESTS, "vm2") >= 4, "ATTACH, OPEN, ACQUIRE, RELEASE at least");
        assertTrue(s.value(GUEST_LAST_HEARTBEAT, "vm2") > 0);

        held.close();
        files[0].close();
        files[0] = null;
        s = PcbCommand.awaitCounters(broker.runDir(), (c) ->
            0 == c.value(GUEST_PINS, "vm1") && 0 == c.value(GUEST_HANDLES, "vm1"));
        assertEquals(0, s.value(WINDOWS_PINNED, "data"));
        assertEquals(1, s.value(GUEST_CLIENTS, "vm1"), "the agent is still attached");
    }
}
