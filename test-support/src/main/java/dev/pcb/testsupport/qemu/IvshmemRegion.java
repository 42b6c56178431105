package dev.pcb.testsupport.qemu;

import java.nio.file.Path;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * A host file attached to a guest as one ivshmem device: a pcb data region (ivshmem-plain, read-only, one per share,
 * the same file for every guest of the share) or a control region (writable, one per guest): ivshmem-plain, or
 * ivshmem-doorbell when the broker serves it on a socket ({@code pcb broker --doorbell}), which then hands QEMU the
 * file itself.
 */
public final class IvshmemRegion
{
    // QEMU's id_wellformed(): a letter, then letters, digits, '-', '.', '_'.
    private static final Pattern QEMU_ID = Pattern.compile("[A-Za-z][A-Za-z0-9._-]*");

    private final String id;
    private final Path path;
    private final long size;
    private final boolean readOnly;
    private final Path doorbellSocket;

    private IvshmemRegion(final String id, final Path path, final long size, final boolean readOnly)
    {
        this(id, path, size, readOnly, null);
    }

    private IvshmemRegion(
        final String id, final Path path, final long size, final boolean readOnly, final Path doorbellSocket)
    {
        this.doorbellSocket = doorbellSocket;
        this.id = Objects.requireNonNull(id, "id");
        this.path = Objects.requireNonNull(path, "path");
        if (!QEMU_ID.matcher(id).matches())
        {
            throw new IllegalArgumentException(
                "QEMU id must be a letter then letters, digits, '-', '.', '_': " + id);
        }
        if (size <= 0 || Long.bitCount(size) != 1)
        {
            throw new IllegalArgumentException("ivshmem BAR size must be a power of two: " + size + " (" + id + ")");
        }
        this.size = size;
        this.readOnly = readOnly;
    }

    /**
     * A region the guest may read but whose writes never reach the host file ({@code readonly=on}), as data regions are.
     *
     * @param id   QEMU object id, unique in the guest; the device gets {@code id + "-dev"}.
     * @param path host file, for example on /dev/shm.
     * @param size file size in bytes, a power of two.
     * @return the region.
     */
    public static IvshmemRegion readOnly(final String id, final Path path, final long size)
    {
        return new IvshmemRegion(id, path, size, true);
    }

    /**
     * A region the guest may write, as a control region is.
     *
     * @param id   QEMU object id, unique in the guest; the device gets {@code id + "-dev"}.
     * @param path host file, for example on /dev/shm.
     * @param size file size in bytes, a power of two.
     * @return the region.
     */
    public static IvshmemRegion writable(final String id, final Path path, final long size)
    {
        return new IvshmemRegion(id, path, size, false);
    }

    /**
     * A control region served by the broker's ivshmem server: QEMU connects to the socket and gets the file from it,
     * so there is no memory backend; the id names the chardev.
     *
     * @param id     QEMU chardev id, unique in the guest; the device gets {@code id + "-dev"}.
     * @param socket the broker's socket for this guest ({@code guest-NAME.sock}).
     * @param size   size of the control region file, a power of two.
     * @return the region.
     */
    public static IvshmemRegion doorbell(final String id, final Path socket, final long size)
    {
        return new IvshmemRegion(id, socket, size, false, Objects.requireNonNull(socket, "socket"));
    }

    /**
     * Is the region an ivshmem-doorbell device fed by the broker's socket?
     *
     * @return true when {@link #path()} is the socket, not the file.
     */
    public boolean doorbell()
    {
        return null != doorbellSocket;
    }

    /**
     * QEMU object id of the memory backend (of the chardev, for a {@link #doorbell} region).
     *
     * @return the id.
     */
    public String id()
    {
        return id;
    }

    /**
     * Host file backing the region; for a {@link #doorbell} region, the broker's socket.
     *
     * @return the path.
     */
    public Path path()
    {
        return path;
    }

    /**
     * Size of the region, which becomes the BAR size.
     *
     * @return bytes, a power of two.
     */
    public long size()
    {
        return size;
    }

    /**
     * Is the region attached with {@code readonly=on}?
     *
     * @return true for a read-only region.
     */
    public boolean readOnly()
    {
        return readOnly;
    }

    /**
     * {@inheritDoc}
     */
    public String toString()
    {
        return "IvshmemRegion{id=" + id + ", path=" + path + ", size=" + size + ", readOnly=" + readOnly + ", doorbell=" + doorbell() + '}';
    }
}
