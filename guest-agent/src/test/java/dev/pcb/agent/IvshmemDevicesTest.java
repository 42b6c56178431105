package dev.pcb.agent;

import dev.pcb.layout.ControlRegionDescriptor;
import dev.pcb.layout.DataRegionDescriptor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.MappedByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link IvshmemDevices} against a fake sysfs tree: the parsing and selection logic. A real guest runs it in
 * {@code QemuGuestTest} of the cli module.
 */
final class IvshmemDevicesTest
{
    private static final long REGION_ID = 0x1234_5678_9abc_def0L;

    @TempDir
    Path sysfs;

    @Test
    void scanFindsOnlyIvshmemDevicesWithBar2() throws IOException
    {
        device("0000:00:05.0", "0x1af4\n", "0x1110\n", header(DataRegionDescriptor.MAGIC, REGION_ID, 64 * 1024));
        device("0000:00:04.0", "0x1af4\n", "0x1110\n", header(ControlRegionDescriptor.MAGIC, 0, 32 * 1024));
        device("0000:00:03.0", "0x1af4\n", "0x1000\n", header(0, 0, 4096)); // virtio-net: wrong device
        device("0000:00:02.0", "0x8086\n", "0x1110\n", header(0, 0, 4096)); // wrong vendor
        device("0000:00:06.0", "0x1af4\n", "0x1110\n", null); // no BAR2
        Files.createDirectories(sysfs.resolve("0000:00:07.0")); // no id files at all

        final List<IvshmemDevice> devices = IvshmemDevices.scan(sysfs);

        assertEquals(2, devices.size(), devices.toString());
        assertEquals("0000:00:04.0", devices.get(0).address());
        assertEquals("0000:00:05.0", devices.get(1).address());
        assertEquals(sysfs.resolve("0000:00:05.0").resolve("resource2"), devices.get(1).resource2());
        assertEquals(32 * 1024, devices.get(0).size());
        assertEquals(64 * 1024, devices.get(1).size());
        assertEquals(ControlRegionDescriptor.MAGIC, devices.get(0).magic());
        assertEquals(DataRegionDescriptor.MAGIC, devices.get(1).magic());
    }

    @Test
    void findByMagicPicksByContentNotOrder() throws IOException
    {
        device("0000:00:04.0", "0x1af4", "0x1110", header(DataRegionDescriptor.MAGIC, 7, 8192));
        device("0000:00:05.0", "0x1af4", "0x1110", header(DataRegionDescriptor.MAGIC, REGION_ID, 8192));
        device("0000:00:06.0", "0x1af4", "0x1110", header(ControlRegionDescriptor.MAGIC, REGION_ID, 8192));
        final List<IvshmemDevice> devices = IvshmemDevices.scan(sysfs);

        final Optional<IvshmemDevice> data = IvshmemDevices.findByMagic(
            devices, DataRegionDescriptor.MAGIC, (header) -> regionId(header) == REGION_ID);
        final Optional<IvshmemDevice> missing = IvshmemDevices.findByMagic(
            devices, DataRegionDescriptor.MAGIC, (header) -> regionId(header) == 42);

        assertEquals("0000:00:05.0", data.orElseThrow().address());
        assertFalse(missing.isPresent());
        assertThrows(IllegalStateException.class,
            () -> IvshmemDevices.findByMagic(devices, DataRegionDescriptor.MAGIC, (header) -> true));
    }

    @Test
    void mapSeesWholeBarLittleEndian() throws IOException
    {
        device("0000:00:04.0", "0x1af4", "0x1110", header(DataRegionDescriptor.MAGIC, REGION_ID, 8192));
        final IvshmemDevice device = IvshmemDevices.scan(sysfs).get(0);

        final MappedByteBuffer readOnly = device.map(false);
        final MappedByteBuffer writable = device.map(true);
        writable.putLong(4096, 99L);

        assertTrue(readOnly.isReadOnly());
        assertEquals(8192, readOnly.capacity());
        assertEquals(REGION_ID, readOnly.getLong(DataRegionDescriptor.REGION_ID_OFFSET));
        assertEquals(99L, readOnly.getLong(4096));
    }

    @Test
    void scanOfMissingDirectoryNamesSysfs()
    {
        final IllegalStateException ex =
            assertThrows(IllegalStateException.class, () -> IvshmemDevices.scan(sysfs.resolve("absent")));
        assertTrue(ex.getMessage().contains("sysfs"), ex.getMessage());
    }

    private void device(final String address, final String vendor, final String device, final byte[] bar2)
        throws IOException
    {
        final Path dir = Files.createDirectories(sysfs.resolve(address));
        Files.write(dir.resolve("vendor"), vendor.getBytes(StandardCharsets.US_ASCII));
        Files.write(dir.resolve("device"), device.getBytes(StandardCharsets.US_ASCII));
        if (null != bar2)
        {
            Files.write(dir.resolve("resource2"), bar2);
        }
    }

    private static byte[] header(final long magic, final long regionId, final int size)
    {
        final ByteBuffer buffer = ByteBuffer.allocate(size).order(ByteOrder.LITTLE_ENDIAN);
        buffer.putLong(DataRegionDescriptor.MAGIC_OFFSET, magic);
        buffer.putLong(DataRegionDescriptor.REGION_ID_OFFSET, regionId);
        return buffer.array();
    }

    private static long regionId(final MappedByteBuffer header)
    {
        return header.getLong(DataRegionDescriptor.REGION_ID_OFFSET);
    }
}
