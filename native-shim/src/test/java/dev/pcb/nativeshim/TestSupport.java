package dev.pcb.nativeshim;

import com.sun.jna.Memory;
import com.sun.jna.Pointer;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Random;

final class TestSupport
{
    private TestSupport()
    {
    }

    static byte[] randomBytes(final int length, final long seed)
    {
        final byte[] bytes = new byte[length];
        new Random(seed).nextBytes(bytes);
        return bytes;
    }

    /** Write and fsync, so the pages are clean and DONTNEED can drop them. */
    static void writeSynced(final Path file, final byte[] content) throws IOException
    {
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
            StandardOpenOption.TRUNCATE_EXISTING))
        {
            final ByteBuffer buffer = ByteBuffer.wrap(content);
            while (buffer.hasRemaining())
            {
                channel.write(buffer);
            }
            channel.force(true);
        }
    }

    static long address(final Pointer pointer)
    {
        return Pointer.nativeValue(pointer);
    }

    static byte[] bytes(final long address, final int length)
    {
        return new Pointer(address).getByteArray(0, length);
    }

    /** A 4096-aligned native buffer; keep the returned Memory reachable while using the address. */
    static Memory alignedMemory(final long length)
    {
        return new Memory(length + DirectReader.ALIGNMENT);
    }

    static long alignedAddress(final Memory memory)
    {
        return Pointer.nativeValue(memory.align(DirectReader.ALIGNMENT));
    }

    /** Pages of the file now in the page cache, measured with mincore over a fresh read-only mapping. */
    static int residentPages(final Path file) throws IOException
    {
        final long size = Files.size(file);
        final int pageSize = Linux.pageSize();
        final byte[] vector = new byte[(int)((size + pageSize - 1) / pageSize)];
        final int fd = Linux.openFile(file.toString(), Linux.O_RDONLY);
        try
        {
            final long address = Linux.mmap(fd, size, false, 0);
            try
            {
                final int errno = Linux.mincore(address, size, vector);
                if (0 != errno)
                {
                    throw new ErrnoException("mincore", file.toString(), errno);
                }
            }
            finally
            {
                Linux.munmap(address, size);
            }
        }
        finally
        {
            Linux.close(fd);
        }

        int resident = 0;
        for (final byte b : vector)
        {
            resident += b & 1;
        }
        return resident;
    }

    static int pages(final long size)
    {
        return (int)((size + Linux.pageSize() - 1) / Linux.pageSize());
    }

    /** Delete the symlinks under root, so JUnit's @TempDir cleanup has none pointing outside to warn about. */
    static void deleteSymlinks(final Path root) throws IOException
    {
        try (var paths = Files.walk(root))
        {
            for (final Path path : (Iterable<Path>)paths::iterator)
            {
                if (Files.isSymbolicLink(path))
                {
                    Files.delete(path);
                }
            }
        }
    }

    static boolean isTmpfs(final Path path) throws IOException
    {
        return "tmpfs".equals(Files.getFileStore(path).type());
    }
}
