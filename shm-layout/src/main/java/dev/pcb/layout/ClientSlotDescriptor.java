package dev.pcb.layout;

/**
 * Layout of one client slot in a control region: a process of the guest claims it and then owns its two rings.
 * <p>
 * Claim protocol: a process makes an owner id of its pid (high 32 bits) and a random number (low 32 bits) and
 * compare-and-sets {@code ownerId} from 0 (free), or from an owner whose process it can see is gone; the pid inside
 * the id lets it judge that from one atomic read. The broker frees slots whose heartbeat stalls past the lease. It then
 * waits until the broker copies the id into {@code acceptedOwnerId}: the broker does that only after it has released
 * every pin and handle of the previous owner and reset both rings, so a new owner never reads an old owner's
 * answers. The owner advances {@code ownerHeartbeat} (any changing value: guest and host clocks are unrelated) and
 * writes 0 to {@code ownerId} when it detaches cleanly.
 * <pre>
 *   0                   1                   2                   3
 *   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |        Owner Id (0 = free; pid << 32 | random; guest CAS)      |
 *  |                                                               |
 *  +---------------------------------------------------------------+
 *  |                  Owner Pid (in the guest)                     |
 *  |                                                               |
 *  +---------------------------------------------------------------+
 *  |                  Owner Heartbeat (guest counter)              |
 *  |                                                               |
 *  +---------------------------------------------------------------+
 *  |                  Accepted Owner Id (broker writes)            |
 *  |                                                               |
 *  +---------------------------------------------------------------+
 *  |       Owner Flags (owner writes before ATTACH; 1 = rings)     |
 *  +---------------------------------------------------------------+
 *  |                  Reserved to 64                              ...
 *  +---------------------------------------------------------------+  64 (own line: the answer doorbell)
 *  |    Answer Waiters (owner's threads asleep on the doorbell)    |
 *  +---------------------------------------------------------------+
 *  |    Answer Doorbell (broker adds 1 and FUTEX_WAKEs it)         |
 *  +---------------------------------------------------------------+
 *  |                  Reserved to 128 bytes                       ...
 *  +---------------------------------------------------------------+  128 (cache line pair apart from rings)
 *  |                  Retained windows table (8 KiB)              ...
 *  +---------------------------------------------------------------+  128 + RetainedWindowsDescriptor.LENGTH
 *  |                  Request ring: capacity + trailer            ...
 *  +---------------------------------------------------------------+
 *  |                  Response ring: capacity + trailer           ...
 *  +---------------------------------------------------------------+
 * </pre>
 */
public final class ClientSlotDescriptor
{
    /** Offset of the owner id. */
    public static final int OWNER_ID_OFFSET = 0;
    /** Offset of the owner pid. */
    public static final int OWNER_PID_OFFSET = 8;
    /** Offset of the owner heartbeat counter. */
    public static final int OWNER_HEARTBEAT_OFFSET = 16;
    /** Offset of the owner id the broker accepted. */
    public static final int ACCEPTED_OWNER_ID_OFFSET = 24;

    /** Length of the slot header; the retained windows table follows. */
    public static final int HEADER_LENGTH = 128;

    /**
     * Offset of the owner's flags (i32), written by the owner after its claim and before its ATTACH. A broker that
     * finds {@link #OWNER_RINGS_DOORBELL} clear polls the slot rather than sleep: a guest cannot wake it.
     */
    public static final int OWNER_FLAGS_OFFSET = 32;
    /** Owner flag: the owner rings the control region's doorbell after publishing a request to a sleeping broker. */
    public static final int OWNER_RINGS_DOORBELL = 1;
    /**
     * Owner flag: the owner is a guest agent that rings through the guest's {@code ivshmem-doorbell} device and waits
     * for its interrupts. Only reported on ({@code pcb inspect}, a counter), never required: a broker that finds it
     * set while no QEMU is connected to the guest's socket knows the owner's QEMU holds an old broker's eventfds.
     */
    public static final int OWNER_DOORBELL_DEVICE = 2;

    /**
     * Offset of the count of the owner's threads that may be asleep on the answer doorbell (i32): each adds 1 before
     * its last look at the response ring and subtracts 1 when awake ({@link AnswerDoorbell}).
     */
    public static final int ANSWER_WAITERS_OFFSET = 64;
    /**
     * Offset of the answer doorbell (i32, a shared futex): the broker adds 1 and wakes it after answering a slot
     * whose waiter count is not 0; host owners wait on it.
     */
    public static final int ANSWER_DOORBELL_OFFSET = 68;

    /** Offset of the retained windows table ({@link RetainedWindowsDescriptor}). */
    public static final int RETAINED_WINDOWS_OFFSET = HEADER_LENGTH;

    /** Bytes before the request ring. */
    public static final int RINGS_OFFSET = RETAINED_WINDOWS_OFFSET + RetainedWindowsDescriptor.LENGTH;

    /** Owner id of a free slot. */
    public static final long FREE = 0;

    private ClientSlotDescriptor()
    {
    }

    /**
     * Offset of the request ring within a slot.
     *
     * @return byte offset from the slot start.
     */
    public static int requestRingOffset()
    {
        return RINGS_OFFSET;
    }

    /**
     * Offset of the response ring within a slot.
     *
     * @param requestRingLength request ring capacity plus trailer.
     * @return byte offset from the slot start.
     */
    public static int responseRingOffset(final int requestRingLength)
    {
        return RINGS_OFFSET + requestRingLength;
    }
}
