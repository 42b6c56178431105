package dev.pcb.agent;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link DoorbellDevice}'s decisions against a fake sysfs tree (the files the kernel shows for a PCI device): which
 * device is a doorbell device, when the agent binds it and when it says in one line why it polls. The binding itself,
 * by the real kernel, runs in {@code DoorbellGuestTest} (system-tests).
 */
final class DoorbellDeviceTest
{
    private static final String BDF = "0000:00:03.0";

    @TempDir
    Path root;

    private final List<String> log = new ArrayList<>();

    @Test
    void aPlainIvshmemDeviceOrAHostFileIsPolledSilently() throws IOException
    {
        final Path plain = device(false);
        Files.delete(plain.resolve("resource1"));

        assertNull(finder(0, "true").readyForVfio(plain.resolve("resource2")));
        assertNull(finder(0, "true").readyForVfio(root.resolve("guest-vm1.ctl")));
        assertEquals(List.of(), log);
    }

    @Test
    void aDeviceBoundToVfioPciIsUsedAsItIs() throws IOException
    {
        final Path device = device(true);
        driver(device, "vfio-pci");

        assertEquals(device, finder(1000, "false").readyForVfio(device.resolve("resource2")));
        assertEquals(List.of(), log);
    }

    @Test
    void aDeviceBoundToAnotherDriverIsLeftAloneAndSaidSo() throws IOException
    {
        final Path device = device(true);
        driver(device, "uio_pci_generic");

        assertNull(finder(0, "true").readyForVfio(device.resolve("resource2")));
        assertEquals(1, log.size(), log.toString());
        assertTrue(log.get(0).contains("bound to uio_pci_generic, which pcb leaves alone") &&
            log.get(0).contains("drivers/uio_pci_generic/unbind"), log.get(0));
        assertEquals("", Files.readString(device.resolve("driver_override")), "the agent wrote the override");
    }

    @Test
    void withoutAnIommuGroupItSaysWhichMachineOptionsAreMissing() throws IOException
    {
        final Path device = device(true);
        Files.delete(device.resolve("iommu_group"));

        assertNull(finder(0, "true").readyForVfio(device.resolve("resource2")));
        assertEquals(1, log.size(), log.toString());
        assertTrue(log.get(0).contains("no IOMMU group") && log.get(0).contains("intel-iommu,intremap=on") &&
            log.get(0).contains("intel_iommu=on"), log.get(0));
    }

    @Test
    void notRootItExplainsAndWritesNothing() throws IOException
    {
        final Path device = device(true);

        assertNull(finder(1000, "true").readyForVfio(device.resolve("resource2")));
        assertEquals(1, log.size(), log.toString());
        assertTrue(log.get(0).contains("needs root"), log.get(0));
        assertEquals("", Files.readString(device.resolve("driver_override")));
        assertEquals("", Files.readString(root.resolve("bus/drivers_probe")));
    }

    @Test
    void notRootTheShortConfigSpaceStillIdentifiesTheDevice() throws IOException
    {
        // sysfs gives others only the first 64 bytes of the config space: no capability list to walk.
        final Path device = device(true);
        Files.write(device.resolve("config"), java.util.Arrays.copyOf(config(), 64));

        assertNull(finder(1000, "true").readyForVfio(device.resolve("resource2")));
        assertEquals(1, log.size(), log.toString());
        assertTrue(log.get(0).contains("needs root"), log.get(0));
    }

    @Test
    void aVfioPciModuleThatDoesNotLoadIsReported() throws IOException
    {
        final Path device = device(true);
        Files.delete(root.resolve("bus/drivers/vfio-pci"));

        assertNull(finder(0, "false").readyForVfio(device.resolve("resource2")));
        assertEquals(1, log.size(), log.toString());
        assertTrue(log.get(0).contains("module does not load"), log.get(0));
        assertEquals("", Files.readString(device.resolve("driver_override")));
    }

    @Test
    void aProbeThatDoesNotBindRestoresTheOverride() throws IOException
    {
        final Path device = device(true);

        // The fake drivers_probe is a plain file: the agent asks, no kernel binds.
        assertNull(finder(0, "true").readyForVfio(device.resolve("resource2")));
        assertEquals(BDF + "\n", Files.readString(root.resolve("bus/drivers_probe")));
        assertEquals("\n", Files.readString(device.resolve("driver_override")), "override left behind");
        assertEquals(1, log.size(), log.toString());
        assertTrue(log.get(0).contains("vfio-pci did not take it"), log.get(0));
    }

    @Test
    void theMsixCapabilityIsFoundInTheListAndALoopEnds()
    {
        final byte[] config = config();
        assertTrue(DoorbellDevice.hasCapability(config, 0x11));
        assertFalse(DoorbellDevice.hasCapability(config, 0x05));

        config[0x41] = 0x40; // the capability points at itself
        config[0x40] = 0x09;
        assertFalse(DoorbellDevice.hasCapability(config, 0x11));
        final byte[] noList = config();
        noList[0x06] = 0; // no capability list at all
        assertFalse(DoorbellDevice.hasCapability(noList, 0x11));
        assertFalse(DoorbellDevice.hasCapability(new byte[64], 0x11));
    }

    @Test
    void aDeviceWithoutMsixOrWithAnotherBar0IsNoDoorbell() throws IOException
    {
        final Path device = device(true);
        assertTrue(DoorbellDevice.isDoorbell(device));
        final byte[] config = config();
        config[0x40] = 0x05; // MSI, not MSI-X
        Files.write(device.resolve("config"), config);
        assertFalse(DoorbellDevice.isDoorbell(device));

        Files.write(device.resolve("config"), config());
        Files.writeString(device.resolve("resource"), "0x00000000fe000000 0x00000000fe000fff 0x0000000000040200\n");
        assertFalse(DoorbellDevice.isDoorbell(device));
    }

    private DoorbellDevice finder(final int uid, final String modprobe)
    {
        return new DoorbellDevice(root.resolve("bus"), root.resolve("vfio"), uid, List.of(modprobe), log::add);
    }

    private Path device(final boolean iommuGroup) throws IOException
    {
        final Path device = Files.createDirectories(root.resolve("bus/devices").resolve(BDF));
        Files.createDirectories(root.resolve("bus/drivers/vfio-pci"));
        Files.writeString(root.resolve("bus/drivers_probe"), "");
        Files.writeString(device.resolve("vendor"), "0x1af4\n");
        Files.writeString(device.resolve("device"), "0x1110\n");
        Files.writeString(device.resolve("resource"),
            "0x00000000fe000000 0x00000000fe0000ff 0x0000000000040200\n" +
            "0x00000000fe001000 0x00000000fe001fff 0x0000000000040200\n" +
            "0x0000000800000000 0x00000008003fffff 0x000000000014220c\n", StandardCharsets.US_ASCII);
        Files.writeString(device.resolve("resource1"), "");
        Files.writeString(device.resolve("resource2"), "");
        Files.writeString(device.resolve("driver_override"), "");
        Files.write(device.resolve("config"), config());
        if (iommuGroup)
        {
            Files.createDirectories(root.resolve("kernel/iommu_groups/4"));
            Files.createSymbolicLink(device.resolve("iommu_group"), root.resolve("kernel/iommu_groups/4"));
        }
        return device;
    }

    private void driver(final Path device, final String name) throws IOException
    {
        final Path driver = Files.createDirectories(root.resolve("bus/drivers").resolve(name));
        Files.createSymbolicLink(device.resolve("driver"), driver);
    }

    private static byte[] config()
    {
        // As QEMU's ivshmem-doorbell shows it: capability list bit in the status, one capability (MSI-X) at 0x40.
        final byte[] config = new byte[256];
        config[0x06] = 0x10;
        config[0x34] = 0x40;
        config[0x40] = 0x11;
        config[0x41] = 0x00;
        return config;
    }
}
