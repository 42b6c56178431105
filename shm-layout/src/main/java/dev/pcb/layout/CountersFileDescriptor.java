package dev.pcb.layout;

import org.agrona.BitUtil;
import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;
import org.agrona.concurrent.AtomicBuffer;
import org.agrona.concurrent.UnsafeBuffer;
import org.agrona.concurrent.status.CountersReader;

import java.nio.charset.StandardCharsets;

/**
 * Layout of the broker's counters file ({@code counters.dat} in the run directory): a header that says which broker
 * wrote it and whether that broker still lives, then the metadata and values buffers of an Agrona
 * {@link org.agrona.concurrent.status.CountersManager}, the way Aeron's {@code CncFileDescriptor} lays out its
 * counters.
 * <p>
 * Only the broker writes the file, and only its conductor thread after start-up; tools such as {@code pcb stat} and
 * the metrics endpoint map it read-only and never talk to the broker, so they keep working, with the last values,
 * after the broker died. The file lives on the host only: guests never see it.
 * <p>
 * Liveness: the broker advances the heartbeat timestamp (epoch ms) every {@code heartbeatIntervalMs}, and sets the
 * state to {@link #STATE_STOPPED} when it stops cleanly. A reader declares the broker down when the state says so,
 * when the pid is not alive, or when the heartbeat is older than {@link #HEARTBEAT_TIMEOUT_MS}.
 * <p>
 * A new broker writes a new file and renames it over the old one, so a reader that still maps the old file keeps
 * reading it safely (it is never truncated under the reader) and sees it as stopped or stale.
 * <pre>
 *   0                   1                   2                   3
 *   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |                Magic "PCBCNTR1" (written last)                |
 *  |                                                               |
 *  +---------------------------------------------------------------+
 *  |                        Layout Version                         |
 *  +---------------------------------------------------------------+
 *  |                        Header Length                          |
 *  +---------------------------------------------------------------+
 *  |                   Metadata Buffer Length                      |
 *  +---------------------------------------------------------------+
 *  |                    Values Buffer Length                       |
 *  +---------------------------------------------------------------+
 *  |                         Broker Pid                            |
 *  |                                                               |
 *  +---------------------------------------------------------------+
 *  |                  Broker Epoch (changes on restart)            |
 *  |                                                               |
 *  +---------------------------------------------------------------+
 *  |                  Start Timestamp (epoch ms)                   |
 *  |                                                               |
 *  +---------------------------------------------------------------+
 *  |                Heartbeat Timestamp (epoch ms)                 |
 *  |                                                               |
 *  +---------------------------------------------------------------+
 *  |                   Heartbeat Interval (ms)                     |
 *  +---------------------------------------------------------------+
 *  |              Broker State (1 running, 2 stopped)              |
 *  +---------------------------------------------------------------+
 *  |                   Reserved to 4096 bytes                     ...
 *  +---------------------------------------------------------------+  4096
 *  |     Counters Metadata Buffer (4 x values length)             ...
 *  +---------------------------------------------------------------+
 *  |     Counters Values Buffer (128 bytes per counter)           ...
 *  +---------------------------------------------------------------+
 * </pre>
 * Each counter's type id is a {@link CounterType}; its key holds the name of what it counts (a share, a guest or an
 * error code) as an int length followed by UTF-8 bytes, empty for broker-wide counters. The label is for humans.
 */
public final class CountersFileDescriptor
{
    /** "PCBCNTR1" little-endian: marks a complete counters file. */
    public static final long MAGIC = 0x3152544e43424350L;

    /** Version of this file's layout, {@code MAJOR << 16 | MINOR}; a reader refuses another major. */
    public static final int VERSION = 1 << 16;

    /** Offset of the magic. */
    public static final int MAGIC_OFFSET = 0;
    /** Offset of the layout version. */
    public static final int VERSION_OFFSET = 8;
    /** Offset of the header length. */
    public static final int HEADER_LENGTH_OFFSET = 12;
    /** Offset of the metadata buffer length. */
    public static final int METADATA_LENGTH_OFFSET = 16;
    /** Offset of the values buffer length. */
    public static final int VALUES_LENGTH_OFFSET = 20;
    /** Offset of the broker pid. */
    public static final int BROKER_PID_OFFSET = 24;
    /** Offset of the broker epoch. */
    public static final int BROKER_EPOCH_OFFSET = 32;
    /** Offset of the time the broker started, epoch ms. */
    public static final int START_TIMESTAMP_OFFSET = 40;
    /** Offset of the time of the broker's last heartbeat, epoch ms. */
    public static final int HEARTBEAT_TIMESTAMP_OFFSET = 48;
    /** Offset of the interval at which the broker advances the heartbeat, ms. */
    public static final int HEARTBEAT_INTERVAL_OFFSET = 56;
    /** Offset of the broker state. */
    public static final int STATE_OFFSET = 60;

    /** Length of the header; the metadata buffer starts here, page aligned. */
    public static final int HEADER_LENGTH = 4096;

    /** State of a broker that is serving. */
    public static final int STATE_RUNNING = 1;
    /** State of a broker that stopped cleanly. */
    public static final int STATE_STOPPED = 2;

    /**
     * A reader declares the broker down when its heartbeat is older than this, even if a process of its pid lives:
     * the pid may have been reused, or belong to another pid namespace. Far above the heartbeat interval, so a busy
     * host or a GC pause does not make the broker look dead.
     */
    public static final long HEARTBEAT_TIMEOUT_MS = 5_000;

    /** Longest name in a counter key, in UTF-8 bytes: the Agrona key space less its length field. */
    public static final int MAX_KEY_NAME_LENGTH = CountersReader.MAX_KEY_LENGTH - BitUtil.SIZE_OF_INT;

    private CountersFileDescriptor()
    {
    }

    /**
     * Length of the values buffer for a number of counters, a whole number of pages.
     *
     * @param counterCount counters to hold, with room to spare if wanted.
     * @return bytes.
     */
    public static int valuesLength(final int counterCount)
    {
        return BitUtil.align(Math.max(1, counterCount) * CountersReader.COUNTER_LENGTH, 4096);
    }

    /**
     * Length of the metadata buffer that goes with a values buffer: one metadata record per counter.
     *
     * @param valuesLength values buffer length.
     * @return bytes.
     */
    public static int metadataLength(final int valuesLength)
    {
        return valuesLength * (CountersReader.METADATA_LENGTH / CountersReader.COUNTER_LENGTH);
    }

    /**
     * Length of the whole file.
     *
     * @param valuesLength values buffer length.
     * @return header, metadata and values.
     */
    public static int fileLength(final int valuesLength)
    {
        return HEADER_LENGTH + metadataLength(valuesLength) + valuesLength;
    }

    /**
     * Write the header, all but the magic and the state. The caller allocates the counters, then signals ready.
     *
     * @param header              over at least the header.
     * @param valuesLength        values buffer length.
     * @param brokerPid           pid of the broker.
     * @param brokerEpoch         epoch of the broker.
     * @param startTimestampMs    when the broker started, epoch ms.
     * @param heartbeatIntervalMs how often the broker will advance the heartbeat.
     */
    public static void writeHeader(
        final AtomicBuffer header,
        final int valuesLength,
        final long brokerPid,
        final long brokerEpoch,
        final long startTimestampMs,
        final int heartbeatIntervalMs)
    {
        header.putInt(VERSION_OFFSET, VERSION);
        header.putInt(HEADER_LENGTH_OFFSET, HEADER_LENGTH);
        header.putInt(METADATA_LENGTH_OFFSET, metadataLength(valuesLength));
        header.putInt(VALUES_LENGTH_OFFSET, valuesLength);
        header.putLong(BROKER_PID_OFFSET, brokerPid);
        header.putLong(BROKER_EPOCH_OFFSET, brokerEpoch);
        header.putLong(START_TIMESTAMP_OFFSET, startTimestampMs);
        header.putLong(HEARTBEAT_TIMESTAMP_OFFSET, startTimestampMs);
        header.putInt(HEARTBEAT_INTERVAL_OFFSET, heartbeatIntervalMs);
        header.putInt(STATE_OFFSET, STATE_RUNNING);
    }

    /**
     * Publish the file as complete: every counter it will ever have is allocated.
     *
     * @param header over the header.
     */
    public static void signalReady(final AtomicBuffer header)
    {
        header.putLongRelease(MAGIC_OFFSET, MAGIC);
    }

    /**
     * Is this a complete counters file of a version this code reads?
     *
     * @param header over the header.
     * @return true when the magic is present and the major version matches.
     */
    public static boolean isReady(final AtomicBuffer header)
    {
        return header.capacity() >= HEADER_LENGTH &&
            header.getLongAcquire(MAGIC_OFFSET) == MAGIC &&
            (header.getInt(VERSION_OFFSET) >>> 16) == (VERSION >>> 16);
    }

    /**
     * The metadata buffer inside a mapping of the whole file.
     *
     * @param file over the whole file, header first.
     * @return a view of the metadata buffer.
     */
    public static UnsafeBuffer metadataBuffer(final AtomicBuffer file)
    {
        return new UnsafeBuffer(file, HEADER_LENGTH, file.getInt(METADATA_LENGTH_OFFSET));
    }

    /**
     * The values buffer inside a mapping of the whole file.
     *
     * @param file over the whole file, header first.
     * @return a view of the values buffer.
     */
    public static UnsafeBuffer valuesBuffer(final AtomicBuffer file)
    {
        return new UnsafeBuffer(
            file, HEADER_LENGTH + file.getInt(METADATA_LENGTH_OFFSET), file.getInt(VALUES_LENGTH_OFFSET));
    }

    /**
     * Write a counter key: the name of what the counter counts.
     *
     * @param key  Agrona's key buffer of the counter.
     * @param name share, guest or error code name; empty for broker-wide counters.
     */
    public static void putKeyName(final MutableDirectBuffer key, final String name)
    {
        final byte[] bytes = name.getBytes(StandardCharsets.UTF_8);
        final int length = Math.min(bytes.length, MAX_KEY_NAME_LENGTH);
        key.putInt(0, length);
        key.putBytes(BitUtil.SIZE_OF_INT, bytes, 0, length);
    }

    /**
     * Read a counter key written by {@link #putKeyName(MutableDirectBuffer, String)}, bounded so a damaged key
     * cannot make the reader overrun.
     *
     * @param key    key buffer as given by {@link CountersReader#forEach(CountersReader.MetaData)}.
     * @param offset where the key starts in it.
     * @return the name, empty when none.
     */
    public static String keyName(final DirectBuffer key, final int offset)
    {
        final int length = Math.max(0, Math.min(MAX_KEY_NAME_LENGTH, key.getInt(offset)));
        final byte[] bytes = new byte[length];
        key.getBytes(offset + BitUtil.SIZE_OF_INT, bytes);
        return new String(bytes, StandardCharsets.UTF_8);
    }
}
