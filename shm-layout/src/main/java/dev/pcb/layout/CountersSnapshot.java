package dev.pcb.layout;

import org.agrona.BufferUtil;
import org.agrona.IoUtil;
import org.agrona.concurrent.UnsafeBuffer;
import org.agrona.concurrent.status.CountersReader;

import java.io.IOException;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * The broker's counters as read at one moment from {@code counters.dat}, without talking to the broker, and
 * whether that broker is still alive. What {@code pcb stat} prints and the metrics endpoint exports.
 * <p>
 * The file is mapped read-only for the duration of one read and unmapped again: a reader never holds a broker's
 * file open across its restart, and needs no write permission on it.
 */
public final class CountersSnapshot
{
    /**
     * What became of the broker that wrote the file.
     */
    public enum BrokerState
    {
        /** Serving: its pid lives and its heartbeat is fresh. */
        RUNNING,
        /** It stopped cleanly and said so. */
        STOPPED,
        /** Its process is gone without saying so: killed or crashed. */
        DEAD,
        /** Its pid lives but its heartbeat stalled: hung, or the pid now belongs to someone else. */
        UNRESPONSIVE
    }

    /**
     * One counter.
     *
     * @param type  what it counts.
     * @param name  the share, guest or error code it counts for; empty for broker-wide counters.
     * @param value its value, in the stored unit (ns for fill time, epoch ms for heartbeats).
     */
    public record Counter(CounterType type, String name, long value)
    {
    }

    private final Path file;
    private final long brokerPid;
    private final long brokerEpoch;
    private final long startTimestampMs;
    private final long heartbeatTimestampMs;
    private final int heartbeatIntervalMs;
    private final long takenAtMs;
    private final BrokerState state;
    private final List<Counter> counters;

    private CountersSnapshot(
        final Path file,
        final long brokerPid,
        final long brokerEpoch,
        final long startTimestampMs,
        final long heartbeatTimestampMs,
        final int heartbeatIntervalMs,
        final long takenAtMs,
        final BrokerState state,
        final List<Counter> counters)
    {
        this.file = file;
        this.brokerPid = brokerPid;
        this.brokerEpoch = brokerEpoch;
        this.startTimestampMs = startTimestampMs;
        this.heartbeatTimestampMs = heartbeatTimestampMs;
        this.heartbeatIntervalMs = heartbeatIntervalMs;
        this.takenAtMs = takenAtMs;
        this.state = state;
        this.counters = counters;
    }

    /**
     * Read the counters of the broker of a run directory.
     *
     * @param runDir the broker's run directory.
     * @return the counters now.
     * @throws NoSuchFileException when no broker ever published counters there.
     * @throws IOException         when the file is not a complete counters file of a version this code reads.
     */
    public static CountersSnapshot read(final Path runDir) throws IOException
    {
        final Path file = RunDirectory.countersFile(runDir);
        if (!Files.exists(file))
        {
            throw new NoSuchFileException(file.toString(), null,
                "no counters file: no pcb broker has run with --run-dir " + runDir);
        }
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ))
        {
            final long size = channel.size();
            if (size < CountersFileDescriptor.HEADER_LENGTH || size > Integer.MAX_VALUE)
            {
                throw new IOException(file + ": not a pcb counters file (" + size + " bytes)");
            }
            final MappedByteBuffer mapping = channel.map(FileChannel.MapMode.READ_ONLY, 0, size);
            try
            {
                return read(file, new UnsafeBuffer(BufferUtil.address(mapping), (int)size));
            }
            finally
            {
                IoUtil.unmap(mapping);
            }
        }
    }

    private static CountersSnapshot read(final Path file, final UnsafeBuffer buffer) throws IOException
    {
        if (!CountersFileDescriptor.isReady(buffer))
        {
            throw new IOException(file + ": not a complete pcb counters file of layout version " +
                (CountersFileDescriptor.VERSION >>> 16) + ".x");
        }
        final long metadataLength = buffer.getInt(CountersFileDescriptor.METADATA_LENGTH_OFFSET);
        final long valuesLength = buffer.getInt(CountersFileDescriptor.VALUES_LENGTH_OFFSET);
        if (metadataLength <= 0 || valuesLength <= 0 ||
            CountersFileDescriptor.HEADER_LENGTH + metadataLength + valuesLength > buffer.capacity())
        {
            throw new IOException(file + ": counters file lengths do not fit the file");
        }

        final long pid = buffer.getLongVolatile(CountersFileDescriptor.BROKER_PID_OFFSET);
        final long epoch = buffer.getLongVolatile(CountersFileDescriptor.BROKER_EPOCH_OFFSET);
        final long start = buffer.getLongVolatile(CountersFileDescriptor.START_TIMESTAMP_OFFSET);
        final long heartbeat = buffer.getLongVolatile(CountersFileDescriptor.HEARTBEAT_TIMESTAMP_OFFSET);
        final int interval = buffer.getIntVolatile(CountersFileDescriptor.HEARTBEAT_INTERVAL_OFFSET);
        final int stateCode = buffer.getIntVolatile(CountersFileDescriptor.STATE_OFFSET);

        final CountersReader reader = new CountersReader(
            CountersFileDescriptor.metadataBuffer(buffer), CountersFileDescriptor.valuesBuffer(buffer),
            StandardCharsets.UTF_8);
        final List<Counter> counters = new ArrayList<>();
        reader.forEach((counterId, typeId, keyBuffer, label) ->
        {
            final CounterType type = CounterType.of(typeId);
            if (null != type)
            {
                counters.add(new Counter(type, CountersFileDescriptor.keyName(keyBuffer, 0),
                    reader.getCounterValue(counterId)));
            }
        });

        final long now = System.currentTimeMillis();
        return new CountersSnapshot(file, pid, epoch, start, heartbeat, interval, now,
            stateOf(stateCode, pid, heartbeat, now), Collections.unmodifiableList(counters));
    }

    private static BrokerState stateOf(final int stateCode, final long pid, final long heartbeatMs, final long nowMs)
    {
        if (CountersFileDescriptor.STATE_STOPPED == stateCode)
        {
            return BrokerState.STOPPED;
        }
        if (!ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false))
        {
            return BrokerState.DEAD;
        }
        if (nowMs - heartbeatMs > CountersFileDescriptor.HEARTBEAT_TIMEOUT_MS)
        {
            return BrokerState.UNRESPONSIVE;
        }
        return BrokerState.RUNNING;
    }

    /** @return the counters file read. */
    public Path file()
    {
        return file;
    }

    /** @return pid of the broker that wrote the file. */
    public long brokerPid()
    {
        return brokerPid;
    }

    /** @return epoch of that broker: another value means another broker instance. */
    public long brokerEpoch()
    {
        return brokerEpoch;
    }

    /** @return when it started, epoch ms. */
    public long startTimestampMs()
    {
        return startTimestampMs;
    }

    /** @return its last heartbeat, epoch ms: when the values were last known current. */
    public long heartbeatTimestampMs()
    {
        return heartbeatTimestampMs;
    }

    /** @return how often it heartbeats, ms. */
    public int heartbeatIntervalMs()
    {
        return heartbeatIntervalMs;
    }

    /** @return when this snapshot was read, epoch ms. */
    public long takenAtMs()
    {
        return takenAtMs;
    }

    /** @return what became of the broker. */
    public BrokerState state()
    {
        return state;
    }

    /** @return true when the broker is serving. */
    public boolean isBrokerUp()
    {
        return BrokerState.RUNNING == state;
    }

    /** @return every counter, in the order the broker allocated them. */
    public List<Counter> counters()
    {
        return counters;
    }

    /**
     * Value of a broker-wide counter, or the sum over shares, guests or codes for the others.
     *
     * @param type what.
     * @return the value, 0 when absent.
     */
    public long value(final CounterType type)
    {
        long sum = 0;
        for (final Counter counter : counters)
        {
            if (counter.type() == type)
            {
                sum += counter.value();
            }
        }
        return sum;
    }

    /**
     * Value of a counter of one share, guest or error code.
     *
     * @param type what.
     * @param name the share, guest or error code name.
     * @return the value, 0 when absent.
     */
    public long value(final CounterType type, final String name)
    {
        for (final Counter counter : counters)
        {
            if (counter.type() == type && counter.name().equals(name))
            {
                return counter.value();
            }
        }
        return 0;
    }

    /**
     * Names of the shares, guests or error codes counters exist for, in allocation order.
     *
     * @param scope which kind of name.
     * @return the names.
     */
    public List<String> names(final CounterType.Scope scope)
    {
        final Set<String> names = new LinkedHashSet<>();
        for (final Counter counter : counters)
        {
            if (counter.type().scope() == scope)
            {
                names.add(counter.name());
            }
        }
        return new ArrayList<>(names);
    }
}
