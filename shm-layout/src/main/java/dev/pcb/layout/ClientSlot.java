package dev.pcb.layout;

import org.agrona.concurrent.AtomicBuffer;
import org.agrona.concurrent.UnsafeBuffer;

import static dev.pcb.layout.ClientSlotDescriptor.ACCEPTED_OWNER_ID_OFFSET;
import static dev.pcb.layout.ClientSlotDescriptor.FREE;
import static dev.pcb.layout.ClientSlotDescriptor.OWNER_HEARTBEAT_OFFSET;
import static dev.pcb.layout.ClientSlotDescriptor.OWNER_ID_OFFSET;
import static dev.pcb.layout.ClientSlotDescriptor.OWNER_PID_OFFSET;

/**
 * Both sides of the client slot protocol over one slot's header ({@link ClientSlotDescriptor}): a process claims
 * the slot, heartbeats and gives it back; the broker accepts an owner and resets the slot.
 * <pre>
 *   process: ownerId FREE or dead owner --claim (CAS)--> pid << 32 | random ; ownerPid = pid
 *   broker:  acceptedOwnerId = ownerId   (after the previous owner's pins and handles are released, rings zeroed)
 *   process: waits for acceptedOwnerId == its id, then advances ownerHeartbeat on every beat
 *   process: ownerId its id --release (CAS)--> FREE
 *   broker:  acceptedOwnerId = 0, and ownerId --(CAS)--> FREE when it detaches the owner itself
 * </pre>
 * Only a compare-and-set moves {@code ownerId}, so at most one process owns a slot at a time. A flyweight: it
 * allocates nothing and holds no lock.
 */
public final class ClientSlot
{
    private final UnsafeBuffer slot = new UnsafeBuffer(0, 0);

    /**
     * Wrap a slot.
     *
     * @param region the control region, or any buffer holding slots.
     * @param offset where the slot starts, {@link ControlRegionDescriptor#slotOffset(int, int)}.
     * @param length the slot's length.
     * @return this.
     */
    public ClientSlot wrap(final AtomicBuffer region, final int offset, final int length)
    {
        slot.wrap(region, offset, length);
        return this;
    }

    /** @return the whole slot: header, retained-windows table and rings. */
    public UnsafeBuffer buffer()
    {
        return slot;
    }

    /**
     * An owner id: the pid rides in it, so a process judging whether an owner is gone reads id and pid in one atomic
     * load and can never pair a new owner with an old pid.
     *
     * @param pid    the claiming process.
     * @param random a random number, so a pid reused after a crash makes a different id.
     * @return the id, never {@link ClientSlotDescriptor#FREE}.
     */
    public static long ownerId(final int pid, final int random)
    {
        return ((long)pid << 32) | (random & 0xFFFF_FFFFL);
    }

    /**
     * The pid inside an owner id.
     *
     * @param ownerId an owner id.
     * @return its pid.
     */
    public static int pidOf(final long ownerId)
    {
        return (int)(ownerId >>> 32);
    }

    /** @return the current owner id, {@link ClientSlotDescriptor#FREE} when free. */
    public long ownerId()
    {
        return slot.getLongVolatile(OWNER_ID_OFFSET);
    }

    /** @return the owner id the broker accepted, 0 for none. */
    public long acceptedOwnerId()
    {
        return slot.getLongVolatile(ACCEPTED_OWNER_ID_OFFSET);
    }

    /** @return the owner's heartbeat counter: any changing value. */
    public long ownerHeartbeat()
    {
        return slot.getLongVolatile(OWNER_HEARTBEAT_OFFSET);
    }

    /**
     * Process: claim the slot from the owner seen in it (FREE, or an owner whose process is gone).
     *
     * @param seen    the owner id read just before.
     * @param ownerId this process's id, from {@link #ownerId(int, int)}.
     * @return true when the slot is now this process's; it then waits for {@link #isAccepted(long)}.
     */
    public boolean claim(final long seen, final long ownerId)
    {
        if (seen == ownerId || !slot.compareAndSetLong(OWNER_ID_OFFSET, seen, ownerId))
        {
            return false;
        }
        slot.putLongRelease(OWNER_PID_OFFSET, pidOf(ownerId));
        return true;
    }

    /**
     * Process: whether the broker accepted this owner, which it does only after releasing the previous one.
     *
     * @param ownerId this process's id.
     * @return true when this owner is accepted.
     */
    public boolean isAccepted(final long ownerId)
    {
        return acceptedOwnerId() == ownerId;
    }

    /**
     * Process: show the broker this owner is alive.
     */
    public void heartbeat()
    {
        slot.getAndAddLong(OWNER_HEARTBEAT_OFFSET, 1);
    }

    /**
     * Process: give the slot back.
     *
     * @param ownerId this process's id.
     * @return false when the slot was not this owner's any more (the broker detached it, or it was taken over).
     */
    public boolean release(final long ownerId)
    {
        return slot.compareAndSetLong(OWNER_ID_OFFSET, ownerId, FREE);
    }

    /**
     * Broker: accept an owner; the previous owner's state must be released and the rings zeroed before.
     *
     * @param ownerId the owner id read from the slot.
     */
    public void accept(final long ownerId)
    {
        slot.putLongRelease(ACCEPTED_OWNER_ID_OFFSET, ownerId);
    }

    /**
     * Broker: forget an owner whose state was released.
     *
     * @param ownerId  the owner accepted so far, or {@link ClientSlotDescriptor#FREE}.
     * @param freeSlot also free the slot, when the broker detaches the owner itself; a newer claim is left alone.
     */
    public void reset(final long ownerId, final boolean freeSlot)
    {
        if (freeSlot && FREE != ownerId)
        {
            slot.compareAndSetLong(OWNER_ID_OFFSET, ownerId, FREE);
        }
        slot.putLongRelease(ACCEPTED_OWNER_ID_OFFSET, 0);
    }
}
