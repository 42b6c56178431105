package dev.pcb.layout;

import org.agrona.IoUtil;
import org.agrona.concurrent.UnsafeBuffer;

import java.io.IOException;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * A shared-memory file mapped for a test, as the broker and agents map their regions: /dev/shm when there is one.
 */
final class MappedBuffers implements AutoCloseable
{
    private final Path file;
    private final MappedByteBuffer mapped;
    private final UnsafeBuffer buffer;

    MappedBuffers(final String name, final int length) throws IOException
    {
        final Path dir = Files.isDirectory(Path.of("/dev/shm")) ? Path.of("/dev/shm") : Path.of(
            System.getProperty("java.io.tmpdir"));
        file = dir.resolve("pcb-" + name + "-" + ProcessHandle.current().pid() + "-" + System.nanoTime());
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.READ,
            StandardOpenOption.WRITE))
        {
            channel.truncate(length);
            mapped = channel.map(FileChannel.MapMode.READ_WRITE, 0, length);
        }
        buffer = new UnsafeBuffer(mapped);
    }

    UnsafeBuffer buffer()
    {
        return buffer;
    }

    public void close() throws IOException
    {
        IoUtil.unmap(mapped);
        Files.deleteIfExists(file);
    }
}
