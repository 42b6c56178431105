package dev.pcb.broker;

import dev.pcb.layout.CountersFileDescriptor;
import org.agrona.IoUtil;
import org.agrona.concurrent.UnsafeBuffer;
import org.agrona.concurrent.status.CountersManager;

import java.io.IOException;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Set;

/**
 * The broker's side of {@code counters.dat}: maps a new file laid out by {@link CountersFileDescriptor}, hands out
 * its {@link CountersManager}, keeps the heartbeat timestamp current, and says "stopped" on close.
 * <p>
 * The file is built under a temporary name and renamed over the old one only when complete, so a reader never sees
 * a half-written header, and a reader that still maps the previous broker's file is never truncated under
 * (which would fault it).
 */
final class CountersFile implements AutoCloseable
{
    private final Path path;
    private final Path building;
    private final MappedByteBuffer mapping;
    private final UnsafeBuffer file;
    private final CountersManager manager;
    private boolean closed;

    private CountersFile(final Path path, final Path building, final MappedByteBuffer mapping, final UnsafeBuffer file)
    {
        this.path = path;
        this.building = building;
        this.mapping = mapping;
        this.file = file;
        // The header gives the buffer lengths, so it is written before the manager is laid over the buffers.
        this.manager = new CountersManager(
            CountersFileDescriptor.metadataBuffer(file), CountersFileDescriptor.valuesBuffer(file),
            StandardCharsets.UTF_8);
    }

    /**
     * Map a new counters file under a temporary name and write its header; allocate the counters, then call
     * {@link #publish()}.
     *
     * @param path                where the file will be found, {@code RunDirectory.countersFile(runDir)}.
     * @param counterCount        how many counters will be allocated.
     * @param brokerPid           pid of the broker.
     * @param brokerEpoch         epoch of the broker.
     * @param nowMs               start time, epoch ms.
     * @param heartbeatIntervalMs how often {@link #heartbeat(long)} will be called.
     * @return the mapped file.
     * @throws IOException when it cannot be created.
     */
    static CountersFile create(
        final Path path,
        final int counterCount,
        final long brokerPid,
        final long brokerEpoch,
        final long nowMs,
        final int heartbeatIntervalMs) throws IOException
    {
        final Path building = path.resolveSibling(path.getFileName() + ".new");
        Files.deleteIfExists(building);
        final int valuesLength = CountersFileDescriptor.valuesLength(counterCount);
        final MappedByteBuffer mapping;
        // Created exclusively and never through a symlink: only the broker's user may write the run directory, but a
        // link left there must not make the broker write its target.
        try (FileChannel channel = FileChannel.open(building, Set.of(StandardOpenOption.CREATE_NEW,
            StandardOpenOption.READ, StandardOpenOption.WRITE, LinkOption.NOFOLLOW_LINKS),
            PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------"))))
        {
            mapping = channel.map(FileChannel.MapMode.READ_WRITE, 0, CountersFileDescriptor.fileLength(valuesLength));
        }
        final UnsafeBuffer file = new UnsafeBuffer(mapping);
        CountersFileDescriptor.writeHeader(file, valuesLength, brokerPid, brokerEpoch, nowMs, heartbeatIntervalMs);
        return new CountersFile(path, building, mapping, file);
    }

    /**
     * Where the counters are allocated.
     *
     * @return the manager over the file's buffers.
     */
    CountersManager manager()
    {
        return manager;
    }

    /**
     * Every counter is allocated: mark the file complete and give it its real name.
     *
     * @throws IOException when the rename fails.
     */
    void publish() throws IOException
    {
        CountersFileDescriptor.signalReady(file);
        Files.move(building, path, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    /**
     * Tell readers the broker is alive; the conductor calls this at every housekeeping.
     *
     * @param nowMs epoch ms.
     */
    void heartbeat(final long nowMs)
    {
        file.putLongRelease(CountersFileDescriptor.HEARTBEAT_TIMESTAMP_OFFSET, nowMs);
    }

    /**
     * Mark the broker stopped and unmap. The file stays so {@code pcb stat} shows the last values.
     */
    public void close()
    {
        if (closed)
        {
            return;
        }
        closed = true;
        file.putLongRelease(CountersFileDescriptor.HEARTBEAT_TIMESTAMP_OFFSET, System.currentTimeMillis());
        file.putIntRelease(CountersFileDescriptor.STATE_OFFSET, CountersFileDescriptor.STATE_STOPPED);
        mapping.force();
        IoUtil.unmap(mapping);
        try
        {
            // Not published when start-up failed half way: do not leave the half-built file behind.
            Files.deleteIfExists(building);
        }
        catch (final IOException ignore)
        {
            // Best effort: the next broker deletes it before building its own.
        }
    }
}
