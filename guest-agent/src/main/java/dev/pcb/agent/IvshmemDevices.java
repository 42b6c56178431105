package dev.pcb.agent;

import org.agrona.IoUtil;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.MappedByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Predicate;

/**
 * Discovery of ivshmem-plain devices inside a guest through sysfs, and selection of one by the header the host wrote
 * into it.
 * <p>
 * A guest of pcb has one writable control region and one read-only data region per share, each an ivshmem-plain
 * device (PCI {@code 1af4:1110}). Their PCI slots follow the order of QEMU's arguments, so the agent tells them apart
 * only by content: the magic at offset 0 ({@code ControlRegionDescriptor.MAGIC}, {@code DataRegionDescriptor.MAGIC})
 * and then a header field such as the guest name or the region id.
 */
public final class IvshmemDevices
{
    /** PCI vendor id of ivshmem (Red Hat / virtio). */
    public static final int VENDOR_ID = 0x1af4;

    /** PCI device id of ivshmem, plain and doorbell alike. */
    public static final int DEVICE_ID = 0x1110;

    /** Where sysfs lists PCI devices in a guest. */
    public static final Path DEFAULT_SYSFS_PCI_DEVICES = Path.of("/sys/bus/pci/devices");

    /** Bytes of a BAR mapped for a header check: both region headers fit in one page. */
    public static final int HEADER_PROBE_LENGTH = 4096;

    private static final String RESOURCE2 = "resource2";

    private IvshmemDevices()
    {
    }

    /**
     * Find the ivshmem devices of this machine under {@link #DEFAULT_SYSFS_PCI_DEVICES}.
     *
     * @return devices sorted by PCI address, possibly empty.
     * @see #scan(Path)
     */
    public static List<IvshmemDevice> scan()
    {
        return scan(DEFAULT_SYSFS_PCI_DEVICES);
    }

    /**
     * Find the ivshmem devices listed in a sysfs PCI devices directory: entries whose {@code vendor} file reads
     * {@code 0x1af4}, whose {@code device} file reads {@code 0x1110}, and which have a {@code resource2} (BAR2).
     * <p>
     * Sorting by address only makes the result stable for logs: pick a device with
     * {@link #findByMagic(List, long, Predicate)}, never by position.
     *
     * @param sysfsPciDevices directory like {@code /sys/bus/pci/devices}, one entry per PCI address.
     * @return devices sorted by PCI address, possibly empty.
     * @throws IllegalStateException when the directory does not exist, as when sysfs is not mounted.
     * @throws UncheckedIOException  when the directory cannot be listed.
     */
    public static List<IvshmemDevice> scan(final Path sysfsPciDevices)
    {
        Objects.requireNonNull(sysfsPciDevices, "sysfsPciDevices");
        if (!Files.isDirectory(sysfsPciDevices))
        {
            throw new IllegalStateException("no directory " + sysfsPciDevices + ": is sysfs mounted?");
        }

        final List<IvshmemDevice> devices = new ArrayList<>();
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(sysfsPciDevices))
        {
            for (final Path entry : entries)
            {
                if (readHexId(entry.resolve("vendor")) != VENDOR_ID || readHexId(entry.resolve("device")) != DEVICE_ID)
                {
                    continue;
                }

                final Path resource2 = entry.resolve(RESOURCE2);
                if (!Files.exists(resource2))
                {
                    // A 1af4:1110 function without BAR2 has no shared memory to offer.
                    continue;
                }

                devices.add(new IvshmemDevice(entry.getFileName().toString(), resource2, Files.size(resource2)));
            }
        }
        catch (final IOException ex)
        {
            throw new UncheckedIOException("cannot list PCI devices in " + sysfsPciDevices, ex);
        }

        devices.sort(Comparator.comparing(IvshmemDevice::address));
        return devices;
    }

    /**
     * Pick the one device whose first 8 bytes are {@code magic} and whose header satisfies {@code matches}, for
     * example "the control region whose header names guest vm1" or "the data region whose superblock has region id Y".
     * <p>
     * {@code matches} sees a little-endian read-only mapping of the first
     * {@code min(size, }{@link #HEADER_PROBE_LENGTH}{@code )} bytes, valid only during the call: it must not keep it.
     * Two matching devices mean the guest was given the same region twice or two regions with the same identity, so
     * that is an error rather than a guess.
     *
     * @param devices candidates, as from {@link #scan(Path)}.
     * @param magic   the magic at offset 0, read little-endian.
     * @param matches test of the header, after the magic matched.
     * @return the matching device, or empty when none matches.
     * @throws IllegalStateException when more than one device matches.
     * @throws UncheckedIOException  when a device cannot be mapped.
     */
    public static Optional<IvshmemDevice> findByMagic(
        final List<IvshmemDevice> devices, final long magic, final Predicate<MappedByteBuffer> matches)
    {
        Objects.requireNonNull(matches, "matches");
        IvshmemDevice found = null;
        for (final IvshmemDevice device : devices)
        {
            if (device.magic() != magic)
            {
                continue;
            }

            final MappedByteBuffer header = device.mapHeader(HEADER_PROBE_LENGTH);
            final boolean match;
            try
            {
                match = matches.test(header);
            }
            finally
            {
                IoUtil.unmap(header);
            }

            if (match)
            {
                if (null != found)
                {
                    throw new IllegalStateException(
                        "two ivshmem devices match magic 0x" + Long.toHexString(magic) + ": " + found.address() +
                        " and " + device.address());
                }
                found = device;
            }
        }

        return Optional.ofNullable(found);
    }

    /**
     * Parse a sysfs id file such as {@code vendor} ("0x1af4\n").
     *
     * @return the id, or -1 when the file is missing or not a hex number.
     */
    private static int readHexId(final Path file) throws IOException
    {
        final String text;
        try
        {
            text = new String(Files.readAllBytes(file), StandardCharsets.US_ASCII).trim();
        }
        catch (final NoSuchFileException ex)
        {
            return -1;
        }

        final String digits = text.startsWith("0x") || text.startsWith("0X") ? text.substring(2) : text;
        try
        {
            return Integer.parseInt(digits, 16);
        }
        catch (final NumberFormatException ex)
        {
            return -1;
        }
    }
}
