package dev.pcb.it;

import dev.pcb.agent.PcbAgent;
import dev.pcb.agent.PcbFile;
import dev.pcb.agent.WindowView;
import dev.pcb.layout.CountersSnapshot;
import dev.pcb.testsupport.BrokerProcess;
import dev.pcb.testsupport.PcbCommand;
import dev.pcb.testsupport.PcbExtension;
import dev.pcb.testsupport.TestShare;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

import static dev.pcb.layout.CounterType.ERRORS;
import static dev.pcb.layout.CounterType.GUEST_HANDLES;
import static dev.pcb.layout.CounterType.GUEST_PINS;
import static dev.pcb.layout.CounterType.GUEST_REQUESTS;
import static dev.pcb.layout.CounterType.FILLS;
import static dev.pcb.layout.CounterType.RETAINED_RECLAIMS;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Retained windows: a process keeps the pins of windows it closed so reading them again costs no round trip, and the
 * broker takes those pins back whenever another reader needs the room, so retaining never makes anyone's read fail
 * and never changes a byte anyone reads.
 */
@Timeout(180)
class RetainedWindowsTest
{
    @RegisterExtension
    final PcbExtension pcb = new PcbExtension("retained");

    @TempDir
    Path shareDir;

    private TestShare share;
    private BrokerProcess broker;

    @Test
    void aClosedWindowIsReadAgainWithoutAMessage() throws Exception
    {
        start();
        final PcbAgent agent = agent("vm1", 256);
        final PcbFile file = open(agent, "data/three-and-a-half");
        final byte[] source = Files.readAllBytes(share.files().get("three-and-a-half"));
        for (long w = 0; w < file.windowCount(); w++)
        {
            try (WindowView view = file.acquire(w))
            {
                TestShare.assertView(source, view);
            }
        }
        CountersSnapshot s = PcbCommand.awaitCounters(broker.runDir(), (c) -> 4 == c.value(GUEST_PINS, "vm1"));
        final long requests = s.value(GUEST_REQUESTS, "vm1");

        for (int round = 0; round < 100; round++)
        {
            for (long w = 0; w < file.windowCount(); w++)
            {
                try (WindowView view = file.acquire(w))
                {
                    TestShare.assertView(source, view);
                }
            }
        }
        agent.stat("data/window");
        s = PcbCommand.awaitCounters(broker.runDir(), (c) -> c.value(GUEST_REQUESTS, "vm1") > requests);
        assertEquals(requests + 1, s.value(GUEST_REQUESTS, "vm1"), "400 reads of retained windows sent no message");
        assertEquals(4, s.value(FILLS), "each window filled once");

        // Window 0 read again (its entry stays bound to the view) while the file closes: the parked windows are
        // released at once, window 0 at its last close, and then the handle.
        final WindowView reading = file.acquire(0);
        file.close();
        TestShare.assertView(source, reading);
        reading.close();
        s = PcbCommand.awaitCounters(broker.runDir(), (c) ->
            0 == c.value(GUEST_PINS, "vm1") && 0 == c.value(GUEST_HANDLES, "vm1"));
        assertEquals(0, s.value(ERRORS), "closing the file released its retained windows, then closed the handle");
    }

    @Test
    void retainedWindowsAreTakenBackForAnotherReader() throws Exception
    {
        // No read-ahead: the first reader is to end up with exactly the whole region retained.
        start("--read-ahead", "0");
        final PcbAgent retainer = agent("vm1", 256);
        final PcbAgent reader = agent("vm2", 0);
        final byte[] big = Files.readAllBytes(share.files().get("larger-than-region"));
        final PcbFile retained = open(retainer, "data/larger-than-region");
        // The whole region ends up retained by vm1: 15 windows, all pinned, none read now.
        for (long w = 0; w < 15; w++)
        {
            try (WindowView view = retained.acquire(w))
            {
                TestShare.assertView(big, view);
            }
        }
        PcbCommand.awaitCounters(broker.runDir(), (c) -> 15 == c.value(GUEST_PINS, "vm1"));

        // vm2 needs every window of the region, twice over: each ACQUIRE that finds no room takes retained pins back.
        for (final String name : List.of("tree/c/other.bin", "three-and-a-half", "larger-than-region"))
        {
            try (PcbFile file = reader.open("data/" + name))
            {
                readAll(file, Files.readAllBytes(share.files().get(name)));
            }
        }
        final CountersSnapshot s = PcbCommand.awaitCounters(broker.runDir(), (c) -> c.value(RETAINED_RECLAIMS) > 0);
        assertEquals(0, s.value(ERRORS), "no reader was refused: " + s.counters());

        // vm1 reads its file again: windows it still retains and windows taken from it both read true.
        readAll(retained, big);
    }

    @Test
    void thePinQuotaTakesRetainedWindowsBackFirst() throws Exception
    {
        start("--max-pins", "3");
        final PcbAgent agent = agent("vm1", 256);
        final byte[] big = Files.readAllBytes(share.files().get("larger-than-region"));
        try (PcbFile file = agent.open("data/larger-than-region"))
        {
            readAll(file, big);
        }
        final CountersSnapshot s = PcbCommand.awaitCounters(broker.runDir(), (c) -> 0 == c.value(GUEST_PINS, "vm1"));
        assertEquals(0, s.value(ERRORS), "33 windows read under a quota of 3 pins: " + s.counters());
        assertTrue(s.value(RETAINED_RECLAIMS) >= 30, "reclaims: " + s.value(RETAINED_RECLAIMS));
    }

    @Test
    void threadsRetainingAndRevivingWhileTheBrokerReclaimsReadTrueBytes() throws Exception
    {
        start();
        final PcbAgent retainer = agent("vm1", 256);
        final PcbAgent churner = agent("vm2", 0);
        final byte[] big = Files.readAllBytes(share.files().get("larger-than-region"));
        final PcbFile file = open(retainer, "data/larger-than-region");
        final byte[] other = Files.readAllBytes(share.files().get("tree/c/other.bin"));
        final AtomicBoolean stop = new AtomicBoolean();
        final AtomicLong reads = new AtomicLong();
        final ExecutorService threads = Executors.newFixedThreadPool(4);
        try
        {
            final List<Future<?>> readers = new ArrayList<>();
            for (int t = 0; t < 3; t++)
            {
                final int seed = t;
                readers.add(threads.submit(() ->
                {
                    // Few windows at random so that threads meet on the same ones; never more than fit the region.
                    final SplittableRandom random = new SplittableRandom(seed);
                    while (!stop.get())
                    {
                        try (WindowView view = file.acquire(random.nextInt(8)))
                        {
                            TestShare.assertView(big, view);
                        }
                        reads.incrementAndGet();
                    }
                    return null;
                }));
            }
            readers.add(threads.submit(() ->
            {
                // Another guest reading a file of 3 windows over and over: misses that need room keep coming.
                while (!stop.get())
                {
                    try (PcbFile f = churner.open("data/tree/c/other.bin"))
                    {
                        readAll(f, other);
                    }
                    try (PcbFile f = churner.open("data/three-and-a-half"))
                    {
                        f.acquire(1).close();
                    }
                }
                return null;
            }));
            Thread.sleep(3_000);
            stop.set(true);
            for (final Future<?> reader : readers)
            {
                reader.get(30, TimeUnit.SECONDS);
            }
        }
        finally
        {
            stop.set(true);
            threads.shutdownNow();
            assertTrue(threads.awaitTermination(30, TimeUnit.SECONDS));
        }
        assertTrue(reads.get() > 1000, "reads: " + reads.get());
        file.close();
        final CountersSnapshot s = PcbCommand.awaitCounters(broker.runDir(), (c) ->
            0 == c.value(GUEST_PINS, "vm1") && 0 == c.value(GUEST_HANDLES, "vm1"));
        assertEquals(0, s.value(ERRORS), s.counters().toString());
    }

    private void start(final String... extra) throws Exception
    {
        share = TestShare.create(shareDir);
        final List<String> args = new ArrayList<>(List.of("--share", "data=" + shareDir,
            "--guest", "vm1", "--guest", "vm2", "--region-size", Long.toString(TestShare.REGION),
            "--window-size", Integer.toString(TestShare.WINDOW)));
        args.addAll(Arrays.asList(extra));
        broker = pcb.startBrokerWith(args.toArray(new String[0]));
    }

    private PcbAgent agent(final String guest, final int retainedWindows) throws Exception
    {
        return pcb.track(PcbAgent.attach(pcb.agentConfig(guest).retainedWindows(retainedWindows)));
    }

    private PcbFile open(final PcbAgent agent, final String path) throws Exception
    {
        return pcb.track(agent.open(path));
    }

    private static void readAll(final PcbFile file, final byte[] source) throws Exception
    {
        for (long w = 0; w < file.windowCount(); w++)
        {
            try (WindowView view = file.acquire(w))
            {
                TestShare.assertView(source, view);
            }
        }
    }
}
