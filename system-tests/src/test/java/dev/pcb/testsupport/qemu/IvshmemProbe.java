package dev.pcb.testsupport.qemu;

import dev.pcb.agent.IvshmemDevice;
import dev.pcb.agent.IvshmemDevices;
import dev.pcb.layout.ControlRegionDescriptor;
import dev.pcb.layout.DataRegionDescriptor;
import org.agrona.concurrent.UnsafeBuffer;

import java.nio.MappedByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.zip.CRC32;

/**
 * Runs inside a {@link QemuGuestTest} guest: finds the guest's regions among its ivshmem devices by content, reports
 * a checksum of the shared data region, writes a marker into its control region and tries to write into the read-only
 * data region. Results are {@code PCB-PROBE key=value} lines on stdout, which is the guest's console.
 * <p>
 * Arguments: guest name (as in the control header), data region id (hex), marker offset in the control region,
 * offset of the attempted write in the data region.
 */
public final class IvshmemProbe
{
    /** Prefix of every result line. */
    public static final String PREFIX = "PCB-PROBE ";

    private IvshmemProbe()
    {
    }

    /**
     * Probe the devices; exit status 0 when both regions were found and the marker was written.
     *
     * @param args guest name, data region id in hex, marker offset, read-only write offset.
     */
    public static void main(final String[] args)
    {
        final String guestName = args[0];
        final long regionId = Long.parseUnsignedLong(args[1], 16);
        final int markerOffset = Integer.parseInt(args[2]);
        final int readOnlyWriteOffset = Integer.parseInt(args[3]);

        report("java=" + System.getProperty("java.home") + " version=" + System.getProperty("java.version"));
        final List<IvshmemDevice> devices = IvshmemDevices.scan();
        for (final IvshmemDevice device : devices)
        {
            report("device=" + device.address() + " size=" + device.size() +
                " magic=" + Long.toHexString(device.magic()));
        }

        final IvshmemDevice control = IvshmemDevices.findByMagic(devices, ControlRegionDescriptor.MAGIC, (header) ->
            {
                final UnsafeBuffer buffer = new UnsafeBuffer(header);
                return ControlRegionDescriptor.isReady(buffer) &&
                    guestName.equals(ControlRegionDescriptor.guestName(buffer));
            })
            .orElseThrow(() -> new IllegalStateException("no control region for guest " + guestName));
        final IvshmemDevice data = IvshmemDevices.findByMagic(devices, DataRegionDescriptor.MAGIC, (header) ->
            {
                final UnsafeBuffer buffer = new UnsafeBuffer(header);
                return DataRegionDescriptor.isReady(buffer) &&
                    buffer.getLong(DataRegionDescriptor.REGION_ID_OFFSET) == regionId;
            })
            .orElseThrow(() -> new IllegalStateException("no data region " + Long.toHexString(regionId)));
        report("control=" + control.address());
        report("data=" + data.address());

        final MappedByteBuffer dataView = data.map(false);
        final CRC32 crc = new CRC32();
        crc.update(dataView.duplicate());
        final String checksum = Long.toHexString(crc.getValue());
        report("data-crc=" + checksum);

        final MappedByteBuffer controlView = control.map(true);
        final byte[] marker = ("PCB-MARK guest=" + guestName + " crc=" + checksum).getBytes(StandardCharsets.US_ASCII);
        controlView.put(markerOffset, marker);
        controlView.force();
        report("marker-written=" + marker.length);

        final long before = dataView.getLong(readOnlyWriteOffset);
        try
        {
            final MappedByteBuffer writableDataView = data.map(true);
            writableDataView.putLong(readOnlyWriteOffset, ~before);
            report("ro-write-attempted readback-changed=" + (writableDataView.getLong(readOnlyWriteOffset) != before) +
                " readonly-view-changed=" + (dataView.getLong(readOnlyWriteOffset) != before));
        }
        catch (final RuntimeException ex)
        {
            report("ro-write-attempted refused=" + ex);
        }

        report("done jvm-uptime-ms=" + java.lang.management.ManagementFactory.getRuntimeMXBean().getUptime());
    }

    private static void report(final String line)
    {
        System.out.println(PREFIX + line);
        System.out.flush();
    }
}
