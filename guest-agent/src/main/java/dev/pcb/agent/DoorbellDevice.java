package dev.pcb.agent;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * The {@code ivshmem-doorbell} PCI device behind a control region the agent mapped through sysfs {@code resource2},
 * made ready for {@link DoorbellInterrupts}: bound to {@code vfio-pci}, by the agent itself when nobody else drives
 * the device and the guest allows it (root, the vfio-pci module, an IOMMU group). The kernel's documented way:
 * <pre>
 *   modprobe vfio-pci                                   (when /sys/bus/pci/drivers/vfio-pci is missing)
 *   echo vfio-pci > /sys/bus/pci/devices/BDF/driver_override
 *   echo BDF      > /sys/bus/pci/drivers_probe
 * </pre>
 * The device is the parent directory of that {@code resource2}, so it is the one carrying this agent's control region,
 * never merely the first doorbell device. It must look as QEMU's {@code docs/specs/ivshmem-spec.rst} gives it:
 * vendor {@code 0x1af4}, device {@code 0x1110}, BAR0 the 256-byte register block, BAR1 (the MSI-X table; an
 * {@code ivshmem-plain} device has none) and the MSI-X capability in its config space.
 * <p>
 * A device bound to another driver is left alone: ivshmem has no in-tree kernel driver, so such a binding is the
 * user's (uio, a custom module) and unbinding it could break what they run. Every case in which the agent cannot use
 * interrupts is reported in exactly one line, with what to do, and the agent polls.
 */
final class DoorbellDevice
{
    /** Driver the device must be bound to. */
    static final String VFIO_PCI = "vfio-pci";
    private static final String VENDOR = "0x1af4";
    private static final String DEVICE = "0x1110";
    private static final long REGISTERS_SIZE = 256;
    private static final int PCI_STATUS = 0x06;
    private static final int PCI_STATUS_CAP_LIST = 0x10;
    private static final int PCI_CAPABILITY_LIST = 0x34;
    private static final int PCI_HEADER_LENGTH = 0x40;
    private static final int PCI_CAP_ID_MSIX = 0x11;
    private static final long MODPROBE_TIMEOUT_MS = 10_000;
    private static final long NODE_TIMEOUT_MS = 2_000;
    private static final String DOCS = " (docs/qemu.md, \"Interrupts\")";

    private final Path sysBusPci;
    private final Path devVfio;
    private final int effectiveUid;
    private final List<String> modprobe;
    private final Consumer<String> log;

    /**
     * @param sysBusPci    {@code /sys/bus/pci}: its {@code drivers_probe} and {@code drivers/vfio-pci}.
     * @param devVfio      {@code /dev/vfio}: the group nodes vfio creates.
     * @param effectiveUid the agent's effective uid (0 may bind).
     * @param modprobe     command that loads vfio-pci.
     * @param log          where the one line about a device the agent cannot use goes.
     */
    DoorbellDevice(
        final Path sysBusPci, final Path devVfio, final int effectiveUid, final List<String> modprobe,
        final Consumer<String> log)
    {
        this.sysBusPci = sysBusPci;
        this.devVfio = devVfio;
        this.effectiveUid = effectiveUid;
        this.modprobe = modprobe;
        this.log = log;
    }

    /**
     * This guest's sysfs, the agent's effective uid, {@code modprobe} and standard error.
     *
     * @return the finder.
     */
    static DoorbellDevice system()
    {
        return new DoorbellDevice(Path.of("/sys/bus/pci"), Path.of("/dev/vfio"), effectiveUid(),
            List.of(Files.isExecutable(Path.of("/sbin/modprobe")) ? "/sbin/modprobe" : "modprobe", VFIO_PCI),
            System.err::println);
    }

    /**
     * The doorbell device carrying the control region mapped from {@code resource2}, bound to vfio-pci (binding it when
     * it is unbound and the agent may), or null: not a doorbell device (a plain one or a host file, polled silently as
     * always), or one the agent cannot use, reported in one line.
     *
     * @param resource2 the control region's file, {@code /sys/bus/pci/devices/BDF/resource2} in a guest.
     * @return {@code /sys/bus/pci/devices/BDF}, bound to vfio-pci, or null.
     */
    Path readyForVfio(final Path resource2)
    {
        final Path device = resource2.toAbsolutePath().getParent();
        if (null == device || !isDoorbell(device))
        {
            return null;
        }
        final String address = device.getFileName().toString();
        try
        {
            final String driver = driver(device);
            if (VFIO_PCI.equals(driver))
            {
                return device;
            }
            if (null != driver)
            {
                return cannot(address, "it is bound to " + driver + ", which pcb leaves alone; to use interrupts, " +
                    "as root: echo " + address + " > /sys/bus/pci/drivers/" + driver + "/unbind; echo " + VFIO_PCI +
                    " > /sys/bus/pci/devices/" + address + "/driver_override; echo " + address +
                    " > /sys/bus/pci/drivers_probe");
            }
            if (!Files.isSymbolicLink(device.resolve("iommu_group")))
            {
                return cannot(address, "it has no IOMMU group: vfio-pci needs a virtual IOMMU, start the guest with " +
                    "-machine q35 -device intel-iommu,intremap=on (before the other devices) and boot its kernel " +
                    "with intel_iommu=on");
            }
            if (0 != effectiveUid)
            {
                return cannot(address, "binding it to " + VFIO_PCI + " needs root; run the agent as root once per " +
                    "boot, or bind it at boot: modprobe vfio-pci; echo vfio-pci > /sys/bus/pci/devices/" + address +
                    "/driver_override; echo " + address + " > /sys/bus/pci/drivers_probe");
            }
            final Path drivers = sysBusPci.resolve("drivers").resolve(VFIO_PCI);
            if (!Files.isDirectory(drivers) && !modprobe())
            {
                return cannot(address, "the " + VFIO_PCI + " module does not load (" + String.join(" ", modprobe) +
                    " failed); install the guest kernel's modules or build vfio-pci in");
            }
            return bind(device, address);
        }
        catch (final IOException ex)
        {
            return cannot(address, ex.toString());
        }
    }

    /**
     * Report that the agent polls, in the one line every such case gets.
     *
     * @param address the device.
     * @param why     the reason and what to do.
     * @return null, for the caller to return.
     */
    Path cannot(final String address, final String why)
    {
        log.accept("pcb agent: doorbell device " + address + " gives no interrupts, the agent polls: " + why + DOCS);
        return null;
    }

    private Path bind(final Path device, final String address) throws IOException
    {
        final Path override = device.resolve("driver_override");
        Files.writeString(override, VFIO_PCI + "\n", StandardCharsets.US_ASCII);
        IOException failure = null;
        try
        {
            Files.writeString(sysBusPci.resolve("drivers_probe"), address + "\n", StandardCharsets.US_ASCII);
        }
        catch (final IOException ex)
        {
            failure = ex;
        }
        if (null == failure && VFIO_PCI.equals(driver(device)))
        {
            final Path node = devVfio.resolve(Files.readSymbolicLink(device.resolve("iommu_group")).getFileName());
            final long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(NODE_TIMEOUT_MS);
            while (!Files.exists(node) && System.nanoTime() < deadline && !Thread.currentThread().isInterrupted())
            {
                sleep(10);
            }
            log.accept("pcb agent: bound doorbell device " + address + " to " + VFIO_PCI + " for interrupts " +
                "(it stays bound until reboot or: echo " + address + " > /sys/bus/pci/drivers/" + VFIO_PCI +
                "/unbind)");
            return device;
        }
        // Leave the device as it was: an override left behind would keep any other driver from it.
        Files.writeString(override, "\n", StandardCharsets.US_ASCII);
        return cannot(address, VFIO_PCI + " did not take it" + (null == failure ? "" : " (" + failure + ")") +
            "; see dmesg");
    }

    private boolean modprobe()
    {
        try
        {
            final Process process = new ProcessBuilder(modprobe).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
            if (!process.waitFor(MODPROBE_TIMEOUT_MS, TimeUnit.MILLISECONDS))
            {
                process.destroyForcibly();
                return false;
            }
            return 0 == process.exitValue() && Files.isDirectory(sysBusPci.resolve("drivers").resolve(VFIO_PCI));
        }
        catch (final IOException ex)
        {
            return false;
        }
        catch (final InterruptedException ex)
        {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    /**
     * Whether a sysfs PCI device is an ivshmem-doorbell device: the ids, BAR0 of 256 bytes, BAR1 and, where the
     * config space is readable that far (all of it for root, 64 bytes otherwise), the MSI-X capability.
     */
    static boolean isDoorbell(final Path device)
    {
        try
        {
            if (!VENDOR.equals(read(device.resolve("vendor"))) || !DEVICE.equals(read(device.resolve("device"))) ||
                !Files.exists(device.resolve("resource1")) || REGISTERS_SIZE != bar0Size(device))
            {
                return false;
            }
            final byte[] config = Files.readAllBytes(device.resolve("config"));
            // Past the 64-byte header only root may read the config space: for others the ids and BARs decide.
            return config.length <= PCI_HEADER_LENGTH || hasCapability(config, PCI_CAP_ID_MSIX);
        }
        catch (final IOException | RuntimeException ex)
        {
            return false;
        }
    }

    /**
     * Whether a PCI config space lists a capability; a list that runs past the bytes given or loops says no.
     *
     * @param config the config space, from offset 0.
     * @param id     capability id, e.g. 0x11 (MSI-X).
     * @return true when listed.
     */
    static boolean hasCapability(final byte[] config, final int id)
    {
        if (config.length <= PCI_CAPABILITY_LIST || 0 == (config[PCI_STATUS] & PCI_STATUS_CAP_LIST))
        {
            return false;
        }
        int at = config[PCI_CAPABILITY_LIST] & 0xfc;
        // At most 48 capabilities fit in the 192 bytes after the header: a longer walk is a loop.
        for (int i = 0; i < 48 && at >= PCI_HEADER_LENGTH && at + 1 < config.length; i++)
        {
            if ((config[at] & 0xff) == id)
            {
                return true;
            }
            at = config[at + 1] & 0xfc;
        }
        return false;
    }

    private static long bar0Size(final Path device) throws IOException
    {
        // sysfs "resource": one line per BAR, "0xSTART 0xEND 0xFLAGS".
        final String[] bar0 = Files.readAllLines(device.resolve("resource"), StandardCharsets.US_ASCII).get(0)
            .trim().split("\\s+");
        return Long.decode(bar0[1]) - Long.decode(bar0[0]) + 1;
    }

    private static String driver(final Path device) throws IOException
    {
        final Path link = device.resolve("driver");
        return Files.isSymbolicLink(link) ? Files.readSymbolicLink(link).getFileName().toString() : null;
    }

    private static String read(final Path file) throws IOException
    {
        return Files.readString(file, StandardCharsets.US_ASCII).trim();
    }

    private static int effectiveUid()
    {
        // /proc/self/status "Uid:\treal\teffective\tsaved\tfs"; no native call needed for one number.
        try
        {
            for (final String line : Files.readAllLines(Path.of("/proc/self/status"), StandardCharsets.US_ASCII))
            {
                if (line.startsWith("Uid:"))
                {
                    return Integer.parseInt(line.substring(4).trim().split("\\s+")[1]);
                }
            }
        }
        catch (final IOException | RuntimeException ignore)
        {
            // Unknown: treated as not root, so the agent reports it and polls.
        }
        return -1;
    }

    private static void sleep(final long ms)
    {
        try
        {
            Thread.sleep(ms);
        }
        catch (final InterruptedException ex)
        {
            Thread.currentThread().interrupt();
        }
    }
}
