package dev.pcb.testsupport.qemu;

import java.util.ArrayList;
import java.util.List;

/**
 * What a {@link QemuGuest} needs so that its agent waits for the broker's answers on MSI-X interrupts of the control
 * region's {@code ivshmem-doorbell} device ({@code pcb broker --doorbell}, docs/qemu.md "Interrupts"): a q35 machine
 * with a virtual IOMMU ({@code intel-iommu,intremap=on}, before the devices it translates) and {@code intel_iommu=on}
 * on the kernel command line, since Debian's kernel has no vfio no-IOMMU mode; and, as root once per boot, the
 * device bound to {@code vfio-pci}. The same set-up as {@code DoorbellGuestTest}'s, for benchmarks and tests that
 * boot such guests.
 * <p>
 * Also {@link #shellWords} to turn the line {@code pcb qemu-args} prints into QEMU arguments.
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
     * Guest shell, run as root: {@link #findBellScript}, then bind the device to {@code vfio-pci} (exit 13 when the
     * module does not load, 14 when the binding fails) and print {@code PCB-BELL-DRIVER} and the driver link.
     *
     * @return shell lines ending in a newline.
     */
    public static String bindVfioPciScript()
    {
        return findBellScript() +
            "modprobe vfio-pci || exit 13\n" +
            "echo vfio-pci > $bell/driver_override && echo ${bell##*/} > /sys/bus/pci/drivers_probe || exit 14\n" +
            "echo \"PCB-BELL-DRIVER $(readlink $bell/driver)\"\n";
    }

    /**
     * Split a shell command line, as {@code pcb qemu-args} prints it, into words: blanks separate, single quotes,
     * double quotes and backslashes quote.
     *
     * @param line the printed line.
     * @return its words.
     * @throws IllegalArgumentException when a quote is not closed.
     */
    public static List<String> shellWords(final String line)
    {
        final List<String> words = new ArrayList<>();
        final StringBuilder word = new StringBuilder();
        boolean inWord = false;
        for (int i = 0; i < line.length(); i++)
        {
            final char c = line.charAt(i);
            if (c == '\'')
            {
                final int end = line.indexOf('\'', i + 1);
                if (end < 0)
                {
                    throw new IllegalArgumentException("unbalanced quote in " + line);
                }
                word.append(line, i + 1, end);
                i = end;
                inWord = true;
            }
            else if (c == '"')
            {
                int j = i + 1;
                for (; j < line.length() && line.charAt(j) != '"'; j++)
                {
                    if (line.charAt(j) == '\\' && j + 1 < line.length())
                    {
                        j++;
                    }
                    word.append(line.charAt(j));
                }
                if (j >= line.length())
                {
                    throw new IllegalArgumentException("unbalanced quote in " + line);
                }
                i = j;
                inWord = true;
            }
            else if (c == '\\' && i + 1 < line.length())
            {
                word.append(line.charAt(++i));
                inWord = true;
            }
            else if (Character.isWhitespace(c))
            {
                if (inWord)
                {
                    words.add(word.toString());
                    word.setLength(0);
                    inWord = false;
                }
            }
            else
            {
                word.append(c);
                inWord = true;
            }
        }
        if (inWord)
        {
            words.add(word.toString());
        }
        return words;
    }
}
