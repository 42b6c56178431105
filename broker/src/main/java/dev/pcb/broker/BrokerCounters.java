package dev.pcb.broker;

import dev.pcb.layout.CounterType;
import dev.pcb.layout.CountersFileDescriptor;
import dev.pcb.protocol.ErrorCode;
import org.agrona.BufferUtil;
import org.agrona.concurrent.UnsafeBuffer;
import org.agrona.concurrent.status.AtomicCounter;
import org.agrona.concurrent.status.CountersManager;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/**
 * What the broker counts, as Agrona {@link AtomicCounter}s in the shared-memory counters file, the way Aeron
 * publishes its counters: {@code pcb stat} and the metrics endpoint read them from the file without asking the
 * broker, and still can after it died.
 * <p>
 * Written by the conductor thread only, so every update is a plain read and a release store (no atomic
 * read-modify-write, no allocation on the request path). Events are counted as they happen; the gauges of shares
 * and guests (windows, clients, handles, pins, heartbeats) are sampled by {@link #sample(long)} at every
 * housekeeping, so counting them costs nothing on the request path and cannot drift from the broker's own books.
 */
final class BrokerCounters implements AutoCloseable
{
    private static final int BROKER_COUNTERS = 16;
    private static final int SHARE_COUNTERS = 6;
    private static final int GUEST_COUNTERS = 7;

    private final CountersFile file;
    private final CountersManager manager;
    private final AtomicCounter requests;
    private final AtomicCounter hits;
    private final AtomicCounter misses;
    private final AtomicCounter fills;
    private final AtomicCounter bytesFilled;
    private final AtomicCounter fillNanos;
    private final AtomicCounter evictions;
    private final AtomicCounter stale;
    private final AtomicCounter errors;
    private final AtomicCounter noSpace;
    private final AtomicCounter opens;
    private final AtomicCounter releases;
    private final AtomicCounter retainedReclaims;
    private final AtomicCounter readAheadFills;
    private final AtomicCounter clientsAttached;
    private final AtomicCounter clientsDetached;
    private final AtomicCounter[] errorsByCode;
    private final Share[] shares;
    private final AtomicCounter[] windows;
    private final AtomicCounter[] windowsFree;
    private final AtomicCounter[] windowsPinned;
    private final AtomicCounter[] treeVersionsInUse;
    private final AtomicCounter[] treeAdvances;
    private final AtomicCounter[] treeBadFlips;
    private final GuestControl[] guests;
    private final AtomicCounter[] guestClients;
    private final AtomicCounter[] guestHandles;
    private final AtomicCounter[] guestPins;
    private final AtomicCounter[] guestRequests;
    private final AtomicCounter[] guestLastHeartbeat;
    private final AtomicCounter[] guestDoorbellWakeups;
    private final AtomicCounter[] guestInterrupts;
    private final AtomicCounter[] guestStrandedDoorbellClients;
    private int lastGuest;
    private String finalSnapshot;

    /**
     * Counters in process memory only, with no shares or guests: for tests of the conductor alone.
     */
    BrokerCounters()
    {
        this(null, inMemory(BROKER_COUNTERS + ErrorCode.values().length), List.of(), List.of());
    }

    private BrokerCounters(
        final CountersFile file,
        final CountersManager manager,
        final List<Share> shares,
        final List<GuestControl> guests)
    {
        this.file = file;
        this.manager = manager;
        requests = newCounter(CounterType.REQUESTS, "");
        hits = newCounter(CounterType.HITS, "");
        misses = newCounter(CounterType.MISSES, "");
        fills = newCounter(CounterType.FILLS, "");
        bytesFilled = newCounter(CounterType.BYTES_FILLED, "");
        fillNanos = newCounter(CounterType.FILL_TIME, "");
        evictions = newCounter(CounterType.EVICTIONS, "");
        stale = newCounter(CounterType.STALE, "");
        errors = newCounter(CounterType.ERRORS, "");
        noSpace = newCounter(CounterType.NO_SPACE, "");
        opens = newCounter(CounterType.OPENS, "");
        releases = newCounter(CounterType.RELEASES, "");
        retainedReclaims = newCounter(CounterType.RETAINED_RECLAIMS, "");
        readAheadFills = newCounter(CounterType.READ_AHEAD_FILLS, "");
        clientsAttached = newCounter(CounterType.CLIENTS_ATTACHED, "");
        clientsDetached = newCounter(CounterType.CLIENTS_DETACHED, "");

        final ErrorCode[] codes = ErrorCode.values();
        errorsByCode = new AtomicCounter[codes.length];
        for (final ErrorCode code : codes)
        {
            errorsByCode[code.ordinal()] = newCounter(CounterType.ERRORS_BY_CODE, code.name());
        }

        this.shares = shares.toArray(new Share[0]);
        windows = new AtomicCounter[this.shares.length];
        windowsFree = new AtomicCounter[this.shares.length];
        windowsPinned = new AtomicCounter[this.shares.length];
        treeVersionsInUse = new AtomicCounter[this.shares.length];
        treeAdvances = new AtomicCounter[this.shares.length];
        treeBadFlips = new AtomicCounter[this.shares.length];
        for (int i = 0; i < this.shares.length; i++)
        {
            final String name = this.shares[i].name();
            windows[i] = newCounter(CounterType.WINDOWS, name);
            windowsFree[i] = newCounter(CounterType.WINDOWS_FREE, name);
            windowsPinned[i] = newCounter(CounterType.WINDOWS_PINNED, name);
            treeVersionsInUse[i] = newCounter(CounterType.TREE_VERSIONS_IN_USE, name);
            treeAdvances[i] = newCounter(CounterType.TREE_ADVANCES, name);
            treeBadFlips[i] = newCounter(CounterType.TREE_BAD_FLIPS, name);
        }

        this.guests = guests.toArray(new GuestControl[0]);
        guestClients = new AtomicCounter[this.guests.length];
        guestHandles = new AtomicCounter[this.guests.length];
        guestPins = new AtomicCounter[this.guests.length];
        guestRequests = new AtomicCounter[this.guests.length];
        guestLastHeartbeat = new AtomicCounter[this.guests.length];
        guestDoorbellWakeups = new AtomicCounter[this.guests.length];
        guestInterrupts = new AtomicCounter[this.guests.length];
        guestStrandedDoorbellClients = new AtomicCounter[this.guests.length];
        for (int i = 0; i < this.guests.length; i++)
        {
            final String name = this.guests[i].name();
            guestClients[i] = newCounter(CounterType.GUEST_CLIENTS, name);
            guestHandles[i] = newCounter(CounterType.GUEST_HANDLES, name);
            guestPins[i] = newCounter(CounterType.GUEST_PINS, name);
            guestRequests[i] = newCounter(CounterType.GUEST_REQUESTS, name);
            guestLastHeartbeat[i] = newCounter(CounterType.GUEST_LAST_HEARTBEAT, name);
            guestDoorbellWakeups[i] = newCounter(CounterType.GUEST_DOORBELL_WAKEUPS, name);
            guestInterrupts[i] = newCounter(CounterType.GUEST_INTERRUPTS, name);
            guestStrandedDoorbellClients[i] = newCounter(CounterType.GUEST_STRANDED_DOORBELL_CLIENTS, name);
        }
    }

    /**
     * Create the counters file of a broker, allocate every counter in it and publish it.
     *
     * @param path        {@code RunDirectory.countersFile(runDir)}.
     * @param brokerPid   pid of the broker.
     * @param brokerEpoch epoch of the broker.
     * @param nowMs       start time, epoch ms.
     * @param shares      the shares, for their window gauges.
     * @param guests      the guests, for their client gauges.
     * @return the counters, published.
     * @throws IOException when the file cannot be created.
     */
    static BrokerCounters create(
        final Path path,
        final long brokerPid,
        final long brokerEpoch,
        final long nowMs,
        final List<Share> shares,
        final List<GuestControl> guests) throws IOException
    {
        final int count = BROKER_COUNTERS + ErrorCode.values().length +
            SHARE_COUNTERS * shares.size() + GUEST_COUNTERS * guests.size();
        final CountersFile file = CountersFile.create(
            path, count, brokerPid, brokerEpoch, nowMs, (int)BrokerConductor.HOUSEKEEPING_INTERVAL_MS);
        try
        {
            final BrokerCounters counters = new BrokerCounters(file, file.manager(), shares, guests);
            file.publish();
            return counters;
        }
        catch (final IOException | RuntimeException ex)
        {
            file.close();
            throw ex;
        }
    }

    private static CountersManager inMemory(final int counterCount)
    {
        final int valuesLength = CountersFileDescriptor.valuesLength(counterCount);
        return new CountersManager(
            new UnsafeBuffer(BufferUtil.allocateDirectAligned(
                CountersFileDescriptor.metadataLength(valuesLength), 4096)),
            new UnsafeBuffer(BufferUtil.allocateDirectAligned(valuesLength, 4096)));
    }

    private AtomicCounter newCounter(final CounterType type, final String name)
    {
        final String label = name.isEmpty() ? type.title() : type.title() + ": " + type.scope().label() + "=" + name;
        return manager.newCounter(label, type.typeId(), (key) -> CountersFileDescriptor.putKeyName(key, name));
    }

    /**
     * Sample the gauges of shares and guests and advance the heartbeat timestamp. Conductor thread only, at each
     * housekeeping: it walks the slots, so it is kept off the request path.
     *
     * @param nowMs epoch ms.
     */
    void sample(final long nowMs)
    {
        long evicted = 0;
        for (int i = 0; i < shares.length; i++)
        {
            final WindowTable table = shares[i].windows();
            windows[i].setRelease(table.count());
            windowsFree[i].setRelease(table.freeCount());
            windowsPinned[i].setRelease(table.pinnedCount());
            final ShareTree tree = shares[i].tree();
            treeVersionsInUse[i].setRelease(tree.versionsInUse());
            treeAdvances[i].setRelease(tree.advances());
            treeBadFlips[i].setRelease(tree.badFlips());
            evicted += table.evictions();
        }
        evictions.setRelease(evicted);

        for (int i = 0; i < guests.length; i++)
        {
            long clients = 0;
            long handles = 0;
            long pins = 0;
            long lastHeartbeat = 0;
            for (final ClientSession session : guests[i].sessions())
            {
                if (session.isActive())
                {
                    clients++;
                    handles += session.handles().size();
                    pins += session.pinCount();
                    lastHeartbeat = Math.max(lastHeartbeat, nowMs - session.heartbeatSilenceMs(nowMs));
                }
            }
            guestClients[i].setRelease(clients);
            guestHandles[i].setRelease(handles);
            guestPins[i].setRelease(pins);
            // Kept after the clients leave: when the guest was last heard from is what an operator asks.
            guestLastHeartbeat[i].proposeMaxRelease(lastHeartbeat);
            guestDoorbellWakeups[i].setRelease(guests[i].doorbellWakeups());
            guestInterrupts[i].setRelease(guests[i].interruptsSent());
            guestStrandedDoorbellClients[i].setRelease(guests[i].strandedDoorbellClients());
        }

        if (null != file)
        {
            file.heartbeat(nowMs);
        }
    }

    /**
     * A request of a client of a guest was read.
     *
     * @param guest the client's guest.
     */
    void request(final GuestControl guest)
    {
        requests.incrementRelease();
        final int n = guests.length;
        if (0 == n)
        {
            return;
        }
        // One slot is served up to a batch of requests in a row: the last guest is almost always the one.
        if (guests[lastGuest] != guest)
        {
            for (int i = 0; i < n; i++)
            {
                if (guests[i] == guest)
                {
                    lastGuest = i;
                    break;
                }
            }
        }
        if (guests[lastGuest] == guest)
        {
            guestRequests[lastGuest].incrementRelease();
        }
    }

    /**
     * An error answer of a code was sent.
     *
     * @param code the error code.
     */
    void error(final ErrorCode code)
    {
        errors.incrementRelease();
        errorsByCode[code.ordinal()].incrementRelease();
    }

    /**
     * Mark the counters file stopped and unmap it; it stays in the run directory with the last values.
     */
    public void close()
    {
        if (null == finalSnapshot)
        {
            finalSnapshot = snapshot();
            if (null != file)
            {
                file.close();
            }
        }
    }

    void request()
    {
        requests.incrementRelease();
    }

    void hit()
    {
        hits.incrementRelease();
    }

    void miss()
    {
        misses.incrementRelease();
    }

    void filled(final int bytes, final long nanos)
    {
        fills.incrementRelease();
        bytesFilled.getAndAddRelease(bytes);
        fillNanos.getAndAddRelease(nanos);
    }

    void stale()
    {
        stale.incrementRelease();
    }

    void error()
    {
        errors.incrementRelease();
    }

    void noSpace()
    {
        noSpace.incrementRelease();
    }

    void opened()
    {
        opens.incrementRelease();
    }

    void release()
    {
        releases.incrementRelease();
    }

    void retainedReclaimed(final int pins)
    {
        retainedReclaims.getAndAddRelease(pins);
    }

    void readAhead()
    {
        readAheadFills.incrementRelease();
    }

    void clientAttached()
    {
        clientsAttached.incrementRelease();
    }

    void clientDetached()
    {
        clientsDetached.incrementRelease();
    }

    String snapshot()
    {
        if (null != finalSnapshot)
        {
            return finalSnapshot;
        }
        return "requests=" + requests.get() + " hits=" + hits.get() + " misses=" + misses.get() +
            " fills=" + fills.get() + " bytesFilled=" + bytesFilled.get() + " fillNanos=" + fillNanos.get() +
            " stale=" + stale.get() + " errors=" + errors.get() + " noSpace=" + noSpace.get() +
            " evictions=" + evictions.get() + " opens=" + opens.get() + " releases=" + releases.get() +
            " retainedReclaims=" + retainedReclaims.get() + " readAheadFills=" + readAheadFills.get() +
            " clientsAttached=" + clientsAttached.get() + " clientsDetached=" + clientsDetached.get();
    }
}
