package dev.pcb.it;

import dev.pcb.agent.IvshmemDevice;
import dev.pcb.agent.IvshmemDevices;
import dev.pcb.layout.DataRegionDescriptor;

import java.nio.MappedByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * Runs inside a {@link QemuEndToEndTest} guest, as root: maps the BAR of every pcb data region among the guest's
 * ivshmem devices read-write (sysfs {@code resource2}) and writes {@link #PATTERN} into its superblock, its first
 * window and its last bytes, as a hostile or buggy guest would. QEMU attaches data regions with {@code readonly=on},
 * so none of it may reach the host file; the host then searches the region file for the pattern.
 * <p>
 * Prints {@code PCB-E2E-WRITE ...} lines; exit status 0 when at least one data region was found and written.
 */
public final class GuestBarWriter
{
    /** Prefix of every line this prints. */
    public static final String PREFIX = "PCB-E2E-WRITE ";

    /** What the guest writes: never produced by the broker, so its presence in the host file means a leak. */
    public static final byte[] PATTERN = "PCB!GUEST!WRITE!".getBytes(StandardCharsets.US_ASCII);

    private GuestBarWriter()
    {
    }

    /**
     * Write into every data region BAR.
     *
     * @param args none.
     */
    public static void main(final String[] args)
    {
        final List<IvshmemDevice> devices = IvshmemDevices.scan();
        int written = 0;
        for (final IvshmemDevice device : devices)
        {
            if (DataRegionDescriptor.MAGIC != device.magic())
            {
                continue;
            }
            final MappedByteBuffer bar = device.map(true);
            final int windowsOffset = (int)bar.getLong(DataRegionDescriptor.WINDOWS_OFFSET_OFFSET);
            final int[] offsets = {
                DataRegionDescriptor.REGION_ID_OFFSET,
                windowsOffset,
                bar.capacity() - PATTERN.length };
            for (final int offset : offsets)
            {
                final byte[] before = new byte[PATTERN.length];
                bar.get(offset, before);
                bar.put(offset, PATTERN);
                final byte[] after = new byte[PATTERN.length];
                bar.get(offset, after);
                System.out.println(PREFIX + "device=" + device.address() + " offset=" + offset +
                    " readback-changed=" + !java.util.Arrays.equals(before, after));
            }
            written++;
        }
        System.out.println(PREFIX + "data-regions-written=" + written);
        System.out.flush();
        System.exit(written > 0 ? 0 : 1);
    }
}
