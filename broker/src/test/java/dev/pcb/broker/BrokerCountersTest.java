package dev.pcb.broker;

import dev.pcb.layout.CounterType;
import dev.pcb.layout.CountersFileDescriptor;
import dev.pcb.protocol.ErrorCode;
import org.agrona.IoUtil;
import org.agrona.concurrent.UnsafeBuffer;
import org.agrona.concurrent.status.CountersReader;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The counters file as a reader in another process sees it: header, counter types and keys, values, heartbeat,
 * and the stopped state after close.
 */
class BrokerCountersTest
{
    @TempDir
    Path dir;

    private final List<MappedByteBuffer> mappings = new ArrayList<>();
    private final List<BrokerCounters> counters = new ArrayList<>();

    @AfterEach
    void tearDown()
    {
        counters.forEach(BrokerCounters::close);
        mappings.forEach(IoUtil::unmap);
    }

    @Test
    void publishesEveryCounterWithItsTypeAndKey() throws Exception
    {
        final Path file = dir.resolve("counters.dat");
        final BrokerCounters broker = create(file, 4242, 77, 1_000);
        assertFalse(Files.exists(dir.resolve("counters.dat.new")), "built under a temporary name, then renamed");

        final UnsafeBuffer buffer = map(file);
        assertTrue(CountersFileDescriptor.isReady(buffer));
        assertEquals(4242, buffer.getLong(CountersFileDescriptor.BROKER_PID_OFFSET));
        assertEquals(77, buffer.getLong(CountersFileDescriptor.BROKER_EPOCH_OFFSET));
        assertEquals(1_000, buffer.getLong(CountersFileDescriptor.START_TIMESTAMP_OFFSET));
        assertEquals(CountersFileDescriptor.STATE_RUNNING, buffer.getInt(CountersFileDescriptor.STATE_OFFSET));

        broker.hit();
        broker.hit();
        broker.miss();
        broker.filled(4096, 1234);
        broker.filled(100, 6);
        broker.opened();
        broker.release();
        broker.error(ErrorCode.STALE);
        broker.error(ErrorCode.NO_SUCH_FILE);
        broker.error(ErrorCode.NO_SUCH_FILE);
        broker.sample(5_000);

        final Map<String, Long> values = read(buffer);
        assertEquals(2L, values.get("HITS"));
        assertEquals(1L, values.get("MISSES"));
        assertEquals(2L, values.get("FILLS"));
        assertEquals(4196L, values.get("BYTES_FILLED"));
        assertEquals(1240L, values.get("FILL_TIME"));
        assertEquals(1L, values.get("OPENS"));
        assertEquals(1L, values.get("RELEASES"));
        assertEquals(3L, values.get("ERRORS"));
        assertEquals(1L, values.get("ERRORS_BY_CODE/STALE"));
        assertEquals(2L, values.get("ERRORS_BY_CODE/NO_SUCH_FILE"));
        assertEquals(0L, values.get("ERRORS_BY_CODE/IO_ERROR"));
        assertEquals(0L, values.get("EVICTIONS"));
        assertEquals(5_000, buffer.getLong(CountersFileDescriptor.HEARTBEAT_TIMESTAMP_OFFSET));
        assertTrue(broker.snapshot().contains("hits=2"), broker.snapshot());
    }

    @Test
    void closeSaysStoppedAndKeepsTheLastValues() throws Exception
    {
        final Path file = dir.resolve("counters.dat");
        final BrokerCounters broker = create(file, 1, 2, 3);
        final UnsafeBuffer buffer = map(file);
        broker.opened();
        broker.close();

        assertTrue(Files.exists(file), "pcb stat reads it after the broker stopped");
        assertEquals(CountersFileDescriptor.STATE_STOPPED, buffer.getInt(CountersFileDescriptor.STATE_OFFSET));
        assertEquals(1L, read(buffer).get("OPENS"));
        assertTrue(broker.snapshot().contains("opens=1"), "the summary survives the unmapping");
    }

    @Test
    void aRestartReplacesTheFileWithoutDisturbingAReaderOfTheOldOne() throws Exception
    {
        final Path file = dir.resolve("counters.dat");
        final BrokerCounters first = create(file, 1, 10, 0);
        final UnsafeBuffer old = map(file);
        first.hit();
        first.close();

        final BrokerCounters second = create(file, 1, 11, 0);
        second.miss();
        assertEquals(1L, read(old).get("HITS"), "the old mapping still reads the old broker's values");
        assertEquals(10, old.getLong(CountersFileDescriptor.BROKER_EPOCH_OFFSET));
        final UnsafeBuffer current = map(file);
        assertEquals(11, current.getLong(CountersFileDescriptor.BROKER_EPOCH_OFFSET));
        assertEquals(0L, read(current).get("HITS"));
        assertEquals(1L, read(current).get("MISSES"));
    }

    @Test
    void inMemoryCountersNeedNoFile()
    {
        final BrokerCounters memory = new BrokerCounters();
        counters.add(memory);
        memory.request();
        memory.error(ErrorCode.IO_ERROR);
        memory.sample(1);
        assertTrue(memory.snapshot().contains("requests=1 "), memory.snapshot());
        assertTrue(memory.snapshot().contains("errors=1 "), memory.snapshot());
    }

    private BrokerCounters create(final Path file, final long pid, final long epoch, final long nowMs) throws Exception
    {
        final BrokerCounters created = BrokerCounters.create(file, pid, epoch, nowMs, List.of(), List.of());
        counters.add(created);
        return created;
    }

    private UnsafeBuffer map(final Path file) throws Exception
    {
        try (FileChannel channel = FileChannel.open(file))
        {
            final MappedByteBuffer mapping = channel.map(FileChannel.MapMode.READ_ONLY, 0, channel.size());
            mappings.add(mapping);
            return new UnsafeBuffer(mapping);
        }
    }

    /**
     * Every counter by type name, or "TYPE/key" for counters with a key, as a reader in another process sees it.
     */
    private static Map<String, Long> read(final UnsafeBuffer file)
    {
        final CountersReader reader = new CountersReader(
            CountersFileDescriptor.metadataBuffer(file), CountersFileDescriptor.valuesBuffer(file),
            StandardCharsets.UTF_8);
        final Map<String, Long> values = new HashMap<>();
        reader.forEach((counterId, typeId, key, label) ->
        {
            final CounterType type = CounterType.of(typeId);
            final String name = CountersFileDescriptor.keyName(key, 0);
            values.put(type.name() + (name.isEmpty() ? "" : "/" + name), reader.getCounterValue(counterId));
        });
        return values;
    }
}
