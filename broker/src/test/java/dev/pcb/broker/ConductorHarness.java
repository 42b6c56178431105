package dev.pcb.broker;

import dev.pcb.layout.ClientSlotDescriptor;
import dev.pcb.layout.LayoutVersion;
import dev.pcb.layout.RunDirectory;
import dev.pcb.protocol.AdvanceMessage;
import dev.pcb.protocol.TreeIdentity;
import dev.pcb.protocol.AttachRequest;
import dev.pcb.protocol.ErrorResponse;
import dev.pcb.protocol.HoldRequest;
import dev.pcb.protocol.MessageType;
import dev.pcb.protocol.OpenedResponse;
import dev.pcb.protocol.PathRequest;
import dev.pcb.protocol.WindowRequest;
import org.agrona.CloseHelper;
import org.agrona.IoUtil;
import org.agrona.concurrent.CachedEpochClock;
import org.agrona.concurrent.CachedNanoClock;
import org.agrona.concurrent.UnsafeBuffer;
import org.agrona.concurrent.ringbuffer.ManyToOneRingBuffer;
import org.agrona.concurrent.ringbuffer.OneToOneRingBuffer;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * One broker conductor in the test's own thread, as Aeron's {@code DriverConductorTest} drives its conductor: real
 * data and control regions mapped from files under /dev/shm, records written into the real request rings with the
 * real flyweights, answers read back from the real response rings. Time moves only when the test says, the duty
 * cycle runs only when the test calls it, and fills run only in {@link #runFills}.
 * <p>
 * The share "data" holds 4 KiB windows; two guests, "g1" and "g2", have two client slots each. {@link #withSecondShare}
 * adds the share "more", of the same geometry, given to both guests.
 */
final class ConductorHarness implements AutoCloseable
{
    static final int WINDOW = 4096;
    static final long START_MS = 1_000_000;

    private final Path dir;
    private final Path root;
    private final Path moreRoot;
    private final BrokerConfig config;
    private final CachedEpochClock epochClock = new CachedEpochClock();
    private final CachedNanoClock nanoClock = new CachedNanoClock();
    // Lists, not queues: a test may run any pending task first, as a pool of workers would.
    private final List<Runnable> fills = new ArrayList<>();
    private final List<Runnable> metadataTasks = new ArrayList<>();
    private final List<Share> shares = new ArrayList<>();
    private final List<GuestControl> guests = new ArrayList<>();
    private BrokerCounters counters;
    private BrokerConductor conductor;
    private TreeWatcher watcher;
    private Path link;
    private Path shareRoot;
    private long epoch = 1;

    /**
     * A conductor on fresh regions: 64 KiB of 4 KiB windows (14), no packing, no read-ahead, 16 fill threads, unless
     * tuned.
     */
    ConductorHarness(final Consumer<BrokerConfig> tune) throws IOException
    {
        this(tune, false);
    }

    /**
     * As {@link #ConductorHarness(Consumer)}; when {@code versioned}, the share is the link {@code current} to the
     * version directory {@code releases/1} (docs/versions.md), flipped with {@link #flip}.
     */
    ConductorHarness(final Consumer<BrokerConfig> tune, final boolean versioned) throws IOException
    {
        this(tune, versioned, false);
    }

    /**
     * As {@link #ConductorHarness(Consumer)}, with a second share "more" (id 2) beside "data" (id 1).
     */
    static ConductorHarness withSecondShare(final Consumer<BrokerConfig> tune) throws IOException
    {
        return new ConductorHarness(tune, false, true);
    }

    private ConductorHarness(final Consumer<BrokerConfig> tune, final boolean versioned, final boolean secondShare)
        throws IOException
    {
        dir = Files.createTempDirectory(Path.of("/dev/shm"), "pcb-conductor-test-");
        moreRoot = secondShare ? Files.createDirectory(dir.resolve("more")) : null;
        if (versioned)
        {
            root = Files.createDirectories(dir.resolve("releases").resolve("1"));
            link = Files.createSymbolicLink(dir.resolve("current"), Path.of("releases/1"));
        }
        else
        {
            root = Files.createDirectory(dir.resolve("share"));
        }
        shareRoot = root;
        config = new BrokerConfig()
            .runDir(dir.resolve("run"))
            .share("data", versioned ? link : root)
            .guest("g1")
            .guest("g2")
            .regionSize(64 * 1024)
            .windowSize(WINDOW)
            .slotCount(2)
            .readAheadWindows(0)
            .packThreshold(0)
            // The test is the filler threads: as many as fills are asked, unless a test tunes it down.
            .fillThreads(16);
        if (null != moreRoot)
        {
            config.share("more", moreRoot);
        }
        tune.accept(config);
        config.validate();
        Files.createDirectories(config.runDir());
        epochClock.update(START_MS);
        nanoClock.update(TimeUnit.MILLISECONDS.toNanos(START_MS));
        start(epoch);
    }

    private void start(final long epoch) throws IOException
    {
        final DataRegion region = new DataRegion(RunDirectory.dataRegionFile(config.runDir(), "data"),
            config.regionSize(), config.windowSize(), 42 + epoch, epoch, "data");
        final long[] versionIds = {0};
        shares.add(new Share(1, "data", null != link ? link : root.toRealPath(), region, () -> ++versionIds[0]));
        if (null != moreRoot)
        {
            final DataRegion more = new DataRegion(RunDirectory.dataRegionFile(config.runDir(), "more"),
                config.regionSize(), config.windowSize(), 43 + epoch, epoch, "more");
            shares.add(new Share(2, "more", moreRoot.toRealPath(), more, () -> ++versionIds[0]));
        }
        for (final String name : config.guests().keySet())
        {
            guests.add(new GuestControl(name, RunDirectory.controlRegionFile(config.runDir(), name), shares, config,
                epoch, ProcessHandle.current().pid()));
        }
        counters = BrokerCounters.create(RunDirectory.countersFile(config.runDir()), 1, epoch, epochClock.time(),
            shares, guests);
        conductor = new BrokerConductor(config, epoch, shares, guests.toArray(new GuestControl[0]), fills::add,
            metadataTasks::add, () ->
            {
            }, epochClock, nanoClock, counters, watcher = new TreeWatcher(shares, config.runDir()));
        conductor.onStart();
    }

    /**
     * Stop this conductor and start another on the same region files, as a restarted broker does.
     */
    void restart() throws IOException
    {
        conductor.onClose();
        closeRegions();
        fills.clear();
        metadataTasks.clear();
        start(++epoch);
    }

    /**
     * A file in the share, its bytes given by {@link #byteAt}.
     */
    Path file(final String name, final long size) throws IOException
    {
        final byte[] bytes = new byte[(int)size];
        for (int i = 0; i < bytes.length; i++)
        {
            bytes[i] = byteAt(name, i);
        }
        return Files.write(shareRoot.resolve(name), bytes);
    }

    /**
     * A file in the share "more" of {@link #withSecondShare}, its bytes given by {@link #byteAt}.
     */
    Path moreFile(final String name, final long size) throws IOException
    {
        final byte[] bytes = new byte[(int)size];
        for (int i = 0; i < bytes.length; i++)
        {
            bytes[i] = byteAt(name, i);
        }
        return Files.write(moreRoot.resolve(name), bytes);
    }

    /**
     * Change a file on the host: one byte appended, so its version changes and fills of the old one fail STALE.
     */
    void append(final String name) throws IOException
    {
        Files.write(shareRoot.resolve(name), new byte[] {1}, StandardOpenOption.APPEND);
    }

    /**
     * Make (if new) the version directory {@code releases/NAME}; {@link #file} writes there from now on.
     */
    Path versionDir(final String name) throws IOException
    {
        shareRoot = Files.createDirectories(dir.resolve("releases").resolve(name));
        return shareRoot;
    }

    /**
     * Point the share's link at {@code target} (relative to the link's directory) as a publisher does, with a
     * rename over the link, then let the watcher read it and the conductor take the flip.
     */
    void flip(final String target) throws IOException
    {
        final Path tmp = dir.resolve("current.tmp");
        Files.deleteIfExists(tmp);
        Files.createSymbolicLink(tmp, Path.of(target));
        Files.move(tmp, link, java.nio.file.StandardCopyOption.REPLACE_EXISTING,
            java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        watcher.checkOnce();
        work();
    }

    /** @return the temporary directory everything of this harness lives in. */
    Path dir()
    {
        return dir;
    }

    /**
     * Run housekeeping (due every 100 ms), then let the watcher write the versions files it was handed.
     */
    void publishVersions()
    {
        advanceMs(BrokerConductor.HOUSEKEEPING_INTERVAL_MS);
        work();
        watcher.checkOnce();
    }

    static byte byteAt(final String name, final long offset)
    {
        return (byte)(name.hashCode() * 31 + offset * 7 + offset / WINDOW);
    }

    /**
     * Advance both clocks.
     */
    void advanceMs(final long ms)
    {
        epochClock.advance(ms);
        nanoClock.advance(TimeUnit.MILLISECONDS.toNanos(ms));
    }

    /**
     * Run the duty cycle a few times, one millisecond apart (free slots are scanned once a millisecond).
     */
    int work()
    {
        int work = 0;
        for (int i = 0; i < 3; i++)
        {
            advanceMs(1);
            work += conductor.doWork();
        }
        return work;
    }

    /**
     * Run every fill submitted so far on this thread, then let the conductor take their completions.
     *
     * @return fills run.
     */
    int runFills()
    {
        int ran = 0;
        while (!fills.isEmpty())
        {
            fills.remove(0).run();
            ran++;
        }
        work();
        return ran;
    }

    /**
     * Run every OPEN, STAT and LIST submitted so far on this thread, as a metadata worker would, then let the
     * conductor take their results.
     *
     * @return tasks run.
     */
    int runMetadata()
    {
        int ran = 0;
        while (!metadataTasks.isEmpty())
        {
            metadataTasks.remove(0).run();
            ran++;
        }
        work();
        return ran;
    }

    /**
     * Run one pending fill, the {@code index}-th submitted of those still pending, then let the conductor take its
     * completion: fills end in any order, as on a pool of filler threads.
     */
    void runFill(final int index)
    {
        fills.remove(index).run();
        work();
    }

    /**
     * Run one pending OPEN, STAT or LIST, the {@code index}-th of those still pending, then let the conductor take
     * its result.
     */
    void runMetadataTask(final int index)
    {
        metadataTasks.remove(index).run();
        work();
    }

    /**
     * Take the oldest submitted fill without running it, as a filler thread stuck in a hung filesystem holds it.
     */
    Runnable takeFill()
    {
        return fills.isEmpty() ? null : fills.remove(0);
    }

    /**
     * Take the oldest submitted OPEN, STAT or LIST without running it, as a metadata worker stuck in a hung
     * filesystem holds it.
     */
    Runnable takeMetadata()
    {
        return metadataTasks.isEmpty() ? null : metadataTasks.remove(0);
    }

    int pendingMetadata()
    {
        return metadataTasks.size();
    }

    int pendingFills()
    {
        return fills.size();
    }

    BrokerConfig config()
    {
        return config;
    }

    Share share()
    {
        return shares.get(0);
    }

    /** @return the share "more" of {@link #withSecondShare}. */
    Share moreShare()
    {
        return shares.get(1);
    }

    WindowTable table()
    {
        return shares.get(0).windows();
    }

    /** The conductor, for a test that runs it on a thread of its own once its clients are attached. */
    BrokerConductor conductor()
    {
        return conductor;
    }

    GuestControl[] guests()
    {
        return guests.toArray(new GuestControl[0]);
    }

    GuestControl guest(final int index)
    {
        return guests.get(index);
    }

    /**
     * A client process of guest {@code guestIndex} on slot {@code slotIndex}, claimed and attached.
     */
    Client attachedClient(final int guestIndex, final int slotIndex)
    {
        final Client client = new Client(guestIndex, slotIndex, 0x1234_0000_0000L + guestIndex * 16L + slotIndex + 1);
        client.claim();
        final Answer answer = client.attach();
        assertEquals(MessageType.ATTACHED, answer.type(), answer::toString);
        return client;
    }

    /** {@inheritDoc} */
    public void close()
    {
        closeRegions();
        IoUtil.delete(dir.toFile(), true);
    }

    private void closeRegions()
    {
        CloseHelper.quietClose(counters);
        guests.forEach(CloseHelper::quietClose);
        shares.forEach(CloseHelper::quietClose);
        guests.clear();
        shares.clear();
    }

    /**
     * An answer copied out of a response ring.
     */
    record Answer(int type, UnsafeBuffer buffer, int length)
    {
        ErrorResponse error()
        {
            assertEquals(MessageType.ERROR, type, "expected an ERROR answer");
            final ErrorResponse error = new ErrorResponse();
            error.wrap(buffer, 0);
            return error;
        }

        /** {@inheritDoc} */
        public String toString()
        {
            if (MessageType.ERROR == type)
            {
                final ErrorResponse error = new ErrorResponse();
                error.wrap(buffer, 0);
                return "ERROR " + error.code() + ": " + error.message(length);
            }
            return "answer type " + type + " of " + length + " bytes";
        }
    }

    /**
     * The guest side of one client slot, written with the real flyweights.
     */
    final class Client
    {
        private final int guestIndex;
        private final int slotIndex;
        private final long ownerId;
        private final UnsafeBuffer record = new UnsafeBuffer(new byte[8192]);
        private final ArrayDeque<Answer> answers = new ArrayDeque<>();
        private UnsafeBuffer slot;
        private ManyToOneRingBuffer requests;
        private OneToOneRingBuffer responses;
        private long heartbeat;
        private long nextCorrelationId = 1;

        Client(final int guestIndex, final int slotIndex, final long ownerId)
        {
            this.guestIndex = guestIndex;
            this.slotIndex = slotIndex;
            this.ownerId = ownerId;
        }

        /**
         * Claim the slot as an agent does and wait until the conductor accepts it.
         */
        void claim()
        {
            slot = guests.get(guestIndex).sessions()[slotIndex].slot();
            slot.putLong(ClientSlotDescriptor.OWNER_PID_OFFSET, ProcessHandle.current().pid());
            slot.putLongVolatile(ClientSlotDescriptor.OWNER_HEARTBEAT_OFFSET, ++heartbeat);
            assertTrue(slot.compareAndSetLong(ClientSlotDescriptor.OWNER_ID_OFFSET, 0, ownerId), "slot taken");
            awaitAccepted();
        }

        /**
         * After a broker restart: the slot survived in the same file; find it in the new mapping, heartbeat there and
         * wait for the new conductor to accept it. The old mapping is gone: nothing of this client may touch it
         * before this.
         */
        void rebind()
        {
            slot = guests.get(guestIndex).sessions()[slotIndex].slot();
            assertEquals(ownerId, slot.getLongVolatile(ClientSlotDescriptor.OWNER_ID_OFFSET));
            heartbeat();
            answers.clear();
            awaitAccepted();
        }

        private void awaitAccepted()
        {
            for (int i = 0; i < 10 && slot.getLongVolatile(ClientSlotDescriptor.ACCEPTED_OWNER_ID_OFFSET) != ownerId; i++)
            {
                work();
            }
            assertEquals(ownerId, slot.getLongVolatile(ClientSlotDescriptor.ACCEPTED_OWNER_ID_OFFSET), "not accepted");
            final int requestRingLength = config.requestRingCapacity() +
                org.agrona.concurrent.ringbuffer.RingBufferDescriptor.TRAILER_LENGTH;
            final int responseRingLength = config.responseRingCapacity() +
                org.agrona.concurrent.ringbuffer.RingBufferDescriptor.TRAILER_LENGTH;
            requests = new ManyToOneRingBuffer(
                new UnsafeBuffer(slot, ClientSlotDescriptor.requestRingOffset(), requestRingLength));
            responses = new OneToOneRingBuffer(new UnsafeBuffer(
                slot, ClientSlotDescriptor.responseRingOffset(requestRingLength), responseRingLength));
        }

        UnsafeBuffer slot()
        {
            return slot;
        }

        ManyToOneRingBuffer requests()
        {
            return requests;
        }

        void heartbeat()
        {
            slot.putLongVolatile(ClientSlotDescriptor.OWNER_HEARTBEAT_OFFSET, ++heartbeat);
        }

        /**
         * Write one record as it is, then run the duty cycle; returns the correlation id used.
         */
        long send(final int type, final int length)
        {
            assertTrue(trySend(type, length), "request ring full");
            return record.getLong(0);
        }

        /**
         * Write one record as it is if the ring has room, then run the duty cycle.
         *
         * @return false when the request ring was full (the record was not written).
         */
        boolean trySend(final int type, final int length)
        {
            final boolean written = requests.write(type, record, 0, length);
            work();
            return written;
        }

        long ownerId()
        {
            return ownerId;
        }

        /**
         * The record buffer, with a fresh correlation id at offset 0.
         */
        UnsafeBuffer record()
        {
            record.setMemory(0, record.capacity(), (byte)0);
            record.putLong(0, nextCorrelationId++);
            return record;
        }

        /**
         * The next answer, or null when there is none yet.
         */
        Answer poll()
        {
            responses.read((type, buffer, index, length) ->
            {
                final UnsafeBuffer copy = new UnsafeBuffer(new byte[length]);
                copy.putBytes(0, buffer, index, length);
                answers.add(new Answer(type, copy, length));
            });
            return answers.poll();
        }

        /**
         * The next answer, which must be there.
         */
        Answer answer()
        {
            final Answer answer = poll();
            assertTrue(null != answer, "no answer");
            return answer;
        }

        Answer attach()
        {
            final AttachRequest attach = new AttachRequest();
            attach.wrap(record(), 0);
            attach.layoutVersion(LayoutVersion.CURRENT).pid(4242);
            send(MessageType.ATTACH, AttachRequest.LENGTH);
            return answer();
        }

        private int pathRecord(final Share share, final String path, final long cookie, final int maxEntries)
        {
            final PathRequest request = new PathRequest();
            request.wrap(record(), 0);
            request.shareId(share.id()).maxEntries(maxEntries).cookie(cookie);
            return request.path(path);
        }

        /**
         * Send OPEN, STAT or LIST without waiting for its answer.
         */
        void sendPath(final int type, final String path)
        {
            sendPath(type, share(), path);
        }

        /**
         * Send OPEN, STAT or LIST of a path in the given share without waiting for its answer.
         */
        void sendPath(final int type, final Share share, final String path)
        {
            send(type, pathRecord(share, path, 0, 0));
        }

        /**
         * OPEN, STAT or LIST, with the metadata work run, and its answer.
         */
        Answer request(final int type, final String path)
        {
            sendPath(type, path);
            runMetadata();
            return answer();
        }

        /**
         * OPEN, which must succeed.
         *
         * @return the handle id.
         */
        long open(final String path)
        {
            return open(share(), path);
        }

        /**
         * OPEN of a path in the given share, which must succeed.
         *
         * @return the handle id.
         */
        long open(final Share share, final String path)
        {
            sendPath(MessageType.OPEN, share, path);
            runMetadata();
            final Answer answer = answer();
            assertEquals(MessageType.OPENED, answer.type(), answer::toString);
            final OpenedResponse opened = new OpenedResponse();
            opened.wrap(answer.buffer(), 0);
            return opened.handleId();
        }

        /**
         * Send an ACQUIRE; its answer comes now (hit) or after a fill.
         */
        void acquire(final long handleId, final long fileWindow)
        {
            sendWindow(MessageType.ACQUIRE, handleId, fileWindow);
        }

        void release(final long handleId, final long fileWindow)
        {
            sendWindow(MessageType.RELEASE, handleId, fileWindow);
        }

        Answer close(final long handleId)
        {
            sendWindow(MessageType.CLOSE, handleId, 0);
            return answer();
        }

        Answer hold(final int regionWindow, final long generation)
        {
            final HoldRequest hold = new HoldRequest();
            hold.wrap(record(), 0);
            hold.shareId(share().id()).regionWindow(regionWindow).generation(generation);
            send(MessageType.HOLD, HoldRequest.LENGTH);
            return answer();
        }

        /**
         * ADVANCE, which must succeed.
         *
         * @return the tree version the session is on now.
         */
        long advance()
        {
            final AdvanceMessage advance = new AdvanceMessage();
            advance.wrap(record(), 0);
            advance.shareId(share().id());
            send(MessageType.ADVANCE, AdvanceMessage.LENGTH);
            final Answer answer = answer();
            assertEquals(MessageType.ADVANCED, answer.type(), answer::toString);
            advance.wrap(answer.buffer(), 0);
            return advance.treeVersion();
        }

        /**
         * RESUME with that tree identity, with the metadata work run (when the conductor needs it), and its answer.
         */
        Answer resume(final TreeIdentity held)
        {
            final AdvanceMessage resume = new AdvanceMessage();
            resume.wrap(record(), 0);
            resume.shareId(share().id());
            send(MessageType.RESUME, resume.identity(held));
            runMetadata();
            return answer();
        }

        /**
         * Give the slot back as an exiting agent does; the conductor releases what it held.
         */
        void leave()
        {
            slot.putLongVolatile(ClientSlotDescriptor.OWNER_ID_OFFSET, 0);
            work();
        }

        private void sendWindow(final int type, final long handleId, final long fileWindow)
        {
            final WindowRequest request = new WindowRequest();
            request.wrap(record(), 0);
            request.handleId(handleId).fileWindow(fileWindow);
            send(type, WindowRequest.LENGTH);
        }
    }
}
