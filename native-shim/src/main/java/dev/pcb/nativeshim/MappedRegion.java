package dev.pcb.nativeshim;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * One shared mapping of a whole file through a single native {@code mmap}, so regions over 2 GiB map in one piece
 * on Java 17 (where {@code FileChannel.map} stops at 2 GiB) and every window has one stable address.
 * <p>
 * The descriptor is closed right after mapping: the mapping keeps the file alive.
 */
public final class MappedRegion implements AutoCloseable
{
    private final Path path;
    private final long address;
    private final long length;
    private final boolean writable;
    private boolean closed;

    private MappedRegion(final Path path, final long address, final long length, final boolean writable)
    {
        this.path = path;
        this.address = address;
        this.length = length;
        this.writable = writable;
    }

    /**
     * Create a region file of a length, or reuse the existing one (same inode, so a QEMU that has it mapped keeps
     * seeing it), and map it read-write.
     *
     * @param path   region file.
     * @param length bytes; the file is grown or shrunk to it, sparse.
     * @return the mapping.
     * @throws IOException when the file cannot be created, sized or mapped.
     */
    public static MappedRegion create(final Path path, final long length) throws IOException
    {
        // Never through a symlink: a link planted in the run directory must not make the broker map (and resize) its
        // target.
        final int fd = Linux.openFile(path.toString(), Linux.O_RDWR | Linux.O_CREAT | Linux.O_NOFOLLOW);
        try
        {
            final StatxResult stat = new StatxResult();
            Linux.fstat(fd, stat);
            if (stat.size() != length)
            {
                Linux.ftruncate(fd, length);
            }
            return new MappedRegion(path, Linux.mmap(fd, length, true, 0), length, true);
        }
        finally
        {
            Linux.close(fd);
        }
    }

    /**
     * Map an existing file, or a sysfs PCI {@code resource2} BAR, whole.
     *
     * @param path     file to map.
     * @param writable map read-write; else read-only, and writes fault.
     * @return the mapping.
     * @throws IOException when the file cannot be opened or mapped.
     */
    public static MappedRegion map(final Path path, final boolean writable) throws IOException
    {
        final long length = Files.size(path);
        final int fd = Linux.openFile(path.toString(), writable ? Linux.O_RDWR : Linux.O_RDONLY);
        try
        {
            return new MappedRegion(path, Linux.mmap(fd, length, writable, 0), length, writable);
        }
        finally
        {
            Linux.close(fd);
        }
    }

    /** @return the mapped file. */
    public Path path()
    {
        return path;
    }

    /** @return address of byte 0. */
    public long address()
    {
        return address;
    }

    /** @return mapped length in bytes. */
    public long length()
    {
        return length;
    }

    /** @return true when mapped read-write. */
    public boolean isWritable()
    {
        return writable;
    }

    /** Unmap; idempotent. Views over the region must not be used after this. */
    public synchronized void close()
    {
        if (!closed)
        {
            closed = true;
            try
            {
                Linux.munmap(address, length);
            }
            catch (final ErrnoException ex)
            {
                throw new IllegalStateException(ex);
            }
        }
    }
}
