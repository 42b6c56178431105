package dev.pcb.testsupport.qemu;

import java.util.List;

/**
 * The libvirt domain XML that attaches pcb regions: a {@code <qemu:commandline>} element passing QEMU the same
 * {@code -object memory-backend-file ... -device ivshmem-plain} arguments as {@link QemuArgs#forDevices(List)}, since
 * libvirt's own {@code <shmem>} device can neither set {@code readonly=on} nor name a file outside {@code /dev/shm}
 * (docs/libvirt.md).
 */
public final class LibvirtXml
{
    /** Namespace of libvirt's QEMU passthrough elements; the {@code <domain>} element must declare it. */
    public static final String QEMU_NAMESPACE = "http://libvirt.org/schemas/domain/qemu/1.0";

    private LibvirtXml()
    {
    }

    /** PCI bus of an i440fx machine ({@code machine='pc'}); a q35 machine's root bus is {@code pcie.0}. */
    public static final String DEFAULT_PCI_BUS = "pci.0";

    /** First PCI slot given to pcb's devices: above the slots libvirt gives its own devices in a small domain. */
    public static final int DEFAULT_FIRST_SLOT = 0x10;

    /** Highest slot of a PCI bus. */
    public static final int LAST_SLOT = 0x1f;

    /**
     * A {@code <qemu:commandline>} element holding regions' QEMU arguments, one {@code <qemu:arg>} per word, each
     * ivshmem-plain (or ivshmem-doorbell) device at a fixed PCI address.
     * <p>
     * The address is needed: libvirt writes fixed addresses for its own devices, counting from slot 2, and QEMU
     * creates the passthrough devices first, so a passthrough device without an address takes slot 2 and the domain
     * fails to start ("PCI: slot 2 function 0 not available for virtio-9p-pci, in use by ivshmem-plain", seen with
     * libvirt 9.0 and QEMU 7.2).
     *
     * @param regions   regions with distinct ids, data regions read-only.
     * @param bus       PCI bus id, e.g. {@link #DEFAULT_PCI_BUS}.
     * @param firstSlot slot of the first region; the others follow.
     * @param indent    spaces before each line of the element.
     * @return the element, lines ending in '\n'.
     * @throws IllegalArgumentException when the bus is no QEMU id or the regions do not fit below {@link #LAST_SLOT}.
     */
    public static String commandline(
        final List<IvshmemRegion> regions, final String bus, final int firstSlot, final String indent)
    {
        if (!bus.matches("[A-Za-z][A-Za-z0-9._-]*"))
        {
            throw new IllegalArgumentException("not a QEMU bus id: " + bus);
        }
        if (firstSlot < 1 || firstSlot + regions.size() - 1 > LAST_SLOT)
        {
            throw new IllegalArgumentException(regions.size() + " devices from PCI slot " + firstSlot +
                " do not fit in slots 1 to " + LAST_SLOT);
        }
        final StringBuilder xml = new StringBuilder();
        xml.append(indent).append("<qemu:commandline>\n");
        int slot = firstSlot;
        for (final String arg : QemuArgs.forDevices(regions))
        {
            final String word = arg.startsWith("ivshmem-plain,") || arg.startsWith("ivshmem-doorbell,") ?
                arg + ",bus=" + bus + ",addr=0x" + Integer.toHexString(slot++) : arg;
            xml.append(indent).append("  <qemu:arg value='").append(attribute(word)).append("'/>\n");
        }
        xml.append(indent).append("</qemu:commandline>\n");
        return xml.toString();
    }

    /**
     * Escape text for an XML attribute in single or double quotes.
     *
     * @param value raw text.
     * @return the text with {@code & < > ' "} as entities.
     */
    public static String attribute(final String value)
    {
        final StringBuilder escaped = new StringBuilder(value.length() + 16);
        for (int i = 0; i < value.length(); i++)
        {
            final char c = value.charAt(i);
            switch (c)
            {
                case '&' -> escaped.append("&amp;");
                case '<' -> escaped.append("&lt;");
                case '>' -> escaped.append("&gt;");
                case '\'' -> escaped.append("&apos;");
                case '"' -> escaped.append("&quot;");
                default -> escaped.append(c);
            }
        }
        return escaped.toString();
    }
}
