package dev.pcb.agent;

import org.agrona.IoUtil;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteOrder;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Objects;

/**
 * One ivshmem-plain PCI device seen from inside a guest: its address and its shared memory BAR (BAR2), which sysfs
 * exposes as {@code /sys/bus/pci/devices/<address>/resource2}.
 * <p>
 * That file supports only {@code mmap}: {@code read()} fails, so everything here reads through a mapping. Its file
 * size is the BAR size, which ivshmem requires to be a power of two. Identify a device by what the host wrote at
 * offset 0 (see {@link #magic()}), never by its PCI slot, which depends on the order of QEMU's arguments.
 */
public final class IvshmemDevice
{
    /** Bytes mapped to read the magic: one page, the least a mapping takes anyway. */
    static final int MAGIC_PROBE_LENGTH = 4096;

    private final String address;
    private final Path resource2;
    private final long size;

    /**
     * Describe a device found by {@link IvshmemDevices#scan(Path)}.
     *
     * @param address   PCI address (domain:bus:slot.function), for example {@code 0000:00:04.0}.
     * @param resource2 path of the BAR2 resource file.
     * @param size      BAR2 size in bytes.
     */
    public IvshmemDevice(final String address, final Path resource2, final long size)
    {
        this.address = Objects.requireNonNull(address, "address");
        this.resource2 = Objects.requireNonNull(resource2, "resource2");
        this.size = size;
    }

    /**
     * PCI address of the device.
     *
     * @return the address, for example {@code 0000:00:04.0}.
     */
    public String address()
    {
        return address;
    }

    /**
     * Path of the BAR2 resource file: mappable, not readable.
     *
     * @return the {@code resource2} path.
     */
    public Path resource2()
    {
        return resource2;
    }

    /**
     * Size of the shared memory BAR, the file size of {@code resource2}.
     *
     * @return size in bytes, a power of two for a real device.
     */
    public long size()
    {
        return size;
    }

    /**
     * First 8 bytes of the BAR as a little-endian long, read through a short-lived read-only mapping.
     * <p>
     * Read afresh on each call: a broker publishes its magic last, and writes it again after a restart.
     *
     * @return the magic, or 0 when the BAR is shorter than 8 bytes.
     * @throws UncheckedIOException when the BAR cannot be mapped (for example without root in the guest).
     */
    public long magic()
    {
        if (size < Long.BYTES)
        {
            return 0;
        }

        final MappedByteBuffer probe = mapRange(false, Math.min(size, MAGIC_PROBE_LENGTH));
        try
        {
            return probe.getLong(0);
        }
        finally
        {
            IoUtil.unmap(probe);
        }
    }

    /**
     * Map the whole BAR with {@link FileChannel#map}, little-endian (the layouts are), shared with the host.
     * <p>
     * {@code FileChannel.map} maps at most 2 GiB ({@code Integer.MAX_VALUE} bytes): a larger BAR needs a native
     * mapping. A read-write mapping of a BAR the host attached with {@code readonly=on} maps fine, but its writes never
     * reach the host. The mapping lives until the buffer is garbage collected or unmapped with
     * {@link IoUtil#unmap(MappedByteBuffer)}.
     *
     * @param writable true to map read-write, false to map read-only.
     * @return a buffer over the whole BAR.
     * @throws IllegalStateException when the BAR is larger than 2 GiB.
     * @throws UncheckedIOException  when the BAR cannot be opened or mapped.
     */
    public MappedByteBuffer map(final boolean writable)
    {
        if (size > Integer.MAX_VALUE)
        {
            throw new IllegalStateException(
                "BAR of " + address + " is " + size + " bytes: FileChannel.map maps at most 2 GiB, map it natively");
        }

        return mapRange(writable, size);
    }

    /**
     * Map the start of the BAR read-only, for checking a header.
     *
     * @param length bytes to map from offset 0, at most {@link #size()}.
     * @return a little-endian read-only buffer.
     */
    MappedByteBuffer mapHeader(final long length)
    {
        return mapRange(false, Math.min(length, size));
    }

    private MappedByteBuffer mapRange(final boolean writable, final long length)
    {
        // Opened read-only unless writing: a read-only open is all a reader needs and fails less often.
        final StandardOpenOption[] options = writable ?
            new StandardOpenOption[]{ StandardOpenOption.READ, StandardOpenOption.WRITE } :
            new StandardOpenOption[]{ StandardOpenOption.READ };

        try (FileChannel channel = FileChannel.open(resource2, options))
        {
            final MappedByteBuffer buffer = channel.map(
                writable ? FileChannel.MapMode.READ_WRITE : FileChannel.MapMode.READ_ONLY, 0, length);
            buffer.order(ByteOrder.LITTLE_ENDIAN);
            return buffer;
        }
        catch (final IOException ex)
        {
            throw new UncheckedIOException("cannot map BAR2 of ivshmem device " + address + " (" + resource2 + ")", ex);
        }
    }

    /**
     * {@inheritDoc}
     */
    public String toString()
    {
        return "IvshmemDevice{address=" + address + ", resource2=" + resource2 + ", size=" + size + '}';
    }
}
