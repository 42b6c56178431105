package dev.pcb.broker;

import dev.pcb.broker.ConductorHarness.Answer;
import dev.pcb.broker.ConductorHarness.Client;
import dev.pcb.layout.ClientSlotDescriptor;
import dev.pcb.layout.ControlRegionDescriptor;
import dev.pcb.layout.RetainedWindowsDescriptor;
import dev.pcb.layout.WindowDescriptor;
import dev.pcb.nativeshim.MappedRegion;
import dev.pcb.protocol.AcquiredResponse;
import dev.pcb.protocol.AttachedResponse;
import dev.pcb.protocol.ErrorCode;
import dev.pcb.protocol.FileAttributes;
import dev.pcb.protocol.ListResponse;
import dev.pcb.protocol.MessageType;
import dev.pcb.protocol.PathRequest;
import dev.pcb.protocol.StatResponse;
import org.agrona.concurrent.AtomicBuffer;
import org.agrona.concurrent.UnsafeBuffer;
import org.agrona.concurrent.ringbuffer.ManyToOneRingBuffer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

import static dev.pcb.broker.ConductorHarness.WINDOW;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The broker conductor driven in-process through its real rings and regions (see {@link ConductorHarness}): every
 * policy the end-to-end tests show through a broker process, here in milliseconds and with time under the test's
 * control.
 */
class BrokerConductorTest
{
    private ConductorHarness harness;

    private ConductorHarness start(final Consumer<BrokerConfig> tune) throws IOException
    {
        return start(new ConductorHarness(tune));
    }

    private ConductorHarness start(final ConductorHarness started)
    {
        harness = started;
        return harness;
    }

    @AfterEach
    void tearDown()
    {
        if (null != harness)
        {
            harness.close();
        }
    }

    private static AcquiredResponse acquired(final Answer answer)
    {
        assertEquals(MessageType.ACQUIRED, answer.type(), answer::toString);
        final AcquiredResponse acquired = new AcquiredResponse();
        acquired.wrap(answer.buffer(), 0);
        return acquired;
    }

    /**
     * The bytes the answer points at in the shared data region are the file's bytes.
     */
    private void assertServes(final String name, final AcquiredResponse acquired, final int length)
    {
        assertEquals(length, acquired.length());
        final UnsafeBuffer window = new UnsafeBuffer(
            harness.share().region().windowAddress(acquired.regionWindow()), WINDOW);
        final long fileOffset = acquired.fileWindow() * WINDOW;
        for (int i = 0; i < length; i++)
        {
            assertEquals(ConductorHarness.byteAt(name, fileOffset + i), window.getByte(acquired.offsetInWindow() + i),
                "byte " + i + " of window " + acquired.fileWindow());
        }
    }

    /**
     * ACQUIRE a window, run its fill, and return the answer, which must be ACQUIRED.
     */
    private AcquiredResponse pin(final Client client, final long handle, final long fileWindow)
    {
        client.acquire(handle, fileWindow);
        harness.runFills();
        return acquired(client.answer());
    }

    /**
     * Open a file as long as the whole region and pin every window of it.
     *
     * @return the handle.
     */
    private long pinEveryWindow(final Client client, final String name) throws IOException
    {
        final int windows = harness.table().count();
        harness.file(name, (long)windows * WINDOW);
        final long handle = client.open(name);
        for (int w = 0; w < windows; w++)
        {
            client.acquire(handle, w);
        }
        assertEquals(windows, harness.runFills());
        for (int w = 0; w < windows; w++)
        {
            assertServes(name, acquired(client.answer()), WINDOW);
        }
        assertEquals(windows, harness.table().pinnedCount());
        return handle;
    }

    private static void assertError(final ErrorCode code, final Answer answer)
    {
        assertEquals(code, answer.error().code(), answer::toString);
    }

    @Test
    void attachAnswersWithTheGuestsSharesAndRequestsBeforeAttachAreRefused() throws IOException
    {
        start((c) -> { });
        final Client early = harness.new Client(0, 0, 77);
        early.claim();
        assertError(ErrorCode.NOT_ATTACHED, early.request(MessageType.STAT, "."));

        final Answer answer = early.attach();
        assertEquals(MessageType.ATTACHED, answer.type(), answer::toString);
        final AttachedResponse attached = new AttachedResponse();
        attached.wrap(answer.buffer(), 0);
        assertEquals(1, attached.brokerEpoch());
        assertEquals(0, attached.slotIndex());
        assertEquals(1, attached.shareCount());
    }

    @Test
    void openAcquireReleaseAndCloseServeTheFilesBytes() throws IOException
    {
        start((c) -> { });
        harness.file("a", 2 * WINDOW + 100);
        final Client client = harness.attachedClient(0, 0);
        final long handle = client.open("a");

        client.acquire(handle, 2);
        assertNull(client.poll(), "a miss is answered when its fill ends");
        assertEquals(1, harness.runFills());
        final AcquiredResponse last = acquired(client.answer());
        assertServes("a", last, 100);
        assertEquals(1, harness.table().pins(last.regionWindow()));
        assertEquals(WindowDescriptor.STATE_READY, harness.table().state(last.regionWindow()));

        client.acquire(handle, 2);
        assertEquals(last.regionWindow(), acquired(client.answer()).regionWindow(), "a hit, answered at once");
        assertEquals(2, harness.table().pins(last.regionWindow()));
        assertEquals(2, harness.guest(0).pins());

        client.release(handle, 2);
        assertNull(client.poll(), "RELEASE has no answer");
        assertEquals(1, harness.table().pins(last.regionWindow()));

        assertEquals(MessageType.CLOSED, client.close(handle).type());
        assertEquals(0, harness.table().pinnedCount());
        assertEquals(0, harness.guest(0).pins());
        assertEquals(0, harness.guest(0).handles());

        assertError(ErrorCode.BAD_HANDLE, client.close(handle));
    }

    @Test
    void acquirePastTheEndAndReleaseOfAnUnpinnedWindowAreRefused() throws IOException
    {
        start((c) -> { });
        harness.file("a", WINDOW);
        final Client client = harness.attachedClient(0, 0);
        final long handle = client.open("a");
        client.acquire(handle, 1);
        assertError(ErrorCode.BEYOND_EOF, client.answer());
        client.acquire(handle, -1);
        assertError(ErrorCode.BEYOND_EOF, client.answer());
        client.release(handle, 0);
        assertError(ErrorCode.MALFORMED, client.answer());
        assertEquals(0, harness.pendingFills());
    }

    @Test
    void statAndListAnswerFromTheShare() throws IOException
    {
        start((c) -> { });
        harness.file("a", 123);
        harness.file("b", 5);
        final Client client = harness.attachedClient(0, 0);
        final Answer stat = client.request(MessageType.STAT, "a");
        assertEquals(MessageType.STAT_RESULT, stat.type(), stat::toString);
        final StatResponse response = new StatResponse();
        response.wrap(stat.buffer(), 0);
        assertEquals(123, response.getAttributes(new FileAttributes()).size());

        final Answer list = client.request(MessageType.LIST, ".");
        assertEquals(MessageType.LIST_RESULT, list.type(), list::toString);
        final ListResponse page = new ListResponse();
        page.wrap(list.buffer(), 0);
        assertEquals(2, page.count());
        // Each entry carries the attributes a STAT of it answers, so a listing needs no STAT per entry.
        final ListResponse.Entry entry = new ListResponse.Entry();
        int at = ListResponse.ENTRIES_OFFSET;
        for (int i = 0; i < page.count(); i++)
        {
            at = page.getEntry(at, list.length(), entry);
            final Answer one = client.request(MessageType.STAT, entry.name());
            response.wrap(one.buffer(), 0);
            final FileAttributes stated = response.getAttributes(new FileAttributes());
            assertTrue(entry.hasAttributes(), entry.name());
            assertTrue(stated.sameVersionAs(entry.attributes()), entry.name());
            assertEquals(stated.mode(), entry.attributes().mode(), entry.name());
            assertEquals(stated.linkCount(), entry.attributes().linkCount(), entry.name());
            assertEquals("a".equals(entry.name()) ? 123 : 5, entry.size());
        }
        assertError(ErrorCode.NO_SUCH_FILE, client.request(MessageType.STAT, "missing"));
    }

    @Test
    void openFilesArePerGuestQuota() throws IOException
    {
        start((c) -> c.maxHandlesPerGuest(2));
        harness.file("a", 10);
        final Client one = harness.attachedClient(0, 0);
        final Client two = harness.attachedClient(0, 1);
        final Client other = harness.attachedClient(1, 0);
        one.open("a");
        two.open("a");
        assertError(ErrorCode.QUOTA_EXCEEDED, one.request(MessageType.OPEN, "a"));
        other.open("a");
    }

    @Test
    void pinsArePerGuestQuota() throws IOException
    {
        start((c) -> c.maxPinsPerGuest(2));
        harness.file("a", 4 * WINDOW);
        final Client client = harness.attachedClient(0, 0);
        final long handle = client.open("a");
        client.acquire(handle, 0);
        client.acquire(handle, 1);
        client.acquire(handle, 2);
        assertError(ErrorCode.QUOTA_EXCEEDED, client.answer());
        assertEquals(2, harness.runFills());
        acquired(client.answer());
        acquired(client.answer());
        client.release(handle, 0);
        pin(client, handle, 2);
        assertEquals(2, harness.guest(0).pins());
    }

    @Test
    void requestRateIsLimitedPerGuestAndRefillsWithTime() throws IOException
    {
        start((c) -> c.maxRequestsPerSecondPerGuest(3));
        harness.file("a", 10);
        final Client client = harness.attachedClient(0, 0);
        // ATTACH took the first of the three.
        for (int i = 0; i < 2; i++)
        {
            assertEquals(MessageType.STAT_RESULT, client.request(MessageType.STAT, "a").type());
        }
        assertError(ErrorCode.QUOTA_EXCEEDED, client.request(MessageType.STAT, "a"));
        final Client otherGuest = harness.attachedClient(1, 0);
        assertEquals(MessageType.STAT_RESULT, otherGuest.request(MessageType.STAT, "a").type());
        harness.advanceMs(1_000);
        assertEquals(MessageType.STAT_RESULT, client.request(MessageType.STAT, "a").type());
    }

    @Test
    void noSpaceWhenEveryWindowIsPinnedAndRoomAgainAfterARelease() throws IOException
    {
        start((c) -> { });
        harness.file("other", WINDOW);
        final Client client = harness.attachedClient(0, 0);
        final long big = pinEveryWindow(client, "big");
        final long other = client.open("other");
        client.acquire(other, 0);
        assertError(ErrorCode.NO_SPACE, client.answer());

        client.release(big, 3);
        client.acquire(other, 0);
        harness.runFills();
        assertServes("other", acquired(client.answer()), WINDOW);
    }

    @Test
    void smallFilesArePackedIntoOneWindow() throws IOException
    {
        start((c) -> c.packThreshold(WINDOW / 2));
        harness.file("s1", 100);
        harness.file("s2", 300);
        final Client client = harness.attachedClient(0, 0);
        final long h1 = client.open("s1");
        final long h2 = client.open("s2");
        client.acquire(h1, 0);
        client.acquire(h2, 0);
        assertEquals(2, harness.runFills());
        final AcquiredResponse a1 = acquired(client.answer());
        final AcquiredResponse a2 = acquired(client.answer());
        assertEquals(a1.regionWindow(), a2.regionWindow(), "one window holds both");
        assertNotEquals(a1.offsetInWindow(), a2.offsetInWindow());
        assertServes("s1", a1, 100);
        assertServes("s2", a2, 300);
        assertEquals(WindowDescriptor.STATE_PACKED, harness.table().state(a1.regionWindow()));
        assertEquals(harness.table().count() - 1, harness.table().freeCount());
    }

    @Test
    void readersInOrderGetTheNextWindowsFilledAhead() throws IOException
    {
        start((c) -> c.readAheadWindows(2));
        harness.file("a", 8 * WINDOW);
        final Client client = harness.attachedClient(0, 0);
        final long handle = client.open("a");
        client.acquire(handle, 0);
        assertEquals(3, harness.pendingFills(), "window 0 and two ahead");
        harness.runFills();
        acquired(client.answer());
        client.acquire(handle, 1);
        assertServes("a", acquired(client.answer()), WINDOW);
        client.acquire(handle, 2);
        assertServes("a", acquired(client.answer()), WINDOW);
        assertEquals(0, harness.table().pins(harness.share().catalog().versions().iterator().next().windowOf(3)),
            "read-ahead pins nothing");
    }

    @Test
    void anAcquireWithNoRoomWaitsForReadAheadFillsInsteadOfFailing() throws IOException
    {
        start((c) -> c.readAheadWindows(4));
        final int windows = harness.table().count();
        harness.file("a", 2L * WINDOW);
        harness.file("b", (long)(windows - 2) * WINDOW);
        harness.file("c", WINDOW);
        final Client client = harness.attachedClient(0, 0);
        final long b = client.open("b");
        // b's window 0 and its read-ahead (at most a quarter of the region in flight)
        pin(client, b, 0);
        for (int w = 1; w < windows - 2; w++)
        {
            client.acquire(b, w);
            harness.runFills();
            acquired(client.answer());
        }
        final long a = client.open("a");
        client.acquire(a, 0);
        assertEquals(2, harness.pendingFills(), "window 0 of a and its read-ahead of window 1");
        final long c = client.open("c");
        client.acquire(c, 0);
        assertNull(client.poll(), "no window free, but a read-ahead fill is running: the ACQUIRE waits");
        harness.runFills();
        harness.runFills();
        final AcquiredResponse first = acquired(client.answer());
        final AcquiredResponse second = acquired(client.answer());
        assertServes("a", first.handleId() == a ? first : second, WINDOW);
        assertServes("c", first.handleId() == c ? first : second, WINDOW);
    }

    @Test
    void aRestartQuarantinesOldWindowsUntilTheirReadersHoldThemOrTheGracePeriodEnds() throws IOException
    {
        start((c) -> c.clientLeaseMs(1_000).brokerLeaseMs(1_000));
        harness.file("a", 2 * WINDOW);
        final Client client = harness.attachedClient(0, 0);
        final long handle = client.open("a");
        client.acquire(handle, 0);
        final AcquiredResponse kept = pin(client, handle, 1);
        acquired(client.answer());

        harness.restart();
        assertEquals(2, harness.table().quarantinedCount());
        client.rebind();
        assertEquals(MessageType.ATTACHED, client.attach().type());
        assertEquals(MessageType.HELD, client.hold(kept.regionWindow(), kept.generation()).type());
        assertError(ErrorCode.BAD_HANDLE, client.hold(kept.regionWindow(), kept.generation() + 2));

        for (int i = 0; i < 20; i++)
        {
            harness.advanceMs(100);
            client.heartbeat();
            harness.work();
        }
        assertEquals(1, harness.table().quarantinedCount(), "the held window stays");
        assertEquals(harness.table().count() - 1, harness.table().freeCount(), "the other is freed");
        assertEquals(1, harness.guest(0).pins());
        client.release(0, dev.pcb.protocol.WindowRequest.heldWindow(harness.share().id(), kept.regionWindow()));
        assertEquals(harness.table().count(), harness.table().freeCount());
        assertEquals(0, harness.guest(0).pins());
    }

    @Test
    void aClientWhoseHeartbeatStopsLosesItsPinsAfterTheLease() throws IOException
    {
        start((c) -> c.clientLeaseMs(500));
        harness.file("a", WINDOW);
        final Client dead = harness.attachedClient(0, 0);
        final Client alive = harness.attachedClient(1, 0);
        final long handle = dead.open("a");
        pin(dead, handle, 0);
        assertEquals(1, harness.table().pinnedCount());

        for (int i = 0; i < 8; i++)
        {
            harness.advanceMs(100);
            alive.heartbeat();
            harness.work();
        }
        assertEquals(0, harness.table().pinnedCount());
        assertEquals(0, harness.guest(0).pins());
        assertEquals(0, dead.slot().getLongVolatile(ClientSlotDescriptor.OWNER_ID_OFFSET), "slot freed");
        assertEquals(MessageType.STAT_RESULT, alive.request(MessageType.STAT, "a").type());
    }

    @Test
    void retainedWindowsArePinnedUntilTheShareNeedsThem() throws IOException
    {
        start((c) -> { });
        final int windows = harness.table().count();
        harness.file("other", WINDOW);
        final Client reader = harness.attachedClient(0, 0);
        final long big = pinEveryWindow(reader, "big");
        // The reader's agent no longer reads window 5 but keeps it retained for a later read.
        final UnsafeBuffer table = new UnsafeBuffer(reader.slot(), ClientSlotDescriptor.RETAINED_WINDOWS_OFFSET,
            RetainedWindowsDescriptor.LENGTH);
        final int at = RetainedWindowsDescriptor.entryOffset(0);
        table.putLong(at + RetainedWindowsDescriptor.HANDLE_ID_OFFSET, big);
        table.putLong(at + RetainedWindowsDescriptor.FILE_WINDOW_OFFSET, 5);
        table.putLongVolatile(at + RetainedWindowsDescriptor.STATE_OFFSET,
            RetainedWindowsDescriptor.state(1, RetainedWindowsDescriptor.RETAINED));

        final Client other = harness.attachedClient(1, 0);
        final long handle = other.open("other");
        other.acquire(handle, 0);
        harness.runFills();
        assertServes("other", acquired(other.answer()), WINDOW);
        assertEquals(RetainedWindowsDescriptor.RECLAIMED,
            RetainedWindowsDescriptor.kind(table.getLongVolatile(at + RetainedWindowsDescriptor.STATE_OFFSET)));
        assertEquals(windows - 1, harness.guest(0).pins());
        reader.release(big, 5);
        assertError(ErrorCode.MALFORMED, reader.answer());
    }

    @Test
    void aCorruptRingDetachesThatClientAndTheOthersAreServedOn() throws IOException
    {
        start((c) -> { });
        harness.file("a", WINDOW);
        final Client corrupt = harness.attachedClient(0, 0);
        final Client honest = harness.attachedClient(0, 1);
        final long handle = corrupt.open("a");
        pin(corrupt, handle, 0);

        // A record header claiming more bytes than the ring holds.
        final UnsafeBuffer ring = new UnsafeBuffer(corrupt.slot(), dev.pcb.layout.ClientSlotDescriptor.requestRingOffset(),
            harness.config().requestRingCapacity());
        final long tail = corrupt.requests().producerPosition();
        final int index = (int)(tail & (harness.config().requestRingCapacity() - 1));
        ring.putInt(index + 4, MessageType.OPEN);
        ring.putIntOrdered(index, Integer.MAX_VALUE - 64);
        harness.work();

        assertEquals(0, corrupt.slot().getLongVolatile(ClientSlotDescriptor.OWNER_ID_OFFSET), "detached");
        assertEquals(0, harness.table().pinnedCount(), "its pins released");
        assertEquals(0, harness.guest(0).handles());
        assertEquals(MessageType.STAT_RESULT, honest.request(MessageType.STAT, "a").type());
        final long other = honest.open("a");
        honest.acquire(other, 0);
        assertServes("a", acquired(honest.answer()), WINDOW);
    }

    @Test
    void malformedRecordsGetAnErrorAndTheClientStays() throws IOException
    {
        start((c) -> { });
        final Client client = harness.attachedClient(0, 0);
        client.record();
        client.send(MessageType.ACQUIRE, 12);
        assertError(ErrorCode.MALFORMED, client.answer());
        final UnsafeBuffer record = client.record();
        record.putInt(PathRequest.PATH_LENGTH_OFFSET, 5000);
        client.send(MessageType.OPEN, 64);
        assertError(ErrorCode.MALFORMED, client.answer());
        client.record();
        client.send(999, 16);
        assertError(ErrorCode.MALFORMED, client.answer());
        assertTrue(harness.guest(0).sessions()[0].isActive());
    }

    // Issue 14, item 5: 2^52 * 4096 wraps to 0, which the old end-of-file check (fileWindow * windowSize >= size)
    // let through, pinning a window filled from offset 0 under a bogus index.
    @Test
    void aHugeWindowIndexIsPastTheEndAndNeverWrapsIntoTheFile() throws IOException
    {
        start((c) -> c.readAheadWindows(4));
        harness.file("a", 4 * WINDOW);
        final Client client = harness.attachedClient(0, 0);
        final long handle = client.open("a");
        for (final long window : new long[] {1L << 52, (1L << 52) + 1, Long.MAX_VALUE, Long.MIN_VALUE, 4})
        {
            client.acquire(handle, window);
            assertError(ErrorCode.BEYOND_EOF, client.answer());
        }
        assertEquals(0, harness.pendingFills());
        assertEquals(0, harness.table().pinnedCount());
    }

    // Issue 14, item 6: the old failWaiters unpinned the window whether or not the handle still held the pin; with
    // the pin already given back by RELEASE, WindowTable.unpin threw out of the duty cycle and the window stayed
    // FILLING for good.
    @Test
    void aReleaseBeforeAFailedFillSettlesThePinOnceAndFreesTheWindow() throws IOException
    {
        start((c) -> { });
        harness.file("a", WINDOW);
        final Client client = harness.attachedClient(0, 0);
        final long handle = client.open("a");
        client.acquire(handle, 0);
        client.release(handle, 0);
        assertNull(client.poll());
        harness.append("a");
        harness.runFills();
        assertError(ErrorCode.STALE, client.answer());
        assertEquals(0, harness.table().pinnedCount());
        assertEquals(harness.table().count(), harness.table().freeCount(), "the window is free again, not FILLING");
        assertEquals(0, harness.guest(0).pins());
        assertEquals(MessageType.STAT_RESULT, client.request(MessageType.STAT, "a").type(), "still served");
    }

    // Issue 14, item 6: a failed packed fill took a pin off the shared packed window even when its own client had
    // released, so another guest reading its small file from that window lost its pin.
    @Test
    void aFailedPackedFillLeavesAnotherGuestsPinOnTheSameWindow() throws IOException
    {
        start((c) -> c.packThreshold(WINDOW / 2));
        harness.file("s1", 100);
        harness.file("s2", 100);
        final Client reader = harness.attachedClient(0, 0);
        final Client other = harness.attachedClient(1, 0);
        final long h1 = reader.open("s1");
        final AcquiredResponse held = pin(reader, h1, 0);

        final long h2 = other.open("s2");
        other.acquire(h2, 0);
        assertEquals(2, harness.table().pins(held.regionWindow()), "s2 is packed into the same window");
        other.release(h2, 0);
        harness.append("s2");
        harness.runFills();
        assertError(ErrorCode.STALE, other.answer());
        assertEquals(1, harness.table().pins(held.regionWindow()), "the reader of s1 keeps its pin");
        assertEquals(1, harness.guest(0).pins());
        assertEquals(0, harness.guest(1).pins());
        assertServes("s1", held, 100);
    }

    // Issue 14, item 8: the path length was checked, then read again to size the path's array; a guest flipping it
    // in between made an OutOfMemoryError that skipped the rest of the duty cycle. Here a guest thread flips the
    // length of each STAT record, through the real ring, for as long as the conductor parses it: the check may see
    // either value, the decode must use the value checked, and the client is never detached.
    @Test
    void aPathLengthFlippedWhileTheConductorParsesItIsReadOnce() throws Exception
    {
        start((c) -> { });
        harness.file("a", WINDOW);
        final Client client = harness.attachedClient(0, 0);
        final ManyToOneRingBuffer ring = client.requests();
        final AtomicBuffer buffer = ring.buffer();
        final AtomicInteger target = new AtomicInteger(-1);
        final AtomicInteger flipped = new AtomicInteger(-1);
        final AtomicBoolean stop = new AtomicBoolean();
        final Thread guest = new Thread(() ->
        {
            for (int i = 0; !stop.get(); i++)
            {
                final int at = target.get();
                if (at >= 0)
                {
                    buffer.putIntVolatile(at, 0 == (i & 1) ? Integer.MAX_VALUE - 64 : 1);
                }
                // Set after the write: once it reads -1 here, this thread writes nothing until the next target.
                flipped.set(at);
            }
        }, "hostile-guest");
        guest.start();
        int results = 0;
        int malformed = 0;
        try
        {
            final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(3);
            for (int i = 0; i < 2_000 && System.nanoTime() < deadline; i++)
            {
                final PathRequest request = new PathRequest();
                request.wrap(client.record(), 0);
                final int length = request.shareId(harness.share().id()).path("a");
                final int at = ring.tryClaim(MessageType.STAT, length);
                assertTrue(at > 0, "request ring full");
                buffer.putBytes(at, request.buffer(), 0, length);
                target.set(at + PathRequest.PATH_LENGTH_OFFSET);
                ring.commit(at);
                client.heartbeat();
                harness.work();
                target.set(-1);
                final long ackDeadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
                while (-1 != flipped.get() && System.nanoTime() < ackDeadline)
                {
                    Thread.onSpinWait();
                }
                assertEquals(-1, flipped.get(), "the guest thread did not stop flipping");
                harness.runMetadata();
                assertEquals(client.ownerId(), client.slot().getLongVolatile(ClientSlotDescriptor.OWNER_ID_OFFSET),
                    "detached at record " + i + " (" + results + " read, " + malformed + " refused before)");
                final Answer answer = client.answer();
                if (MessageType.STAT_RESULT == answer.type())
                {
                    results++;
                }
                else
                {
                    assertError(ErrorCode.MALFORMED, answer);
                    malformed++;
                }
            }
        }
        finally
        {
            stop.set(true);
            guest.join(10_000);
        }
        // How often the flip lands inside the parse depends on both threads running at once (machine load): the
        // counts say how often it did; every outcome above was checked either way.
        System.out.println("path length flips: " + results + " records read as checked, " + malformed +
            " refused as flipped at the check");
        assertTrue(results > 0, "no record was read");
    }

    // Issue 14, item 10: GuestControl read the ring lengths back from the header it had just written, which the guest
    // maps read-write: a guest rewriting those words while a broker started could keep it from starting (a length
    // that is no power of two fails the ring's constructor) or give it rings other than the ones configured. A guest
    // thread rewrites them, through its own mapping of the file, before and during every restart.
    @Test
    void ringLengthsAreNeverReadBackFromTheGuestWritableHeaderSoRestartsServeWithTheConfiguredRings() throws Exception
    {
        start((c) -> { });
        harness.file("a", WINDOW);
        final Client client = harness.attachedClient(0, 0);
        final int requestCapacity = harness.config().requestRingCapacity();
        final int responseCapacity = harness.config().responseRingCapacity();
        try (MappedRegion guestMapping = MappedRegion.map(
            harness.guest(0).file(), true))
        {
            final UnsafeBuffer header = new UnsafeBuffer(guestMapping.address(),
                ControlRegionDescriptor.HEADER_LENGTH);
            final AtomicBoolean stop = new AtomicBoolean();
            final Thread guest = new Thread(() ->
            {
                for (int i = 0; !stop.get(); i++)
                {
                    header.putIntVolatile(ControlRegionDescriptor.REQUEST_RING_LENGTH_OFFSET,
                        0 == (i & 1) ? 12_345 : Integer.MIN_VALUE);
                    header.putIntVolatile(ControlRegionDescriptor.RESPONSE_RING_LENGTH_OFFSET,
                        0 == (i & 1) ? 1 << 20 : -1);
                }
            }, "hostile-guest");
            header.putInt(ControlRegionDescriptor.REQUEST_RING_LENGTH_OFFSET, 12_345);
            header.putInt(ControlRegionDescriptor.RESPONSE_RING_LENGTH_OFFSET, 1 << 20);
            guest.start();
            try
            {
                for (int restart = 2; restart <= 101; restart++)
                {
                    harness.restart();
                    assertEquals(restart,
                        header.getLongVolatile(ControlRegionDescriptor.BROKER_EPOCH_OFFSET),
                        "the guest's mapping is of the file the broker uses");
                    client.rebind();
                    final ClientSession session = harness.guest(0).sessions()[0];
                    assertEquals(requestCapacity, session.requests().capacity(), "request ring of restart " + restart);
                    assertEquals(responseCapacity, session.responses().capacity(),
                        "response ring of restart " + restart);
                    assertEquals(MessageType.ATTACHED, client.attach().type());
                }
            }
            finally
            {
                stop.set(true);
                guest.join(10_000);
            }
        }
        final long handle = client.open("a");
        assertServes("a", pin(client, handle, 0), WINDOW);
    }

    // Issue 14, item 9: HOLD had no quota: after a restart a guest could hold every quarantined window.
    @Test
    void holdIsUnderThePinQuota() throws IOException
    {
        start((c) -> c.maxPinsPerGuest(1).clientLeaseMs(1_000).brokerLeaseMs(1_000));
        harness.file("a", 2 * WINDOW);
        final Client client = harness.attachedClient(0, 0);
        final long handle = client.open("a");
        final AcquiredResponse first = pin(client, handle, 0);
        client.release(handle, 0);
        final AcquiredResponse second = pin(client, handle, 1);

        harness.restart();
        client.rebind();
        client.attach();
        assertEquals(MessageType.HELD, client.hold(second.regionWindow(), second.generation()).type());
        assertError(ErrorCode.QUOTA_EXCEEDED, client.hold(first.regionWindow(), first.generation()));
        assertEquals(1, harness.guest(0).pins());
    }

    // Issue 14, item 9: ATTACH and HOLD were exempt from the request rate.
    @Test
    void attachAndHoldCountAgainstTheRequestRate() throws IOException
    {
        start((c) -> c.maxRequestsPerSecondPerGuest(3));
        final Client client = harness.attachedClient(0, 0);
        assertEquals(MessageType.ATTACHED, client.attach().type());
        assertError(ErrorCode.BAD_HANDLE, client.hold(0, 0));
        assertError(ErrorCode.QUOTA_EXCEEDED, client.attach());
        assertError(ErrorCode.QUOTA_EXCEEDED, client.hold(0, 0));
        harness.advanceMs(1_000);
        assertEquals(MessageType.ATTACHED, client.attach().type());
    }

    // Issue 14, item 9: guest paths went into the log as sent, newlines and terminal escapes included.
    @Test
    void guestPathsAreEscapedInTheLog() throws IOException
    {
        start((c) -> { });
        final Logger logger = Logger.getLogger("pcb.broker");
        final List<String> lines = new ArrayList<>();
        final Handler handler = new Handler()
        {
            public void publish(final LogRecord record)
            {
                lines.add(record.getMessage());
            }

            public void flush()
            {
            }

            public void close()
            {
            }
        };
        logger.addHandler(handler);
        try
        {
            final Client client = harness.attachedClient(0, 0);
            assertError(ErrorCode.PATH_OUTSIDE_SHARE,
                client.request(MessageType.OPEN, "../x\n2026-12-01 FAKE broker stopped\u001b[2J"));
        }
        finally
        {
            logger.removeHandler(handler);
        }
        final String line = lines.stream().filter((l) -> l.contains("OPEN answered")).findFirst().orElseThrow();
        assertTrue(line.contains("../x\\n2026-12-01 FAKE broker stopped\\x1b[2J"), line);
        assertTrue(line.chars().noneMatch((c) -> c < 0x20), line);
    }

    // Issue 14, item 2: OPEN, STAT and LIST made their system calls on the conductor, so one hung share stalled
    // every guest. Here the metadata worker is the test, which holds the tasks as a hung filesystem would.
    @Test
    void metadataRunsOffTheConductorAndHitsAreAnsweredMeanwhile() throws IOException
    {
        start((c) -> { });
        harness.file("a", WINDOW);
        final Client reader = harness.attachedClient(0, 0);
        final long handle = reader.open("a");
        pin(reader, handle, 0);

        final Client stuck = harness.attachedClient(1, 0);
        stuck.sendPath(MessageType.STAT, "a");
        stuck.sendPath(MessageType.OPEN, "a");
        stuck.sendPath(MessageType.LIST, ".");
        assertEquals(3, harness.pendingMetadata());
        assertNull(stuck.poll(), "nothing answered while the filesystem has not");

        reader.acquire(handle, 0);
        assertServes("a", acquired(reader.answer()), WINDOW);

        assertEquals(3, harness.runMetadata());
        final List<Integer> types = new ArrayList<>();
        for (int i = 0; i < 3; i++)
        {
            types.add(stuck.answer().type());
        }
        assertEquals(List.of(MessageType.STAT_RESULT, MessageType.OPENED, MessageType.LIST_RESULT), types);
        assertEquals(2, harness.guest(0).handles() + harness.guest(1).handles());
    }

    // Issue 14, item 2: each guest has at most MetadataWork.IN_FLIGHT_PER_GUEST requests on the workers; the rest
    // wait in its ring, and its other requests, and every other guest, are served meanwhile.
    @Test
    void aGuestsMetadataInFlightIsBoundedAndTheRestWaitsInItsRing() throws IOException
    {
        start((c) -> { });
        harness.file("a", WINDOW);
        final Client other = harness.attachedClient(0, 1);
        final long handle = other.open("a");
        pin(other, handle, 0);

        final Client busy = harness.attachedClient(0, 0);
        final int sent = MetadataWork.IN_FLIGHT_PER_GUEST + 2;
        for (int i = 0; i < sent; i++)
        {
            busy.sendPath(MessageType.STAT, "a");
        }
        assertEquals(MetadataWork.IN_FLIGHT_PER_GUEST, harness.pendingMetadata());
        final Client otherGuest = harness.attachedClient(1, 0);
        otherGuest.sendPath(MessageType.STAT, "a");
        assertEquals(MetadataWork.IN_FLIGHT_PER_GUEST + 1, harness.pendingMetadata(), "another guest is not held up");
        other.acquire(handle, 0);
        acquired(other.answer());

        harness.runMetadata();
        harness.runMetadata();
        for (int i = 0; i < sent; i++)
        {
            assertEquals(MessageType.STAT_RESULT, busy.answer().type());
        }
        assertNull(busy.poll());
        assertEquals(MessageType.STAT_RESULT, otherGuest.answer().type());
    }

    // Issue 14, item 2: a hung share's misses took every filler thread, so another share's misses queued behind
    // them. Now a share has at most fillThreadsPerShare fills running (with two shares and two fill threads: one);
    // its further fills wait on the conductor, and the other share's misses get a thread. Here the test is the
    // filler thread, and keeps the stuck share's fill as a hung filesystem would.
    @Test
    void aHungSharesFillsLeaveAFillerThreadToTheOtherShare() throws IOException
    {
        start(ConductorHarness.withSecondShare((c) -> c.fillThreads(2)));
        assertEquals(1, harness.config().fillThreadsPerShare(), "two shares, two fill threads: one each at most");
        harness.moreFile("b", 3L * WINDOW);
        harness.file("a", 2L * WINDOW);
        final Client stuck = harness.attachedClient(0, 0);
        final long b = stuck.open(harness.moreShare(), "b");
        for (int w = 0; w < 3; w++)
        {
            stuck.acquire(b, w);
        }
        assertEquals(1, harness.pendingFills(), "one fill of the stuck share on the filler threads");
        final Runnable hung = harness.takeFill();

        final Client reader = harness.attachedClient(1, 0);
        final long a = reader.open("a");
        reader.acquire(a, 0);
        reader.acquire(a, 1);
        assertEquals(1, harness.runFills());
        assertEquals(1, harness.runFills());
        assertServes("a", acquired(reader.answer()), WINDOW);
        assertServes("a", acquired(reader.answer()), WINDOW);
        assertNull(stuck.poll(), "the stuck share's ACQUIREs wait for its filesystem");

        hung.run();
        harness.work();
        assertEquals(1, harness.pendingFills(), "the next fill of the share starts when one of its own ends");
        harness.runFills();
        harness.runFills();
        for (int w = 0; w < 3; w++)
        {
            final AcquiredResponse acquired = acquired(stuck.answer());
            final UnsafeBuffer window = new UnsafeBuffer(
                harness.moreShare().region().windowAddress(acquired.regionWindow()), WINDOW);
            for (int i = 0; i < WINDOW; i += 509)
            {
                assertEquals(ConductorHarness.byteAt("b", (long)w * WINDOW + i), window.getByte(i));
            }
        }
        assertEquals(0, harness.pendingFills());
    }

    // Issue 14, item 2: a guest with more than one share may have at most MetadataWork.IN_FLIGHT_PER_SHARE of its
    // MetadataWork.IN_FLIGHT_PER_GUEST requests on one share, so a hung share leaves it a task for the others.
    @Test
    void aGuestsMetadataOnAHungShareLeavesItATaskForItsOtherShares() throws IOException
    {
        start(ConductorHarness.withSecondShare((c) -> { }));
        harness.moreFile("b", WINDOW);
        harness.file("a", WINDOW);
        final Client stuck = harness.attachedClient(0, 0);
        final int sent = MetadataWork.IN_FLIGHT_PER_GUEST + 1;
        for (int i = 0; i < sent; i++)
        {
            stuck.sendPath(MessageType.STAT, harness.moreShare(), "b");
        }
        assertEquals(MetadataWork.IN_FLIGHT_PER_SHARE, harness.pendingMetadata());
        final List<Runnable> hung = new ArrayList<>();
        for (int i = 0; i < MetadataWork.IN_FLIGHT_PER_SHARE; i++)
        {
            hung.add(harness.takeMetadata());
        }

        final Client sameGuest = harness.attachedClient(0, 1);
        final long a = sameGuest.open("a");
        pin(sameGuest, a, 0);
        assertEquals(MessageType.STAT_RESULT, sameGuest.request(MessageType.STAT, "a").type());
        assertNull(stuck.poll());

        hung.forEach(Runnable::run);
        harness.work();
        harness.runMetadata();
        harness.runMetadata();
        for (int i = 0; i < sent; i++)
        {
            assertEquals(MessageType.STAT_RESULT, stuck.answer().type());
        }
        assertNull(stuck.poll());
    }

    @Test
    void anOpenWhoseClientLeftBeforeItEndedLeavesNoHandleAndNoDescriptor() throws IOException
    {
        start((c) -> { });
        harness.file("a", WINDOW);
        final Client client = harness.attachedClient(0, 0);
        final long descriptors = openDescriptors();
        client.sendPath(MessageType.OPEN, "a");
        client.slot().putLongVolatile(ClientSlotDescriptor.OWNER_ID_OFFSET, 0);
        harness.work();
        harness.runMetadata();
        assertEquals(0, harness.guest(0).handles());
        assertEquals(0, harness.share().catalog().versionCount());
        assertEquals(descriptors, openDescriptors());
    }

    private static long openDescriptors() throws IOException
    {
        try (var fds = java.nio.file.Files.list(java.nio.file.Path.of("/proc/self/fd")))
        {
            return fds.count();
        }
    }
}
