package dev.pcb.layout;

import org.agrona.concurrent.AtomicBuffer;

import java.lang.invoke.VarHandle;

/**
 * Both sides of a client slot's answer doorbell: how a host owner's thread goes to sleep waiting for an answer and
 * how the broker wakes it, without a lost wake-up and without a system call while nobody sleeps. The futex calls
 * themselves are the caller's ({@code dev.pcb.nativeshim.Futex}); this class only orders the memory accesses. The
 * words are {@link ClientSlotDescriptor#ANSWER_WAITERS_OFFSET} and {@link ClientSlotDescriptor#ANSWER_DOORBELL_OFFSET}.
 * <p>
 * Owner thread, going to sleep after a short spin found no answer: (W1) add 1 to the waiter count (an atomic add, a
 * full fence), (W2) read the doorbell word d, (W3) read the response ring once more, taking its reader lock (a thread
 * that finds the lock held does not sleep: the holder may be handing it its answer), (W4) if that found nothing for
 * it, {@code FUTEX_WAIT} on the doorbell expecting d, with a timeout; then (W5) subtract 1 from the count. Broker,
 * after a duty cycle that wrote answers to the slot: (B1) the ring's release store of each answer, (B2) a full fence,
 * (B3) read the waiter count; if not 0, (B4) add 1 to the doorbell and {@code FUTEX_WAKE} every waiter.
 * <p>
 * Why no answer is slept through: W1 and B1 are stores each followed by a full fence before their loads (W3, B3), so
 * in the one total order at least one side sees the other's store. If B3 reads 0, W1 comes after B3, so W3 comes after
 * B1 and finds the answer. If B3 reads more than 0, the broker rings: either its add (B4) comes before the kernel's
 * check of the word in W4, which then finds it different from d and returns at once, or after it, when the thread is
 * already queued on the futex and the wake reaches it (the kernel checks and queues atomically). d must be read before
 * W3: read after, it could already include a ring whose wake came before the wait. An answer another thread of the
 * owner took from the ring first is handed over under the reader lock, which W3 takes after that thread let it go.
 * <p>
 * The count is the owner's, not the broker's: a guest writes it too, and it costs the broker at most one wake per
 * answered slot per duty cycle. A count left above 0 by a process that died asleep only costs the next owner's
 * broker such wakes until the next owner {@link #claimed resets} it.
 */
public final class AnswerDoorbell
{
    /** Layout version from which a broker rings answer doorbells: an agent blocks only on such a broker. */
    public static final int SINCE_VERSION = (3 << 16) | 3;

    private AnswerDoorbell()
    {
    }

    /**
     * Owner: the slot is newly claimed; no thread of it sleeps yet. Before its ATTACH.
     *
     * @param slot the claimed client slot.
     */
    public static void claimed(final AtomicBuffer slot)
    {
        slot.putIntVolatile(ClientSlotDescriptor.ANSWER_WAITERS_OFFSET, 0);
    }

    /**
     * Owner: does the broker of this control region ring answer doorbells?
     *
     * @param header the control region header.
     * @return true when its layout version is {@link #SINCE_VERSION} or later (same major).
     */
    public static boolean brokerRings(final AtomicBuffer header)
    {
        final int version = header.getIntVolatile(ControlRegionDescriptor.LAYOUT_VERSION_OFFSET);
        return LayoutVersion.isCompatible(version) && (version & 0xFFFF) >= (SINCE_VERSION & 0xFFFF);
    }

    /**
     * Owner thread: announce a sleep (W1, W2). Read the response ring once more afterwards before waiting, and
     * {@link #disarm} after, whether it waited or not.
     *
     * @param slot the client slot.
     * @return the doorbell value to expect in the wait.
     */
    public static int arm(final AtomicBuffer slot)
    {
        slot.getAndAddInt(ClientSlotDescriptor.ANSWER_WAITERS_OFFSET, 1);
        return slot.getIntVolatile(ClientSlotDescriptor.ANSWER_DOORBELL_OFFSET);
    }

    /**
     * Owner thread: awake again (W5).
     *
     * @param slot the client slot.
     */
    public static void disarm(final AtomicBuffer slot)
    {
        slot.getAndAddInt(ClientSlotDescriptor.ANSWER_WAITERS_OFFSET, -1);
    }

    /**
     * Broker: after writing answers to the slot, do its owner's threads need waking? Adds 1 to the doorbell when they
     * do (B2 to B4). The owner rings its own slot the same way when it closes, so its sleepers see that at once.
     *
     * @param slot the client slot.
     * @return true when the caller must {@code FUTEX_WAKE} every waiter of the doorbell word.
     */
    public static boolean ring(final AtomicBuffer slot)
    {
        // StoreLoad between the ring's answer stores and the count load: without it both sides could miss each other.
        VarHandle.fullFence();
        if (slot.getIntVolatile(ClientSlotDescriptor.ANSWER_WAITERS_OFFSET) == 0)
        {
            return false;
        }
        slot.getAndAddInt(ClientSlotDescriptor.ANSWER_DOORBELL_OFFSET, 1);
        return true;
    }

    /**
     * The doorbell word's address, for the futex calls.
     *
     * @param slot the client slot, over mapped memory.
     * @return its address.
     */
    public static long address(final AtomicBuffer slot)
    {
        return slot.addressOffset() + ClientSlotDescriptor.ANSWER_DOORBELL_OFFSET;
    }
}
