package dev.pcb.layout;

import org.agrona.BitUtil;
import org.agrona.concurrent.AtomicBuffer;
import org.agrona.concurrent.ringbuffer.RingBufferDescriptor;


/**
 * Layout of a control region: one per guest, writable by that guest and the broker, never shared between guests.
 * <p>
 * The header is written by the broker; the guest only reads it, but for the doorbell word, which host agents ring
 * (add 1, then {@code FUTEX_WAKE}) after publishing a request while the broker's sleeping flag is set. The two sit
 * on cache lines of their own, apart from the heartbeat and from each other. After it come {@code slotCount} client slots, one
 * per process of the guest that talks to the broker (see {@link ClientSlotDescriptor}). The region length is a
 * power of two so it can be an ivshmem BAR.
 * <pre>
 *   0                   1                   2                   3
 *   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |                 Magic "PCBCTRL1" (written last)               |
 *  |                                                               |
 *  +---------------------------------------------------------------+
 *  |                        Layout Version                         |
 *  +---------------------------------------------------------------+
 *  |                        Header Length                          |
 *  +---------------------------------------------------------------+
 *  |                        Region Length                          |
 *  |                                                               |
 *  +---------------------------------------------------------------+
 *  |                  Broker Epoch (changes on restart)            |
 *  |                                                               |
 *  +---------------------------------------------------------------+
 *  |        Broker Heartbeat (counter, advanced while alive)       |
 *  |                                                               |
 *  +---------------------------------------------------------------+
 *  |                         Broker Pid                            |
 *  |                                                               |
 *  +---------------------------------------------------------------+
 *  |                         Slot Count                            |
 *  +---------------------------------------------------------------+
 *  |                         Slot Length                           |
 *  +---------------------------------------------------------------+
 *  |            Request Ring Length (capacity + trailer)           |
 *  +---------------------------------------------------------------+
 *  |            Response Ring Length (capacity + trailer)          |
 *  +---------------------------------------------------------------+
 *  |                Guest Name Length (bytes)                      |
 *  +---------------------------------------------------------------+
 *  |                Guest Name (UTF-8, 64 bytes max)              ...
 *  +---------------------------------------------------------------+
 *  |                Broker Lease (ms)                              |
 *  +---------------------------------------------------------------+
 *  |                Client Lease (ms)                              |
 *  +---------------------------------------------------------------+
 *  |                Reserved to 192                               ...
 *  +---------------------------------------------------------------+  192
 *  |      Broker Sleeping (broker writes: 1 = ring the doorbell)   |
 *  +---------------------------------------------------------------+
 *  |                Reserved to 256                               ...
 *  +---------------------------------------------------------------+  256
 *  |      Doorbell (agents add 1 and FUTEX_WAKE it; own line)      |
 *  +---------------------------------------------------------------+
 *  |                Reserved to 4096                              ...
 *  +---------------------------------------------------------------+  4096
 *  |                ClientSlot[0] ... ClientSlot[slotCount - 1]     |
 *  +---------------------------------------------------------------+
 * </pre>
 */
public final class ControlRegionDescriptor
{
    /** "PCBCTRL1" little-endian: marks a ready control region. */
    public static final long MAGIC = 0x314c525443424350L;

    /** Offset of the magic. */
    public static final int MAGIC_OFFSET = RegionHeader.MAGIC_OFFSET;
    /** Offset of the layout version. */
    public static final int LAYOUT_VERSION_OFFSET = RegionHeader.LAYOUT_VERSION_OFFSET;
    /** Offset of the header length. */
    public static final int HEADER_LENGTH_OFFSET = 12;
    /** Offset of the region length. */
    public static final int REGION_LENGTH_OFFSET = 16;
    /** Offset of the broker epoch. */
    public static final int BROKER_EPOCH_OFFSET = 24;
    /** Offset of the broker heartbeat counter. */
    public static final int BROKER_HEARTBEAT_OFFSET = 32;
    /** Offset of the broker pid. */
    public static final int BROKER_PID_OFFSET = 40;
    /** Offset of the slot count. */
    public static final int SLOT_COUNT_OFFSET = 48;
    /** Offset of the slot length. */
    public static final int SLOT_LENGTH_OFFSET = 52;
    /** Offset of the request ring length. */
    public static final int REQUEST_RING_LENGTH_OFFSET = 56;
    /** Offset of the response ring length. */
    public static final int RESPONSE_RING_LENGTH_OFFSET = 60;
    /** Offset of the guest name length. */
    public static final int GUEST_NAME_LENGTH_OFFSET = 64;
    /** Offset of the guest name bytes. */
    public static final int GUEST_NAME_OFFSET = 68;
    /** Maximum guest name length in UTF-8 bytes. */
    public static final int MAX_GUEST_NAME_LENGTH = 64;
    /** Offset of the broker lease in ms: an agent declares the broker dead after its heartbeat stalls this long. */
    public static final int BROKER_LEASE_MS_OFFSET = 132;
    /** Offset of the client lease in ms: the broker detaches a client whose heartbeat stalls this long. */
    public static final int CLIENT_LEASE_MS_OFFSET = 136;

    /**
     * Offset of the broker's sleeping flag (i32): 1 while the broker may be asleep on the doorbell, set before its last
     * look at the rings (volatile store), so an agent that reads 0 after publishing knows its request will be seen.
     */
    public static final int BROKER_SLEEPING_OFFSET = 192;
    /** Offset of the doorbell word (i32, a shared futex): host agents add 1 and wake it; the broker waits on it. */
    public static final int DOORBELL_OFFSET = 256;

    /** Length of the header; slots start here. */
    public static final int HEADER_LENGTH = 4096;

    /** Default request ring capacity (a power of two): requests are small, paths at most 4 KiB. */
    public static final int DEFAULT_REQUEST_RING_CAPACITY = 64 * 1024;

    /** Default response ring capacity (a power of two): directory pages up to capacity / 8. */
    public static final int DEFAULT_RESPONSE_RING_CAPACITY = 256 * 1024;

    /** Default number of client slots: processes of one guest talking to the broker at once. */
    public static final int DEFAULT_SLOT_COUNT = 8;

    private ControlRegionDescriptor()
    {
    }

    /**
     * Length of one client slot for given ring capacities, page aligned.
     *
     * @param requestRingCapacity  power of two, without trailer.
     * @param responseRingCapacity power of two, without trailer.
     * @return slot length in bytes.
     */
    public static int slotLength(final int requestRingCapacity, final int responseRingCapacity)
    {
        final int raw = ClientSlotDescriptor.RINGS_OFFSET +
            requestRingCapacity + RingBufferDescriptor.TRAILER_LENGTH +
            responseRingCapacity + RingBufferDescriptor.TRAILER_LENGTH;
        return BitUtil.align(raw, 4096);
    }

    /**
     * Length of a control region, rounded up to a power of two for ivshmem.
     *
     * @param slotCount  number of client slots.
     * @param slotLength length of one slot.
     * @return region length.
     */
    public static long regionLength(final int slotCount, final int slotLength)
    {
        final long raw = HEADER_LENGTH + (long)slotCount * slotLength;
        return Long.highestOneBit(raw - 1) << 1;
    }

    /**
     * Offset of a client slot.
     *
     * @param slotLength length of one slot.
     * @param slotIndex  index of the slot.
     * @return byte offset of the slot.
     */
    public static int slotOffset(final int slotLength, final int slotIndex)
    {
        return HEADER_LENGTH + slotIndex * slotLength;
    }

    /**
     * Write the header, all but the magic. The caller signals ready last.
     *
     * @param buffer               over the whole region.
     * @param regionLength         length of the region.
     * @param brokerEpoch          epoch of the broker.
     * @param brokerPid            pid of the broker.
     * @param slotCount            number of client slots.
     * @param requestRingCapacity  request ring capacity without trailer.
     * @param responseRingCapacity response ring capacity without trailer.
     * @param guestName            name of the guest.
     * @param brokerLeaseMs        how long an agent waits on a silent broker.
     * @param clientLeaseMs        how long the broker waits on a silent client.
     */
    public static void writeHeader(
        final AtomicBuffer buffer,
        final long regionLength,
        final long brokerEpoch,
        final long brokerPid,
        final int slotCount,
        final int requestRingCapacity,
        final int responseRingCapacity,
        final String guestName,
        final int brokerLeaseMs,
        final int clientLeaseMs)
    {
        buffer.putInt(LAYOUT_VERSION_OFFSET, LayoutVersion.CURRENT);
        buffer.putInt(HEADER_LENGTH_OFFSET, HEADER_LENGTH);
        buffer.putLong(REGION_LENGTH_OFFSET, regionLength);
        buffer.putLong(BROKER_EPOCH_OFFSET, brokerEpoch);
        buffer.putLong(BROKER_PID_OFFSET, brokerPid);
        buffer.putInt(SLOT_COUNT_OFFSET, slotCount);
        buffer.putInt(SLOT_LENGTH_OFFSET, slotLength(requestRingCapacity, responseRingCapacity));
        buffer.putInt(REQUEST_RING_LENGTH_OFFSET, requestRingCapacity + RingBufferDescriptor.TRAILER_LENGTH);
        buffer.putInt(RESPONSE_RING_LENGTH_OFFSET, responseRingCapacity + RingBufferDescriptor.TRAILER_LENGTH);
        RegionHeader.putName(buffer, GUEST_NAME_LENGTH_OFFSET, GUEST_NAME_OFFSET, MAX_GUEST_NAME_LENGTH, "guest",
            guestName);
        buffer.putInt(BROKER_LEASE_MS_OFFSET, brokerLeaseMs);
        buffer.putInt(CLIENT_LEASE_MS_OFFSET, clientLeaseMs);
    }

    /**
     * Publish the region as ready.
     *
     * @param buffer over the header.
     */
    public static void signalReady(final AtomicBuffer buffer)
    {
        RegionHeader.signalReady(buffer, MAGIC);
    }

    /**
     * Is this region ready and of a version this code reads?
     *
     * @param buffer over the header.
     * @return true when the magic is present and the major version matches.
     */
    public static boolean isReady(final AtomicBuffer buffer)
    {
        return RegionHeader.isReady(buffer, MAGIC);
    }

    /**
     * Guest name stored in the header, bounded by {@link #MAX_GUEST_NAME_LENGTH}.
     *
     * @param buffer over the header.
     * @return the guest name.
     */
    public static String guestName(final AtomicBuffer buffer)
    {
        return RegionHeader.getName(buffer, GUEST_NAME_LENGTH_OFFSET, GUEST_NAME_OFFSET, MAX_GUEST_NAME_LENGTH);
    }
}
