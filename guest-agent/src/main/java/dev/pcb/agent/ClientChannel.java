package dev.pcb.agent;

import dev.pcb.layout.ClientSlotDescriptor;
import dev.pcb.layout.ControlRegionDescriptor;
import dev.pcb.layout.RetainedWindowsDescriptor;
import dev.pcb.nativeshim.Linux;
import dev.pcb.nativeshim.MappedRegion;
import dev.pcb.protocol.ErrorCode;
import dev.pcb.protocol.MessageType;
import org.agrona.CloseHelper;
import org.agrona.MutableDirectBuffer;
import org.agrona.concurrent.MessageHandler;
import org.agrona.concurrent.UnsafeBuffer;
import org.agrona.concurrent.ringbuffer.ManyToOneRingBuffer;
import org.agrona.concurrent.ringbuffer.OneToOneRingBuffer;

import java.security.SecureRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * This process's channel to the broker: one claimed client slot of the guest's control region, shared by all
 * threads of the process.
 * <p>
 * Requests go on the slot's request ring, which is many-to-one so threads write without a lock. Answers come on the
 * response ring, which has one reader: whichever waiting thread wins {@link #pollLock} reads it and hands each answer
 * to its {@link Call} by correlation id. A daemon thread advances the slot's heartbeat and watches the broker's.
 */
final class ClientChannel implements AutoCloseable
{
    private static final int PENDING_SLOTS = 1024;
    private static final int PENDING_MASK = PENDING_SLOTS - 1;

    private final MappedRegion control;
    private final UnsafeBuffer header;
    private final UnsafeBuffer slot;
    private final int slotIndex;
    private final long ownerId;
    private final int slotLength;
    private final long reconnectTimeoutNs;
    private volatile long epoch;
    // Counts completed re-attaches: a request prepared under an older count is encoded again before it is sent.
    private volatile int servingGeneration;
    private final ManyToOneRingBuffer requests;
    private final OneToOneRingBuffer responses;
    private final AtomicLong correlationIds = new AtomicLong();
    private final AtomicReferenceArray<Call> pending = new AtomicReferenceArray<>(PENDING_SLOTS);
    private final AtomicBoolean pollLock = new AtomicBoolean();
    private final ThreadLocal<Call> calls = ThreadLocal.withInitial(Call::new);
    // Held in a field: a method reference at the call site would allocate on every poll.
    private final MessageHandler responseHandler = this::onResponse;
    private final long requestTimeoutNs;
    private final long brokerLeaseMs;
    private final Thread heartbeat;
    private volatile String brokerFailure;
    private volatile boolean permanentFailure;
    private volatile Recovery recovery;
    private long recoveringEpoch;
    private volatile boolean closed;

    ClientChannel(final MappedRegion control, final AgentConfig config) throws PcbException
    {
        this.control = control;
        this.requestTimeoutNs = config.requestTimeout().toNanos();
        final long deadlineNs = System.nanoTime() + config.connectTimeout().toNanos();
        this.header = new UnsafeBuffer(control.address(), ControlRegionDescriptor.HEADER_LENGTH);

        awaitBroker(deadlineNs, control);
        this.epoch = header.getLongVolatile(ControlRegionDescriptor.BROKER_EPOCH_OFFSET);
        this.brokerLeaseMs = Math.max(100, header.getInt(ControlRegionDescriptor.BROKER_LEASE_MS_OFFSET));
        final int slotCount = header.getInt(ControlRegionDescriptor.SLOT_COUNT_OFFSET);
        this.slotLength = header.getInt(ControlRegionDescriptor.SLOT_LENGTH_OFFSET);
        this.reconnectTimeoutNs = config.connectTimeout().toNanos();
        final int requestRingLength = header.getInt(ControlRegionDescriptor.REQUEST_RING_LENGTH_OFFSET);
        final int responseRingLength = header.getInt(ControlRegionDescriptor.RESPONSE_RING_LENGTH_OFFSET);
        if (slotCount < 1 || (long)ControlRegionDescriptor.slotOffset(slotLength, slotCount) > control.length())
        {
            throw new PcbException(ErrorCode.MALFORMED, control.path() + ": control region header is inconsistent");
        }

        // The pid rides in the owner id, so a process judging whether an owner is gone reads id and pid in one
        // atomic load and can never pair a new owner with an old pid.
        this.ownerId = ((long)Linux.getpid() << 32) | (new SecureRandom().nextInt() & 0xFFFF_FFFFL);

        final UnsafeBuffer whole = new UnsafeBuffer(control.address(), (int)control.length());
        this.slotIndex = claimSlot(whole, slotCount, slotLength, deadlineNs, config);
        this.slot = new UnsafeBuffer(whole, ControlRegionDescriptor.slotOffset(slotLength, slotIndex), slotLength);
        awaitAccepted(deadlineNs);
        // A previous owner's retained windows died with it; the broker dropped their pins before accepting us.
        slot.setMemory(ClientSlotDescriptor.RETAINED_WINDOWS_OFFSET, RetainedWindowsDescriptor.LENGTH, (byte)0);

        this.requests = new ManyToOneRingBuffer(
            new UnsafeBuffer(slot, ClientSlotDescriptor.requestRingOffset(), requestRingLength));
        this.responses = new OneToOneRingBuffer(
            new UnsafeBuffer(slot, ClientSlotDescriptor.responseRingOffset(requestRingLength), responseRingLength));

        this.heartbeat = new Thread(() -> heartbeatLoop(config.heartbeatIntervalMs()), "pcb-agent-heartbeat");
        heartbeat.setDaemon(true);
        heartbeat.start();
    }

    private void awaitBroker(final long deadlineNs, final MappedRegion control) throws PcbException
    {
        while (!ControlRegionDescriptor.isReady(header) ||
            0 == header.getLongVolatile(ControlRegionDescriptor.BROKER_EPOCH_OFFSET))
        {
            if (System.nanoTime() - deadlineNs > 0)
            {
                throw new BrokerUnavailableException("no broker serves " + control.path() + " (waited for it to " +
                    "come up)");
            }
            sleepMs(10);
        }
    }

    private int claimSlot(
        final UnsafeBuffer whole, final int slotCount, final int slotLength, final long deadlineNs,
        final AgentConfig config) throws PcbException
    {
        final int pid = Linux.getpid();
        while (true)
        {
            // Take over a slot whose owner process is gone before a free one: the broker then drops the dead
            // owner's pins at once instead of at its lease.
            final StringBuilder holders = new StringBuilder();
            int free = -1;
            for (int i = 0; i < slotCount; i++)
            {
                final int at = ControlRegionDescriptor.slotOffset(slotLength, i);
                final long owner = whole.getLongVolatile(at + ClientSlotDescriptor.OWNER_ID_OFFSET);
                if (ClientSlotDescriptor.FREE == owner)
                {
                    free = free < 0 ? i : free;
                    continue;
                }
                final long ownerPid = owner >>> 32;
                if (ownerPid != pid && !Linux.processExists((int)ownerPid) &&
                    whole.compareAndSetLong(at + ClientSlotDescriptor.OWNER_ID_OFFSET, owner, ownerId))
                {
                    whole.putLongRelease(at + ClientSlotDescriptor.OWNER_PID_OFFSET, pid);
                    return i;
                }
                holders.append(holders.length() == 0 ? "" : ", ").append(ownerPid);
            }
            for (int i = Math.max(0, free); free >= 0 && i < slotCount; i++)
            {
                final int at = ControlRegionDescriptor.slotOffset(slotLength, i);
                if (whole.compareAndSetLong(at + ClientSlotDescriptor.OWNER_ID_OFFSET, ClientSlotDescriptor.FREE,
                    ownerId))
                {
                    whole.putLongRelease(at + ClientSlotDescriptor.OWNER_PID_OFFSET, pid);
                    return i;
                }
            }
            if (System.nanoTime() - deadlineNs > 0)
            {
                throw new PcbException(ErrorCode.QUOTA_EXCEEDED, "all " + slotCount + " client slots of guest " +
                    ControlRegionDescriptor.guestName(header) + " are held by live processes (pids " + holders +
                    "); waited " + config.connectTimeout().toMillis() + " ms");
            }
            sleepMs(20);
        }
    }

    private void awaitAccepted(final long deadlineNs) throws PcbException
    {
        while (slot.getLongVolatile(ClientSlotDescriptor.ACCEPTED_OWNER_ID_OFFSET) != ownerId)
        {
            if (System.nanoTime() - deadlineNs > 0)
            {
                slot.compareAndSetLong(ClientSlotDescriptor.OWNER_ID_OFFSET, ownerId, ClientSlotDescriptor.FREE);
                throw new BrokerUnavailableException("the broker did not accept client slot " + slotIndex +
                    " of " + control.path() + " in time");
            }
            Thread.onSpinWait();
            sleepMs(1);
        }
    }

    int slotIndex()
    {
        return slotIndex;
    }

    /** @return this slot's table of retained windows. */
    UnsafeBuffer retainedWindowsTable()
    {
        return new UnsafeBuffer(slot, ClientSlotDescriptor.RETAINED_WINDOWS_OFFSET, RetainedWindowsDescriptor.LENGTH);
    }


    /**
     * This thread's reusable call; encode the request into {@link Call#request} then {@link #call}.
     */
    Call prepare()
    {
        final Call call = calls.get();
        // Handle and share ids read after this belong to the broker that serves now; see call().
        call.generation = servingGeneration;
        return call;
    }

    /**
     * Send a request and wait for its answer, which lands in {@code call.response}.
     *
     * @return the answer's type id; an ERROR answer is returned, not thrown.
     */
    int call(final Call call, final int typeId, final int length) throws PcbException
    {
        if (!call.recovering)
        {
            awaitServing();
            if (call.generation != servingGeneration)
            {
                // Encoded before the last re-attach: its handle and share ids may be the previous broker's.
                throw new BrokerRestartedException();
            }
        }
        call.done = false;
        long id;
        int index;
        do
        {
            id = correlationIds.incrementAndGet();
            index = (int)(id & PENDING_MASK);
        }
        while (!pending.compareAndSet(index, null, call));
        call.correlationId = id;
        call.request.putLong(0, id);

        final long deadlineNs = System.nanoTime() + requestTimeoutNs;
        try
        {
            write(call, typeId, length, deadlineNs);
            call.idle.reset();
            while (!call.done)
            {
                if (pollResponses() == 0)
                {
                    checkAlive(call, deadlineNs, typeId);
                    call.idle.idle();
                }
            }
            return call.responseType;
        }
        finally
        {
            pending.compareAndSet(index, call, null);
        }
    }

    /**
     * Send a request no one waits an answer for (RELEASE, a deferred CLOSE); an error answer is dropped.
     */
    void send(final Call call, final int typeId, final int length) throws PcbException
    {
        final String failure = brokerFailure;
        if (null != failure)
        {
            // No waiting for a new broker here: a release during an outage has nothing left to release.
            throw new BrokerUnavailableException(failure);
        }
        call.request.putLong(0, correlationIds.incrementAndGet());
        write(call, typeId, length, System.nanoTime() + requestTimeoutNs);
    }

    private void write(final Call call, final int typeId, final int length, final long deadlineNs)
        throws PcbException
    {
        call.idle.reset();
        while (!requests.write(typeId, call.request, 0, length))
        {
            checkAlive(call, deadlineNs, typeId);
            pollResponses();
            call.idle.idle();
        }
    }

    private void checkAlive(final Call call, final long deadlineNs, final int typeId) throws PcbException
    {
        if (null != brokerFailure && !call.recovering)
        {
            // The request may be lost with the old broker: wait for a new one, then let the caller ask again.
            awaitServing();
            throw new BrokerRestartedException();
        }
        if (call.recovering && permanentFailure)
        {
            throw new BrokerUnavailableException(brokerFailure);
        }
        if (closed)
        {
            throw new PcbException(ErrorCode.SHUTTING_DOWN, "agent is closed");
        }
        if (System.nanoTime() - deadlineNs > 0)
        {
            throw new PcbException(ErrorCode.IO_ERROR, MessageType.name(typeId) + " not answered within " +
                TimeUnit.NANOSECONDS.toMillis(requestTimeoutNs) + " ms");
        }
    }

    private int pollResponses()
    {
        if (!pollLock.compareAndSet(false, true))
        {
            return 0;
        }
        try
        {
            return responses.read(responseHandler, 64);
        }
        finally
        {
            pollLock.set(false);
        }
    }

    private void onResponse(final int typeId, final MutableDirectBuffer buffer, final int index, final int length)
    {
        if (length < 8)
        {
            return;
        }
        final long id = buffer.getLong(index);
        final Call call = pending.get((int)(id & PENDING_MASK));
        if (null != call && call.correlationId == id && !call.done)
        {
            final int copy = Math.min(length, Call.RESPONSE_CAPACITY);
            call.response.putBytes(0, buffer, index, copy);
            call.responseType = typeId;
            call.responseLength = copy;
            call.done = true;
        }
    }

    /**
     * Wait, bounded by the connect timeout, until the broker serves this client: right away when it does, after a
     * re-attach when a new broker came up.
     */
    private void awaitServing() throws PcbException
    {
        if (null == brokerFailure)
        {
            return;
        }
        final long deadlineNs = System.nanoTime() + reconnectTimeoutNs;
        while (null != brokerFailure)
        {
            if (permanentFailure || closed || System.nanoTime() - deadlineNs > 0)
            {
                final String failure = brokerFailure;
                throw new BrokerUnavailableException(null == failure ? "agent is closed" : failure);
            }
            sleepMs(5);
        }
    }

    /**
     * Set what re-attaches the files of this process after a broker restart.
     */
    void recovery(final Recovery recovery)
    {
        this.recovery = recovery;
    }

    /**
     * Re-attach to a broker that restarted on the same regions: wait until it accepts this client's slot again,
     * ATTACH, then let the agent claim its held windows and re-open its files. Runs on its own thread so heartbeats
     * go on meanwhile.
     */
    private void recover(final long newEpoch)
    {
        final long deadlineNs = System.nanoTime() + reconnectTimeoutNs;
        try
        {
            while (slot.getLongVolatile(ClientSlotDescriptor.ACCEPTED_OWNER_ID_OFFSET) != ownerId)
            {
                if (slot.getLongVolatile(ClientSlotDescriptor.OWNER_ID_OFFSET) != ownerId ||
                    header.getInt(ControlRegionDescriptor.SLOT_LENGTH_OFFSET) != slotLength)
                {
                    fail("the restarted broker did not keep this client's slot");
                    return;
                }
                if (closed || System.nanoTime() - deadlineNs > 0)
                {
                    fail("the restarted broker did not accept this client in time");
                    return;
                }
                sleepMs(2);
            }
            epoch = newEpoch;
            final Recovery listener = recovery;
            if (null != listener)
            {
                final Call call = prepare();
                call.recovering = true;
                try
                {
                    listener.reattach(call);
                }
                finally
                {
                    call.recovering = false;
                }
            }
            // Single writer (this thread); published to callers by the volatile write below.
            servingGeneration++;
            brokerFailure = null;
        }
        catch (final PcbException | RuntimeException ex)
        {
            fail("re-attaching to the restarted broker failed: " + ex.getMessage());
        }
    }

    private void fail(final String reason)
    {
        brokerFailure = reason;
        permanentFailure = true;
    }

    private void heartbeatLoop(final long intervalMs)
    {
        long lastBrokerBeat = header.getLongVolatile(ControlRegionDescriptor.BROKER_HEARTBEAT_OFFSET);
        long lastChangeMs = System.currentTimeMillis();
        while (!closed)
        {
            slot.getAndAddLong(ClientSlotDescriptor.OWNER_HEARTBEAT_OFFSET, 1);
            final long nowMs = System.currentTimeMillis();
            final long beat = header.getLongVolatile(ControlRegionDescriptor.BROKER_HEARTBEAT_OFFSET);
            if (beat != lastBrokerBeat)
            {
                lastBrokerBeat = beat;
                lastChangeMs = nowMs;
            }
            final long brokerEpoch = header.getLongVolatile(ControlRegionDescriptor.BROKER_EPOCH_OFFSET);
            if (!permanentFailure && 0 != brokerEpoch && brokerEpoch != epoch && ControlRegionDescriptor.isReady(header))
            {
                brokerFailure = "the broker restarted";
                lastChangeMs = nowMs;
                if (recoveringEpoch != brokerEpoch)
                {
                    recoveringEpoch = brokerEpoch;
                    final Thread thread = new Thread(() -> recover(brokerEpoch), "pcb-agent-recovery");
                    thread.setDaemon(true);
                    thread.start();
                }
            }
            else if (null == brokerFailure)
            {
                if (brokerEpoch != epoch)
                {
                    brokerFailure = "the broker shut down";
                }
                else if (nowMs - lastChangeMs > brokerLeaseMs)
                {
                    brokerFailure = "the broker has not heartbeated for " + (nowMs - lastChangeMs) + " ms";
                }
                else if (slot.getLongVolatile(ClientSlotDescriptor.ACCEPTED_OWNER_ID_OFFSET) != ownerId)
                {
                    brokerFailure = "the broker detached this client (lease expired or protocol error)";
                }
            }
            sleepMs(intervalMs);
        }
    }

    /** @return the epoch of the broker this client is attached to; it changes when a restarted one accepts it. */
    long epoch()
    {
        return epoch;
    }

    /** @return the reason the broker is unusable, or null while it is fine. */
    String brokerFailure()
    {
        return brokerFailure;
    }

    /**
     * Give the slot back: after a DETACH was answered, or when the broker is gone.
     */
    public void close()
    {
        if (closed)
        {
            return;
        }
        closed = true;
        try
        {
            heartbeat.join(1_000);
        }
        catch (final InterruptedException ex)
        {
            Thread.currentThread().interrupt();
        }
        slot.compareAndSetLong(ClientSlotDescriptor.OWNER_ID_OFFSET, ownerId, ClientSlotDescriptor.FREE);
        CloseHelper.quietClose(control);
    }

    private static void sleepMs(final long ms)
    {
        try
        {
            Thread.sleep(ms);
        }
        catch (final InterruptedException ex)
        {
            Thread.currentThread().interrupt();
        }
    }
}
