package dev.pcb.cli;

import dev.pcb.testsupport.qemu.LibvirtXml;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;

/**
 * {@code pcb libvirt-xml}: the libvirt domain XML that attaches a guest's regions, the same devices as
 * {@code pcb qemu-args} in a {@code <qemu:commandline>} element to paste into the guest's {@code <domain>}.
 */
@Command(
    name = "libvirt-xml",
    mixinStandardHelpOptions = true,
    description = {
        "Print the libvirt domain XML that attaches a guest's pcb regions: a <qemu:commandline> element for the",
        "guest's <domain>, which must declare xmlns:qemu='" + LibvirtXml.QEMU_NAMESPACE + "'."})
public final class LibvirtXmlCommand implements Callable<Integer>
{
    @CommandLine.Mixin
    GuestRegionOptions regions;

    @Option(names = "--pci-bus", paramLabel = "BUS", defaultValue = LibvirtXml.DEFAULT_PCI_BUS,
        description = "PCI bus of the devices: pci.0 for machine 'pc' (i440fx), pcie.0 for q35 (default: ${DEFAULT-VALUE}).")
    String pciBus;

    @Option(names = "--pci-slot", paramLabel = "SLOT", defaultValue = "16",
        description = "PCI slot of the first device, the others following; one libvirt does not use " +
            "(see virsh dumpxml; default: ${DEFAULT-VALUE}, 0x10).")
    int pciSlot;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    /** {@inheritDoc} */
    public Integer call() throws IOException
    {
        spec.commandLine().getOut().print(render(regions.runDir, regions.guest, regions.shares, pciBus, pciSlot));
        spec.commandLine().getOut().flush();
        return 0;
    }

    /**
     * The XML for a guest of a run directory: a comment saying where it goes, then the element.
     *
     * @param runDir the broker's run directory.
     * @param guest  the guest.
     * @param shares only these shares, or null for every share the broker gave the guest.
     * @param bus    PCI bus of the devices.
     * @param slot   PCI slot of the first device.
     * @return the XML text.
     * @throws IOException when the guest has no regions there.
     */
    static String render(final Path runDir, final String guest, final List<String> shares, final String bus,
        final int slot) throws IOException
    {
        // Same files, order and ids as pcb qemu-args: one renderer of regions for both.
        final String element = LibvirtXml.commandline(
            QemuArgsCommand.regions(QemuArgsCommand.regionFiles(runDir, guest, shares)), bus, slot, "  ");
        // "--" may not appear inside an XML comment: the guest and directory names are quoted with that in mind.
        final String where = (guest + " of " + runDir).replace("--", "- -");
        return "  <!-- pcb regions of guest " + where + ": put this element in <domain>, which must declare\n" +
            "       xmlns:qemu='" + LibvirtXml.QEMU_NAMESPACE + "'. Start the broker before the domain. -->\n" +
            element;
    }
}
