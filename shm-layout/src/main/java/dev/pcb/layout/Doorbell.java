package dev.pcb.layout;

import org.agrona.concurrent.AtomicBuffer;

import java.lang.invoke.VarHandle;

/**
 * Both sides of a control region's doorbell: how a broker goes to sleep and how a host agent wakes it, without a
 * lost wake-up. The futex calls themselves are the caller's ({@code dev.pcb.nativeshim.Futex}); this class only
 * orders the memory accesses.
 * <p>
 * Broker, going to sleep: (B1) store 1 to the sleeping flag (volatile), (B2) read the doorbell word d, (B3) look at
 * every ring once more, (B4) if that found nothing, {@code futex_waitv} on the doorbell expecting d; then (B5) store
 * 0 to the flag. Agent, after publishing a request: (A1) the ring's release store of the record, (A2) a full fence,
 * (A3) read the flag; if 1, (A4) add 1 to the doorbell and {@code FUTEX_WAKE} it.
 * <p>
 * Why no request is left unseen: B1 and A1 are stores each followed by a full fence before their loads (B3, A3), so
 * in the one total order at least one side sees the other's store. If A3 reads 0, B1 comes after A3, so B3 comes
 * after A1 and finds the request. If A3 reads 1, the agent rings: either its add (A4) comes before the kernel's
 * check of the word in B4, which then finds it different from d and returns at once, or after it, when the broker
 * is already queued on the futex and the wake reaches it (the kernel checks and queues atomically). d must be read
 * before B3: read after, it could already include a ring whose wake came before the wait.
 */
public final class Doorbell
{
    private Doorbell()
    {
    }

    /**
     * Agent: after publishing a request, does the broker need waking? Adds 1 to the doorbell when it does.
     *
     * @param header the control region header.
     * @return true when the caller must {@code FUTEX_WAKE} the doorbell word.
     */
    public static boolean ring(final AtomicBuffer header)
    {
        // StoreLoad between the ring's record store and the flag load: without it both sides could miss each other.
        VarHandle.fullFence();
        if (0 == header.getIntVolatile(ControlRegionDescriptor.BROKER_SLEEPING_OFFSET))
        {
            return false;
        }
        header.getAndAddInt(ControlRegionDescriptor.DOORBELL_OFFSET, 1);
        return true;
    }

    /**
     * Broker: announce a sleep (B1, B2). Look at every ring once more afterwards before waiting.
     *
     * @param header the control region header.
     * @return the doorbell value to expect in the wait.
     */
    public static int arm(final AtomicBuffer header)
    {
        header.putIntVolatile(ControlRegionDescriptor.BROKER_SLEEPING_OFFSET, 1);
        return header.getIntVolatile(ControlRegionDescriptor.DOORBELL_OFFSET);
    }

    /**
     * Broker: awake again (B5); agents stop ringing.
     *
     * @param header the control region header.
     */
    public static void disarm(final AtomicBuffer header)
    {
        header.putIntOrdered(ControlRegionDescriptor.BROKER_SLEEPING_OFFSET, 0);
    }

    /**
     * Does the owner of a client slot ring the doorbell? Only such owners let the broker sleep.
     *
     * @param slot a client slot.
     * @return true when the owner said it rings.
     */
    public static boolean ownerRings(final AtomicBuffer slot)
    {
        return 0 != (slot.getIntVolatile(ClientSlotDescriptor.OWNER_FLAGS_OFFSET) &
            ClientSlotDescriptor.OWNER_RINGS_DOORBELL);
    }

    /**
     * Does the owner of a client slot ring and wait through a guest's doorbell device (not a host futex)?
     *
     * @param slot a client slot.
     * @return true when the owner said so.
     */
    public static boolean ownerUsesDoorbellDevice(final AtomicBuffer slot)
    {
        return 0 != (slot.getIntVolatile(ClientSlotDescriptor.OWNER_FLAGS_OFFSET) &
            ClientSlotDescriptor.OWNER_DOORBELL_DEVICE);
    }

    /**
     * Owner: say whether this process rings the doorbell, and how; before its ATTACH.
     *
     * @param slot   the claimed client slot.
     * @param rings  true for a host process that can {@code FUTEX_WAKE} the region, or a guest agent with the device.
     * @param device true for a guest agent that rings and waits through its {@code ivshmem-doorbell} device.
     */
    public static void ownerFlags(final AtomicBuffer slot, final boolean rings, final boolean device)
    {
        slot.putIntVolatile(ClientSlotDescriptor.OWNER_FLAGS_OFFSET,
            (rings ? ClientSlotDescriptor.OWNER_RINGS_DOORBELL : 0) |
            (device ? ClientSlotDescriptor.OWNER_DOORBELL_DEVICE : 0));
    }
}
