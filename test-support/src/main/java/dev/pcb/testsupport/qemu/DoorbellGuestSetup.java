package dev.pcb.testsupport.qemu;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * What a {@link QemuGuest} needs so that its agent waits for the broker's answers on MSI-X interrupts of the control
 * region's {@code ivshmem-doorbell} device ({@code pcb broker --doorbell}, docs/qemu.md "Interrupts"): a q35 machine
 * with a virtual IOMMU ({@code intel-iommu,intremap=on}, before the devices it translates) and {@code intel_iommu=on}
 * on the kernel command line, since Debian's kernel has no vfio no-IOMMU mode (an agent running as root binds the
 * device to {@code vfio-pci} itself). For the tests and benchmarks that boot such guests.
 */
public final class DoorbellGuestSetup
{
    /** Early QEMU arguments: q35 and the virtual IOMMU vfio-pci needs ({@link QemuGuest.Builder#earlyQemuArgs}). */
    public static final List<String> EARLY_QEMU_ARGS = List.of("-machine", "q35", "-device", "intel-iommu,intremap=on");

    /** Kernel command line: the defaults plus {@code intel_iommu=on}. */
    public static final String KERNEL_ARGS = QemuGuest.DEFAULT_KERNEL_ARGS + " intel_iommu=on";

    private DoorbellGuestSetup()
    {
    }

    /**
     * Guest shell that sets {@code $bell} to the sysfs directory of the doorbell device, the ivshmem device
     * ({@code 1af4:1110}) with BAR1 (its MSI-X table; {@code ivshmem-plain} has none), and exits 10 when there is none.
     *
     * @return shell lines ending in a newline.
     */
    public static String findBellScript()
    {
        return "bell=\n" +
            "for d in /sys/bus/pci/devices/*; do\n" +
            "  if [ \"$(cat $d/vendor)\" = 0x1af4 ] && [ \"$(cat $d/device)\" = 0x1110 ] && [ -e $d/resource1 ]; " +
            "then bell=$d; fi\n" +
            "done\n" +
            "[ -n \"$bell\" ] || exit 10\n";
    }

    /**
     * Inside a guest: the kernel's count of the MSI-X interrupts vfio took ({@code /proc/interrupts}, lines
     * {@code vfio-msix}), summed over CPUs; 0 without vfio.
     *
     * @return interrupts so far.
     * @throws IOException when {@code /proc/interrupts} cannot be read.
     */
    public static long msixInterrupts() throws IOException
    {
        long sum = 0;
        for (final String line : Files.readAllLines(Path.of("/proc/interrupts"), StandardCharsets.US_ASCII))
        {
            if (line.contains("vfio-msix"))
            {
                final String[] fields = line.trim().split("\\s+");
                // "IRQ: count-per-cpu... type... name": the counts follow the IRQ number.
                for (int i = 1; i < fields.length && fields[i].matches("\\d+"); i++)
                {
                    sum += Long.parseLong(fields[i]);
                }
            }
        }
        return sum;
    }
}
