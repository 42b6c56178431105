package dev.pcb.agent;

import dev.pcb.layout.ClientSlot;
import dev.pcb.layout.ClientSlotDescriptor;
import dev.pcb.layout.ControlRegionDescriptor;
import dev.pcb.nativeshim.Linux;
import dev.pcb.protocol.ErrorCode;
import org.agrona.concurrent.NanoClock;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * Claiming a client slot of the guest's control region, and waiting until the broker accepts it ({@link ClientSlot}
 * makes every transition).
 */
final class SlotClaim
{
    private SlotClaim()
    {
    }

    /**
     * Claim a slot: one whose owner process is gone first, so the broker drops the dead owner's pins at once instead
     * of at its lease; else a free one. Waits for one until the deadline.
     *
     * @param region  the whole control region.
     * @param slot    wrapped over the claimed slot on return.
     * @param ownerId this process's owner id.
     * @return the index of the claimed slot.
     * @throws PcbException QUOTA_EXCEEDED when every slot stays held by a live process.
     */
    static int claim(
        final UnsafeBuffer region,
        final ClientSlot slot,
        final long ownerId,
        final NanoClock clock,
        final long deadlineNs,
        final long waitedMs) throws PcbException
    {
        final int slotCount = region.getInt(ControlRegionDescriptor.SLOT_COUNT_OFFSET);
        final int slotLength = region.getInt(ControlRegionDescriptor.SLOT_LENGTH_OFFSET);
        final int pid = ClientSlot.pidOf(ownerId);
        while (true)
        {
            final StringBuilder holders = new StringBuilder();
            int free = -1;
            for (int i = 0; i < slotCount; i++)
            {
                slot.wrap(region, ControlRegionDescriptor.slotOffset(slotLength, i), slotLength);
                final long owner = slot.ownerId();
                if (ClientSlotDescriptor.FREE == owner)
                {
                    free = free < 0 ? i : free;
                    continue;
                }
                final int ownerPid = ClientSlot.pidOf(owner);
                if (ownerPid != pid && !Linux.processExists(ownerPid) && slot.claim(owner, ownerId))
                {
                    return i;
                }
                holders.append(holders.length() == 0 ? "" : ", ").append(ownerPid);
            }
            for (int i = Math.max(0, free); free >= 0 && i < slotCount; i++)
            {
                slot.wrap(region, ControlRegionDescriptor.slotOffset(slotLength, i), slotLength);
                if (slot.claim(ClientSlotDescriptor.FREE, ownerId))
                {
                    return i;
                }
            }
            if (clock.nanoTime() - deadlineNs > 0)
            {
                throw new PcbException(ErrorCode.QUOTA_EXCEEDED, "all " + slotCount + " client slots of guest " +
                    ControlRegionDescriptor.guestName(region) + " are held by live processes (pids " + holders +
                    "); waited " + waitedMs + " ms");
            }
            ClientChannel.sleepMs(20);
        }
    }

    /**
     * Wait until the broker accepts the claimed slot; give it back if it does not in time.
     *
     * @throws BrokerUnavailableException when the deadline passes first.
     */
    static void awaitAccepted(
        final ClientSlot slot, final long ownerId, final NanoClock clock, final long deadlineNs, final String what)
        throws PcbException
    {
        while (!slot.isAccepted(ownerId))
        {
            if (clock.nanoTime() - deadlineNs > 0)
            {
                slot.release(ownerId);
                throw new BrokerUnavailableException("the broker did not accept " + what + " in time");
            }
            ClientChannel.sleepMs(1);
        }
    }
}
