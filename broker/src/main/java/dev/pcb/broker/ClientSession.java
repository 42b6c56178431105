package dev.pcb.broker;

import dev.pcb.layout.ClientSlot;
import dev.pcb.layout.ClientSlotDescriptor;
import dev.pcb.layout.RetainedWindowsTable;
import org.agrona.collections.Long2LongHashMap;
import org.agrona.collections.Long2ObjectHashMap;
import org.agrona.concurrent.UnsafeBuffer;
import org.agrona.concurrent.ringbuffer.ManyToOneRingBuffer;
import org.agrona.concurrent.ringbuffer.OneToOneRingBuffer;

/**
 * One client slot of a guest's control region, and the state of the process that owns it: handles and pins.
 * <p>
 * Everything in the slot is written by the guest and therefore untrusted. Pins and handles belong to the session:
 * when the owner leaves, dies or is replaced, {@link BrokerConductor} releases all of them before it accepts a new
 * owner.
 */
final class ClientSession
{
    private final GuestControl guest;
    private final int slotIndex;
    private final UnsafeBuffer slot;
    private final UnsafeBuffer requestBuffer;
    private final UnsafeBuffer responseBuffer;
    private final ClientSlot clientSlot = new ClientSlot();
    private final RetainedWindowsTable retainedWindows = new RetainedWindowsTable();
    private final Long2ObjectHashMap<Handle> handles = new Long2ObjectHashMap<>();
    private final Long2LongHashMap heldWindows = new Long2LongHashMap(0);
    private ManyToOneRingBuffer requests;
    private OneToOneRingBuffer responses;
    private long ownerId;
    private long sessionId;
    private boolean attached;
    private long nextHandleId = 1;
    private long pinCount;
    private long lastHeartbeat;
    private long lastHeartbeatChangeMs;
    private long requestCount;
    private int pid;
    private boolean answered;
    // By share id: the tree version this session resolves paths beneath; null before ATTACH and after release.
    private TreeVersion[] trees = new TreeVersion[0];

    ClientSession(
        final GuestControl guest,
        final int slotIndex,
        final UnsafeBuffer slot,
        final int requestRingLength,
        final int responseRingLength)
    {
        this.guest = guest;
        this.slotIndex = slotIndex;
        this.slot = slot;
        this.requestBuffer = new UnsafeBuffer(slot, ClientSlotDescriptor.requestRingOffset(), requestRingLength);
        this.responseBuffer = new UnsafeBuffer(
            slot, ClientSlotDescriptor.responseRingOffset(requestRingLength), responseRingLength);
        clientSlot.wrap(slot, 0, slot.capacity());
        retainedWindows.wrap(slot, ClientSlotDescriptor.RETAINED_WINDOWS_OFFSET);
    }

    GuestControl guest()
    {
        return guest;
    }

    int slotIndex()
    {
        return slotIndex;
    }

    UnsafeBuffer slot()
    {
        return slot;
    }

    /**
     * Note that this cycle wrote an answer to the slot; conductor thread.
     *
     * @return true the first time in a cycle, so the slot is queued for one wake.
     */
    boolean markAnswered()
    {
        if (answered)
        {
            return false;
        }
        answered = true;
        return true;
    }

    /** The slot's wake for this cycle is done. */
    void clearAnswered()
    {
        answered = false;
    }

    /**
     * @return the process that owns the slot now, as the slot protocol reads it ({@link ClientSlot#ownerId()}).
     */
    long slotOwnerId()
    {
        return clientSlot.ownerId();
    }

    /**
     * The owner's table of retained windows; written by the guest.
     */
    RetainedWindowsTable retainedWindows()
    {
        return retainedWindows;
    }

    ManyToOneRingBuffer requests()
    {
        return requests;
    }

    OneToOneRingBuffer responses()
    {
        return responses;
    }

    long ownerId()
    {
        return ownerId;
    }

    long sessionId()
    {
        return sessionId;
    }

    boolean isActive()
    {
        return 0 != ownerId;
    }

    boolean isAttached()
    {
        return attached;
    }

    void attached(final int pid)
    {
        this.attached = true;
        this.pid = pid;
    }

    int pid()
    {
        return pid;
    }

    /**
     * Zero both rings and accept a new owner; the old owner's state must be released already.
     */
    void accept(final long ownerId, final long sessionId, final long nowMs)
    {
        requestBuffer.setMemory(0, requestBuffer.capacity(), (byte)0);
        responseBuffer.setMemory(0, responseBuffer.capacity(), (byte)0);
        this.requests = new ManyToOneRingBuffer(requestBuffer);
        this.responses = new OneToOneRingBuffer(responseBuffer);
        this.ownerId = ownerId;
        this.sessionId = sessionId;
        this.attached = false;
        this.pid = 0;
        this.requestCount = 0;
        this.lastHeartbeat = clientSlot.ownerHeartbeat();
        this.lastHeartbeatChangeMs = nowMs;
        clientSlot.accept(ownerId);
    }

    /**
     * Forget the owner after its state was released; the slot is free for the next claim.
     */
    void reset(final boolean freeSlot)
    {
        clientSlot.reset(ownerId, freeSlot);
        this.ownerId = 0;
        this.attached = false;
        this.requests = null;
        this.responses = null;
        this.nextHandleId = 1;
        this.pid = 0;
    }

    /**
     * Observe the owner's heartbeat counter.
     *
     * @return ms since it last changed.
     */
    long heartbeatSilenceMs(final long nowMs)
    {
        final long value = clientSlot.ownerHeartbeat();
        if (value != lastHeartbeat)
        {
            lastHeartbeat = value;
            lastHeartbeatChangeMs = nowMs;
        }
        return nowMs - lastHeartbeatChangeMs;
    }

    /**
     * Windows claimed with HOLD after a broker restart: {@code shareId << 32 | regionWindow} to count.
     */
    Long2LongHashMap heldWindows()
    {
        return heldWindows;
    }

    Long2ObjectHashMap<Handle> handles()
    {
        return handles;
    }

    long nextHandleId()
    {
        return nextHandleId++;
    }

    long pinCount()
    {
        return pinCount;
    }

    void pinned()
    {
        pinCount++;
        guest.pinned(1);
    }

    void unpinned()
    {
        pinCount--;
        guest.pinned(-1);
    }

    void addHandle(final Handle handle)
    {
        handles.put(handle.id(), handle);
        guest.opened(1);
    }

    void removeHandle(final Handle handle)
    {
        if (handles.remove(handle.id()) == handle)
        {
            guest.opened(-1);
        }
    }

    long requestCount()
    {
        return requestCount;
    }

    void countRequest()
    {
        requestCount++;
    }

    /**
     * @return the tree version of the share this session is on, or null when it is on none.
     */
    TreeVersion tree(final Share share)
    {
        final int id = share.id();
        return id < trees.length ? trees[id] : null;
    }

    /**
     * Put this session on a tree version of the share (null: on none).
     */
    void tree(final Share share, final TreeVersion version)
    {
        final int id = share.id();
        if (id >= trees.length)
        {
            trees = java.util.Arrays.copyOf(trees, id + 1);
        }
        trees[id] = version;
    }

    String describe()
    {
        return "guest " + guest.name() + " slot " + slotIndex + (pid != 0 ? " pid " + pid : "");
    }
}
