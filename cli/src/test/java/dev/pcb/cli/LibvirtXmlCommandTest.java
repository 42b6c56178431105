package dev.pcb.cli;

import dev.pcb.testsupport.FileTrees;
import dev.pcb.testsupport.qemu.LibvirtXml;
import dev.pcb.testsupport.qemu.QemuArgs;
import dev.pcb.layout.RunDirectory;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;

import javax.xml.parsers.DocumentBuilderFactory;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code pcb libvirt-xml}: the XML a libvirt domain needs for a guest's regions, parsed back as libvirt would read it.
 * libvirt itself runs it in {@code LibvirtDomainTest}.
 */
final class LibvirtXmlCommandTest
{
    private Path runDir;

    @AfterEach
    void tearDown() throws IOException
    {
        FileTrees.delete(runDir);
    }

    @Test
    void theElementCarriesExactlyTheQemuArgumentsOfTheGuestsRegions() throws Exception
    {
        // A run directory name with every character XML or QEMU treat specially.
        runDir = Files.createTempDirectory("pcb-xml &<'\",x");
        region(RunDirectory.dataRegionFile(runDir, "data"), 1 << 20);
        region(RunDirectory.dataRegionFile(runDir, "other"), 1 << 20);
        region(RunDirectory.controlRegionFile(runDir, "vm1"), 64 << 10);
        Files.writeString(RunDirectory.guestSharesFile(runDir, "vm1"), "data\n");

        final String xml = LibvirtXmlCommand.render(runDir, "vm1", null, "pci.0", 0x10);
        final Document domain = DocumentBuilderFactory.newDefaultInstance().newDocumentBuilder().parse(
            new ByteArrayInputStream(("<domain xmlns:qemu='" + LibvirtXml.QEMU_NAMESPACE + "'>\n" + xml +
                "</domain>").getBytes(StandardCharsets.UTF_8)));
        final NodeList args = domain.getElementsByTagName("qemu:arg");
        final List<String> values = new ArrayList<>();
        for (int i = 0; i < args.getLength(); i++)
        {
            values.add(((Element)args.item(i)).getAttribute("value"));
        }

        // The QEMU arguments of pcb qemu-args, each device with its fixed address.
        final List<String> expected = new ArrayList<>(
            QemuArgs.forDevices(QemuArgsCommand.regions(QemuArgsCommand.regionFiles(runDir, "vm1", null))));
        expected.set(3, expected.get(3) + ",bus=pci.0,addr=0x10");
        expected.set(7, expected.get(7) + ",bus=pci.0,addr=0x11");
        assertEquals(expected, values, xml);
        assertEquals(8, values.size(), "one data region (only the share vm1 was given) and the control region");
        assertTrue(values.get(1).contains("pcb-xml &<'\",,x") &&
            values.get(1).endsWith("/share-data.data,size=1M,share=on,readonly=on"), values.get(1));
        assertTrue(values.get(5).endsWith("guest-vm1.ctl,size=64K,share=on"), values.get(5));
    }

    @Test
    void devicesThatDoNotFitTheBusAreAnError() throws Exception
    {
        runDir = Files.createTempDirectory("pcb-xml");
        region(RunDirectory.dataRegionFile(runDir, "data"), 1 << 20);
        region(RunDirectory.controlRegionFile(runDir, "vm1"), 64 << 10);
        Files.writeString(RunDirectory.guestSharesFile(runDir, "vm1"), "data\n");
        final IllegalArgumentException error = assertThrows(IllegalArgumentException.class,
            () -> LibvirtXmlCommand.render(runDir, "vm1", null, "pci.0", 0x1f));
        assertTrue(error.getMessage().contains("do not fit"), error.getMessage());
    }

    @Test
    void aGuestWithoutRegionsIsAnErrorNotEmptyXml() throws Exception
    {
        runDir = Files.createTempDirectory("pcb-xml");
        final IOException error = assertThrows(IOException.class,
            () -> LibvirtXmlCommand.render(runDir, "vm9", null, "pci.0", 0x10));
        assertTrue(error.getMessage().contains("no control region for guest vm9"), error.getMessage());
    }

    private static void region(final Path file, final long size) throws IOException
    {
        try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw"))
        {
            raf.setLength(size);
        }
    }
}
