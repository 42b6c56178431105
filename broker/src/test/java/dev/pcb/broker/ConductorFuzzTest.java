package dev.pcb.broker;

import dev.pcb.broker.ConductorHarness.Answer;
import dev.pcb.broker.ConductorHarness.Client;
import dev.pcb.layout.ClientSlotDescriptor;
import dev.pcb.layout.WindowDescriptor;
import dev.pcb.protocol.AcquiredResponse;
import dev.pcb.protocol.FileAttributes;
import dev.pcb.protocol.HoldRequest;
import dev.pcb.protocol.MessageType;
import dev.pcb.protocol.OpenedResponse;
import dev.pcb.protocol.PathRequest;
import dev.pcb.protocol.WindowRequest;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

import static dev.pcb.broker.ConductorHarness.WINDOW;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * A stateful fuzz of the broker conductor in-process (see {@link ConductorHarness}): hostile clients on three slots
 * of two guests learn real handle ids and window generations from the answers and send OPEN, STAT, LIST, ACQUIRE,
 * RELEASE, HOLD and CLOSE with extreme values and bad lengths, while the test, which is the filler and metadata
 * pool, completes fills and metadata tasks in random order relative to the RELEASEs and CLOSEs that concern them,
 * changes files on the host so that pending fills fail, fills the share, churns slots and restarts the conductor over
 * the same regions.
 * <p>
 * Checked after every operation: nothing escaped the duty cycle (an exception fails the test where it is thrown), no
 * hostile client was detached (they keep their rings well formed and heartbeat, so a detach means a record threw
 * past the request handler), the pins every guest is charged equal the pins of the window table, and every ACQUIRED
 * names a window inside its file and points at the file's bytes. After each phase, once the hostile clients have
 * left: no window pinned, FILLING or quarantined, no handle or pin charged, the catalog no larger than the windows
 * (the versions still cached), descriptors bounded, and an honest client reads every byte of every file right.
 * <p>
 * Seeded and bounded by a number of operations: {@code -Dpcb.conductorFuzz.seed=N} replays a run (the default seed is
 * fixed, so CI is repeatable), {@code -Dpcb.conductorFuzz.operations=N} sets the operations per phase.
 */
class ConductorFuzzTest
{
    private static final long SEED = Long.getLong("pcb.conductorFuzz.seed", 0x5EED_C0DEL);
    private static final int OPERATIONS = Integer.getInteger("pcb.conductorFuzz.operations", 4_000);
    private static final int PACK_THRESHOLD = 1024;
    private static final long[] EXTREMES = {
        0, 1, -1, 2, Integer.MAX_VALUE, Integer.MIN_VALUE, 0xFFFF_FFFFL, 1L << 32, Long.MAX_VALUE, Long.MIN_VALUE,
        Long.MAX_VALUE - 1, Long.MIN_VALUE + 1};
    /** Files and their sizes; host rewrites change a size, never the byte at an offset (ConductorHarness.byteAt). */
    private static final String[] NAMES = {"big", "mid", "odd", "s1", "s2", "empty", "d/inner"};
    private static final long[] SIZES = {20L * WINDOW + 123, 3L * WINDOW, 2L * WINDOW + 1, 100, 1000, 0, WINDOW + 5};

    private enum Phase
    {
        REQUESTS(false, false, false),
        FAILING_FILLS(true, false, false),
        SLOT_CHURN(true, true, false),
        RESTARTS(true, true, true);

        final boolean rewrites;
        final boolean churn;
        final boolean restarts;

        Phase(final boolean rewrites, final boolean churn, final boolean restarts)
        {
            this.rewrites = rewrites;
            this.churn = churn;
            this.restarts = restarts;
        }
    }

    private final SplittableRandom random = new SplittableRandom(SEED);
    private final long[] sizes = SIZES.clone();
    private final List<Hostile> hostiles = new ArrayList<>();
    private final ArrayDeque<String> warnings = new ArrayDeque<>();
    private final Logger logger = Logger.getLogger("pcb.broker");
    private final Handler warningHandler = new Handler()
    {
        public void publish(final LogRecord record)
        {
            if (record.getLevel().intValue() >= Level.WARNING.intValue())
            {
                warnings.add(record.getMessage());
                if (warnings.size() > 20)
                {
                    warnings.poll();
                }
            }
        }

        public void flush()
        {
        }

        public void close()
        {
        }
    };
    private ConductorHarness harness;
    private long nextOwnerId = 0x7000_0000_0000L;
    private long operations;
    private long records;
    private long fillsRun;
    private long staleAnswers;
    private long acquired;
    private long restarts;
    private long baseDescriptors;

    @AfterEach
    void tearDown()
    {
        logger.removeHandler(warningHandler);
        logger.setUseParentHandlers(true);
        if (null != harness)
        {
            harness.close();
        }
    }

    @Test
    void hostileClientsWithRealHandlesLeaveNoPinNoFillingWindowAndRightBytes() throws IOException
    {
        System.out.println("conductor fuzz seed " + SEED + " (replay: -Dpcb.conductorFuzz.seed=" + SEED + "), " +
            OPERATIONS + " operations per phase (-Dpcb.conductorFuzz.operations)");
        logger.addHandler(warningHandler);
        // Thousands of refusals: kept for the failure message, not printed.
        logger.setUseParentHandlers(false);
        harness = new ConductorHarness((c) -> c
            .readAheadWindows(2)
            .packThreshold(PACK_THRESHOLD)
            .clientLeaseMs(1_000)
            .brokerLeaseMs(1_000));
        Files.createDirectories(harness.dir().resolve("share").resolve("d"));
        for (int i = 0; i < NAMES.length; i++)
        {
            harness.file(NAMES[i], sizes[i]);
        }
        baseDescriptors = openDescriptors();
        for (final Phase phase : Phase.values())
        {
            hostiles.clear();
            hostiles.add(new Hostile(0, 0));
            hostiles.add(new Hostile(0, 1));
            hostiles.add(new Hostile(1, 0));
            for (int op = 0; op < OPERATIONS; op++)
            {
                operations++;
                try
                {
                    step(phase);
                    checkAfterStep();
                }
                catch (final Throwable ex)
                {
                    throw new AssertionError("seed " + SEED + ", phase " + phase + ", operation " + op + ": " + ex +
                        "; last broker warnings: " + warnings, ex);
                }
            }
            try
            {
                settleAndCheckBaseline(phase);
            }
            catch (final Throwable ex)
            {
                throw new AssertionError("seed " + SEED + ", after phase " + phase + ": " + ex +
                    "; last broker warnings: " + warnings, ex);
            }
        }
        System.out.println("conductor fuzz: " + Phase.values().length + " phases, " + operations + " operations, " +
            records + " records, " + fillsRun + " fills run, " + staleAnswers +
            " ACQUIREs answered STALE, " + acquired +
            " ACQUIRED verified, " + restarts + " restarts");
    }

    private void step(final Phase phase) throws IOException
    {
        final int choice = random.nextInt(100);
        if (choice < 55)
        {
            hostiles.get(random.nextInt(hostiles.size())).act();
        }
        else if (choice < 75)
        {
            if (harness.pendingFills() > 0)
            {
                harness.runFill(random.nextInt(harness.pendingFills()));
                fillsRun++;
            }
        }
        else if (choice < 85)
        {
            if (harness.pendingMetadata() > 0)
            {
                harness.runMetadataTask(random.nextInt(harness.pendingMetadata()));
            }
        }
        else if (choice < 88 && phase.rewrites)
        {
            // The host changes a file: the fills of its open versions pending now fail STALE.
            final int file = random.nextInt(NAMES.length);
            sizes[file] = Math.max(0, SIZES[file] + random.nextInt(-2, 3) * (random.nextBoolean() ? 1 : WINDOW));
            harness.file(NAMES[file], sizes[file]);
        }
        else if (choice < 90 && phase.churn)
        {
            // A process gives its slot back and a new one takes it.
            final int index = random.nextInt(hostiles.size());
            final Hostile old = hostiles.get(index);
            old.client.leave();
            hostiles.set(index, new Hostile(old.guestIndex, old.slotIndex));
        }
        else if (choice < 91 && phase.restarts && random.nextInt(4) == 0)
        {
            restart();
        }
        else
        {
            harness.advanceMs(random.nextInt(1, 50));
            harness.work();
        }
    }

    private void restart() throws IOException
    {
        harness.restart();
        restarts++;
        // The stopped conductor's versions keep their descriptors until the process exits, as a broker's do when it
        // stops; the new conductor is measured from here.
        baseDescriptors = openDescriptors();
        for (final Hostile hostile : hostiles)
        {
            hostile.client.rebind();
            hostile.forgetHandles();
            hostile.attach();
        }
    }

    private void checkAfterStep()
    {
        for (final Hostile hostile : hostiles)
        {
            hostile.client.heartbeat();
            hostile.drainAnswers();
            assertEquals(hostile.client.ownerId(),
                hostile.client.slot().getLongVolatile(ClientSlotDescriptor.OWNER_ID_OFFSET),
                "hostile client of guest " + hostile.guestIndex + " slot " + hostile.slotIndex + " was detached");
        }
        final WindowTable table = harness.table();
        long tablePins = 0;
        for (int w = 0; w < table.count(); w++)
        {
            tablePins += table.pins(w);
        }
        assertEquals(tablePins, harness.guest(0).pins() + harness.guest(1).pins(),
            "pins charged to the guests and pins of the window table");
    }

    /**
     * The hostile clients leave, every pending fill and metadata task ends, the grace period of any restart passes:
     * the share must be back to its baseline and serve an honest client every byte right.
     */
    private void settleAndCheckBaseline(final Phase phase) throws IOException
    {
        for (final Hostile hostile : hostiles)
        {
            hostile.client.leave();
        }
        for (int i = 0; i < 100 && (harness.pendingFills() > 0 || harness.pendingMetadata() > 0); i++)
        {
            fillsRun += harness.runFills();
            harness.runMetadata();
        }
        for (int i = 0; i < 30; i++)
        {
            harness.advanceMs(100);
            harness.work();
        }
        final WindowTable table = harness.table();
        assertEquals(0, harness.pendingFills(), "fills left");
        assertEquals(0, harness.pendingMetadata(), "metadata tasks left");
        assertEquals(0, table.pinnedCount(), "windows pinned once every client left");
        assertEquals(0, table.quarantinedCount(), "windows still quarantined after the grace period");
        for (int w = 0; w < table.count(); w++)
        {
            assertNotEquals(WindowDescriptor.STATE_FILLING, table.state(w), "window " + w + " left FILLING");
        }
        for (int g = 0; g < 2; g++)
        {
            assertEquals(0, harness.guest(g).pins(), "pins charged to guest " + g);
            assertEquals(0, harness.guest(g).handles(), "handles charged to guest " + g);
        }
        final Catalog catalog = harness.share().catalog();
        assertTrue(catalog.versionCount() <= table.count(),
            "catalog holds " + catalog.versionCount() + " versions with no handle open, more than the " +
            table.count() + " windows that could keep them");
        assertTrue(catalog.pathCount() <= catalog.versionCount(), "paths " + catalog.pathCount());
        final long descriptors = openDescriptors();
        assertTrue(descriptors <= baseDescriptors + table.count() + 8,
            descriptors + " descriptors open, " + baseDescriptors + " at the start");
        honestRead();
        System.out.println("conductor fuzz phase " + phase + ": baseline held, " + catalog.versionCount() +
            " versions cached, " + descriptors + " descriptors (" + baseDescriptors + " at the start)");
    }

    /**
     * An honest client on the slot no hostile uses reads every window of every file and checks each byte.
     */
    private void honestRead()
    {
        final Client honest = harness.new Client(1, 1, nextOwnerId++);
        honest.claim();
        assertEquals(MessageType.ATTACHED, honest.attach().type());
        for (int i = 0; i < NAMES.length; i++)
        {
            final long handle = honest.open(NAMES[i]);
            final long windows = sizes[i] <= PACK_THRESHOLD ? Math.min(1, sizes[i]) : (sizes[i] + WINDOW - 1) / WINDOW;
            for (long w = 0; w < windows; w++)
            {
                honest.acquire(handle, w);
                Answer answer = honest.poll();
                for (int tries = 0; null == answer && tries < 10; tries++)
                {
                    harness.runFills();
                    answer = honest.poll();
                }
                final String what = NAMES[i] + " window " + w + ": " + answer;
                assertTrue(null != answer, what);
                assertEquals(MessageType.ACQUIRED, answer.type(), what);
                final AcquiredResponse response = new AcquiredResponse();
                response.wrap(answer.buffer(), 0);
                assertServes(NAMES[i], sizes[i], response);
                honest.release(handle, w);
            }
            assertEquals(MessageType.CLOSED, honest.close(handle).type());
        }
        honest.leave();
        assertEquals(0, harness.table().pinnedCount());
    }

    /**
     * An ACQUIRED names a window inside the file as it was opened, of the right length, holding the file's bytes.
     */
    private void assertServes(final String name, final long size, final AcquiredResponse response)
    {
        final long fileWindow = response.fileWindow();
        final String what = name + " (" + size + " bytes) ACQUIRED window " + fileWindow;
        if (size <= PACK_THRESHOLD)
        {
            assertEquals(0, fileWindow, what);
            assertEquals(size, response.length(), what);
        }
        else
        {
            assertTrue(fileWindow >= 0 && fileWindow < (size + WINDOW - 1) / WINDOW, what + ": past the end");
            assertEquals(0, response.offsetInWindow(), what);
            assertEquals(Math.min(WINDOW, size - fileWindow * WINDOW), response.length(), what);
        }
        final UnsafeBuffer window = new UnsafeBuffer(
            harness.share().region().windowAddress(response.regionWindow()), WINDOW);
        for (int i = 0; i < response.length(); i++)
        {
            if (ConductorHarness.byteAt(name, fileWindow * WINDOW + i) !=
                window.getByte(response.offsetInWindow() + i))
            {
                fail(what + ": wrong byte at " + i);
            }
        }
        acquired++;
    }

    private long extreme()
    {
        return EXTREMES[random.nextInt(EXTREMES.length)];
    }

    /**
     * A window index around the points where {@code index * WINDOW} overflows a long: it wraps into the file, or
     * to a negative offset.
     */
    private long overflowingWindow(final long windows)
    {
        final int shift = Long.numberOfTrailingZeros(WINDOW);
        final long k = random.nextLong(Math.max(1, windows));
        switch (random.nextInt(3))
        {
            case 0:
                return (1L << (64 - shift)) + k;
            case 1:
                return (1L << (63 - shift)) + k;
            default:
                return -(1L << (64 - shift)) + k;
        }
    }

    private static long openDescriptors() throws IOException
    {
        try (var fds = Files.list(Path.of("/proc/self/fd")))
        {
            return fds.count();
        }
    }

    /**
     * A client that means harm but keeps its ring well formed: what it sends is hostile, how it sends it is not.
     */
    private final class Hostile
    {
        final int guestIndex;
        final int slotIndex;
        final Client client;
        // What it learned from answers: handle id -> file index, and file size when opened.
        final Map<Long, Integer> handleFiles = new HashMap<>();
        final Map<Long, Long> handleSizes = new HashMap<>();
        final List<Long> handles = new ArrayList<>();
        // Sent and not yet answered: correlation id -> file index (OPEN) or {handle, window} (ACQUIRE).
        final Map<Long, Integer> opening = new HashMap<>();
        final Map<Long, long[]> acquiring = new HashMap<>();
        // {handle, fileWindow} answered ACQUIRED, and {regionWindow, generation} of every window it was given.
        final List<long[]> pins = new ArrayList<>();
        final List<long[]> windows = new ArrayList<>();
        final Map<Long, Long> closing = new HashMap<>();

        Hostile(final int guestIndex, final int slotIndex)
        {
            this.guestIndex = guestIndex;
            this.slotIndex = slotIndex;
            this.client = harness.new Client(guestIndex, slotIndex, nextOwnerId++);
            client.claim();
            attach();
        }

        void attach()
        {
            assertEquals(MessageType.ATTACHED, client.attach().type());
        }

        void forgetHandles()
        {
            handleFiles.clear();
            handleSizes.clear();
            handles.clear();
            opening.clear();
            acquiring.clear();
            pins.clear();
            closing.clear();
        }

        void act()
        {
            final int choice = random.nextInt(100);
            if (choice < 15)
            {
                open();
            }
            else if (choice < 22)
            {
                path(random.nextBoolean() ? MessageType.STAT : MessageType.LIST, randomPath(),
                    random.nextInt(4) == 0 ? extreme() : 0, random.nextInt(4) == 0 ? (int)extreme() : 10);
            }
            else if (choice < 50)
            {
                acquire();
            }
            else if (choice < 72)
            {
                release();
            }
            else if (choice < 78)
            {
                hold();
            }
            else if (choice < 88)
            {
                closeHandle();
            }
            else
            {
                malformed();
            }
        }

        private String randomPath()
        {
            final String name = NAMES[random.nextInt(NAMES.length)];
            switch (random.nextInt(8))
            {
                case 0:
                    return "./" + name;
                case 1:
                    return name.replace("/", "//./");
                case 2:
                    return "../" + name;
                case 3:
                    return "/" + name;
                case 4:
                    return random.nextBoolean() ? "." : "d";
                case 5:
                    return name + "\0x\n\u001b";
                case 6:
                    return "missing/" + name;
                default:
                    return name;
            }
        }

        private void open()
        {
            final int file = random.nextInt(NAMES.length);
            final String path = random.nextInt(4) == 0 ? "./" + NAMES[file] : NAMES[file];
            final long correlationId = path(MessageType.OPEN, path, 0, 0);
            if (0 != correlationId)
            {
                opening.put(correlationId, file);
            }
        }

        private long path(final int type, final String path, final long cookie, final int maxEntries)
        {
            final PathRequest request = new PathRequest();
            final UnsafeBuffer record = client.record();
            request.wrap(record, 0);
            request.shareId(random.nextInt(20) == 0 ? (int)extreme() : harness.share().id())
                .maxEntries(maxEntries).cookie(cookie);
            final int length = request.path(path);
            return send(type, length) ? record.getLong(0) : 0;
        }

        private boolean send(final int type, final int length)
        {
            records++;
            return client.trySend(type, length);
        }

        private long someHandle()
        {
            return handles.isEmpty() || random.nextInt(15) == 0 ? extreme() :
                handles.get(random.nextInt(handles.size()));
        }

        private void acquire()
        {
            final long handle = someHandle();
            final Long size = handleSizes.get(handle);
            final long windows = null == size ? 4 : (size + WINDOW - 1) / WINDOW;
            final int choice = random.nextInt(10);
            final long fileWindow = choice < 7 ? random.nextLong(Math.max(1, windows)) :
                choice < 8 ? windows + random.nextInt(-1, 2) : choice < 9 ? overflowingWindow(windows) : extreme();
            final long correlationId = window(MessageType.ACQUIRE, handle, fileWindow);
            if (0 != correlationId)
            {
                acquiring.put(correlationId, new long[] {handle, fileWindow});
            }
        }

        private void release()
        {
            final int choice = random.nextInt(10);
            if (choice < 4 && !pins.isEmpty())
            {
                final long[] pin = pins.remove(random.nextInt(pins.size()));
                window(MessageType.RELEASE, pin[0], pin[1]);
            }
            else if (choice < 8 && !acquiring.isEmpty())
            {
                // An ACQUIRE not answered yet: its fill may still be running (issue 14, item 6).
                final long[] pending = acquiring.values().stream().skip(random.nextInt(acquiring.size()))
                    .findFirst().orElseThrow();
                window(MessageType.RELEASE, pending[0], pending[1]);
            }
            else if (choice < 9 && !windows.isEmpty())
            {
                final long[] held = windows.get(random.nextInt(windows.size()));
                window(MessageType.RELEASE, WindowRequest.HELD_WINDOW_HANDLE,
                    WindowRequest.heldWindow(harness.share().id(), (int)held[0]));
            }
            else
            {
                window(MessageType.RELEASE, someHandle(), random.nextBoolean() ? extreme() : random.nextLong(-2, 30));
            }
        }

        private void hold()
        {
            final HoldRequest hold = new HoldRequest();
            hold.wrap(client.record(), 0);
            if (!windows.isEmpty() && random.nextInt(4) != 0)
            {
                final long[] known = windows.get(random.nextInt(windows.size()));
                hold.shareId(harness.share().id()).regionWindow((int)known[0])
                    .generation(random.nextInt(5) == 0 ? known[1] + random.nextInt(-1, 2) : known[1]);
            }
            else
            {
                hold.shareId(random.nextInt(5) == 0 ? (int)extreme() : harness.share().id())
                    .regionWindow(random.nextBoolean() ? (int)extreme() : random.nextInt(-1, 20)).generation(extreme());
            }
            send(MessageType.HOLD, HoldRequest.LENGTH);
        }

        private void closeHandle()
        {
            final long handle = someHandle();
            final long correlationId = window(MessageType.CLOSE, handle, random.nextBoolean() ? 0 : extreme());
            if (0 != correlationId)
            {
                closing.put(correlationId, handle);
            }
        }

        private void malformed()
        {
            final UnsafeBuffer record = client.record();
            switch (random.nextInt(5))
            {
                case 0:
                    send(random.nextBoolean() ? MessageType.ACQUIRE : MessageType.RELEASE,
                        random.nextInt(0, WindowRequest.LENGTH));
                    break;
                case 1:
                    // A path length that runs past the record, or is negative.
                    record.putInt(PathRequest.PATH_LENGTH_OFFSET, random.nextBoolean() ? (int)extreme() : 5000);
                    send(MessageType.OPEN, PathRequest.PATH_OFFSET + random.nextInt(64));
                    break;
                case 2:
                    send(random.nextInt(1, Integer.MAX_VALUE), random.nextInt(0, 64));
                    break;
                case 3:
                    send(MessageType.HOLD, random.nextInt(0, HoldRequest.LENGTH));
                    break;
                default:
                    send(MessageType.ATTACH, random.nextInt(0, 40));
                    break;
            }
        }

        private long window(final int type, final long handleId, final long fileWindow)
        {
            final WindowRequest request = new WindowRequest();
            final UnsafeBuffer record = client.record();
            request.wrap(record, 0);
            request.handleId(handleId).fileWindow(fileWindow);
            return send(type, WindowRequest.LENGTH) ? record.getLong(0) : 0;
        }

        void drainAnswers()
        {
            for (Answer answer = client.poll(); null != answer; answer = client.poll())
            {
                learn(answer);
            }
        }

        private void learn(final Answer answer)
        {
            final long correlationId = answer.buffer().getLong(0);
            final Integer file = opening.remove(correlationId);
            final long[] acquire = acquiring.remove(correlationId);
            final Long closed = closing.remove(correlationId);
            if (MessageType.OPENED == answer.type())
            {
                assertTrue(null != file, "OPENED answers no OPEN of this client");
                final OpenedResponse opened = new OpenedResponse();
                opened.wrap(answer.buffer(), 0);
                final long handle = opened.handleId();
                handles.add(handle);
                handleFiles.put(handle, file);
                handleSizes.put(handle, opened.getAttributes(new FileAttributes()).size());
            }
            else if (MessageType.ACQUIRED == answer.type())
            {
                final AcquiredResponse response = new AcquiredResponse();
                response.wrap(answer.buffer(), 0);
                final Integer handleFile = handleFiles.get(response.handleId());
                assertTrue(null != handleFile, "ACQUIRED of handle " + response.handleId() + " never OPENED here");
                assertTrue(null != acquire && acquire[0] == response.handleId() && acquire[1] == response.fileWindow(),
                    "ACQUIRED of window " + response.fileWindow() + " answers no such ACQUIRE");
                assertServes(NAMES[handleFile], handleSizes.get(response.handleId()), response);
                pins.add(new long[] {response.handleId(), response.fileWindow()});
                windows.add(new long[] {response.regionWindow(), response.generation()});
                if (windows.size() > 64)
                {
                    windows.remove(0);
                }
            }
            else if (MessageType.ERROR == answer.type() && null != acquire &&
                dev.pcb.protocol.ErrorCode.STALE == answer.error().code())
            {
                staleAnswers++;
            }
            else if (MessageType.CLOSED == answer.type() && null != closed)
            {
                handles.remove(closed);
                pins.removeIf((pin) -> pin[0] == closed);
            }
        }
    }
}
