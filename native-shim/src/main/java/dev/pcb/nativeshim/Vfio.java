package dev.pcb.nativeshim;

import com.sun.jna.Memory;
import com.sun.jna.Native;
import com.sun.jna.NativeLibrary;
import com.sun.jna.Platform;
import com.sun.jna.Pointer;

import java.nio.charset.StandardCharsets;

/**
 * A PCI device bound to {@code vfio-pci}, opened from user space (Linux's {@code include/uapi/linux/vfio.h}): the
 * one stock way a guest process can take MSI-X interrupts, which an {@code ivshmem-doorbell} device delivers only
 * (it has no INTx; {@code uio_pci_generic} gets none). Needs an IOMMU group (a guest with a virtual IOMMU: see
 * docs/qemu.md) and root or access to {@code /dev/vfio/N}.
 * <pre>
 *   open /dev/vfio/vfio (container), /dev/vfio/GROUP; GROUP_SET_CONTAINER; SET_IOMMU(TYPE1); GROUP_GET_DEVICE_FD
 *   struct vfio_region_info (32): argsz | flags | index | cap_offset | u64 size | u64 offset
 *   struct vfio_irq_set + one fd (24): argsz | flags (DATA_EVENTFD | ACTION_TRIGGER) | index | start | count | fd
 * </pre>
 * Only the regions asked for are claimed: a BAR not accessed through vfio stays mappable through sysfs.
 */
public final class Vfio implements AutoCloseable
{
    /** Region index of BAR0. */
    public static final int BAR0 = 0;
    private static final int CONFIG_REGION = 7;
    private static final int MSIX_INDEX = 2;
    private static final long VFIO_TYPE1_IOMMU = 1;
    private static final int GROUP_VIABLE = 1;
    private static final int IRQ_DATA_EVENTFD = 1 << 2;
    private static final int IRQ_ACTION_TRIGGER = 1 << 5;
    private static final int PCI_COMMAND = 4;
    private static final short PCI_COMMAND_MASTER = 4;

    static
    {
        Native.register(Vfio.class, NativeLibrary.getInstance(Platform.C_LIBRARY_NAME));
    }

    private final int container;
    private final int group;
    private final int device;
    private final String address;

    private static native int ioctl(int fd, long request, long argument);

    private static native int ioctl(int fd, long request, byte[] argument);

    private static long io(final int number)
    {
        // _IO(VFIO_TYPE ';', VFIO_BASE 100 + n): no size or direction bits.
        return (';' << 8) | (100 + number);
    }

    private Vfio(final int container, final int group, final int device, final String address)
    {
        this.container = container;
        this.group = group;
        this.device = device;
        this.address = address;
    }

    /**
     * Open a device bound to {@code vfio-pci}.
     *
     * @param address    PCI address, for example {@code 0000:00:02.0}.
     * @param iommuGroup its IOMMU group number (the name of {@code /sys/bus/pci/devices/ADDRESS/iommu_group}'s target).
     * @return the open device.
     * @throws ErrnoException e.g. ENOENT without the group's node, EPERM from SET_IOMMU without interrupt remapping.
     */
    public static Vfio open(final String address, final String iommuGroup) throws ErrnoException
    {
        int container = -1;
        int group = -1;
        try
        {
            container = Linux.openFile("/dev/vfio/vfio", Linux.O_RDWR);
            if (1 != ioctl(container, io(1), VFIO_TYPE1_IOMMU))
            {
                throw new ErrnoException("ioctl", "VFIO_CHECK_EXTENSION(TYPE1)", Errno.EOPNOTSUPP);
            }
            group = Linux.openFile("/dev/vfio/" + iommuGroup, Linux.O_RDWR);
            final Memory status = new Memory(8);
            status.setInt(0, 8);
            status.setInt(4, 0);
            check(ioctl(group, io(3), Pointer.nativeValue(status)), "VFIO_GROUP_GET_STATUS");
            if (0 == (status.getInt(4) & GROUP_VIABLE))
            {
                throw new ErrnoException("ioctl", "VFIO_GROUP_GET_STATUS: group " + iommuGroup +
                    " not viable (bind every device of the group to vfio-pci)", Errno.EBUSY);
            }
            final Memory fd = new Memory(4);
            fd.setInt(0, container);
            check(ioctl(group, io(4), Pointer.nativeValue(fd)), "VFIO_GROUP_SET_CONTAINER");
            check(ioctl(container, io(2), VFIO_TYPE1_IOMMU), "VFIO_SET_IOMMU");
            final byte[] name = (address + '\0').getBytes(StandardCharsets.US_ASCII);
            final int device = ioctl(group, io(6), name);
            check(device, "VFIO_GROUP_GET_DEVICE_FD(" + address + ")");
            return new Vfio(container, group, device, address);
        }
        catch (final ErrnoException | RuntimeException ex)
        {
            if (group >= 0)
            {
                Linux.close(group);
            }
            if (container >= 0)
            {
                Linux.close(container);
            }
            throw ex;
        }
    }

    private static void check(final int result, final String what) throws ErrnoException
    {
        if (result < 0)
        {
            throw new ErrnoException("ioctl", what, Native.getLastError());
        }
    }

    /**
     * Map a region (a BAR) of the device read-write.
     *
     * @param index  region index, e.g. {@link #BAR0}.
     * @param length bytes to map from its start, a multiple of the page size.
     * @return the address; unmap with {@link Linux#munmap}.
     * @throws ErrnoException e.g. EINVAL for a region that cannot be mapped.
     */
    public long map(final int index, final long length) throws ErrnoException
    {
        return Linux.mmap(device, length, true, regionOffset(index));
    }

    /**
     * Set Bus Master in the device's PCI command register: without it the device's MSI-X writes never leave it.
     *
     * @throws ErrnoException when the config region cannot be read or written.
     */
    public void enableBusMaster() throws ErrnoException
    {
        final long config = regionOffset(CONFIG_REGION) + PCI_COMMAND;
        final Memory command = new Memory(2);
        if (2 != LibC.pread(device, Pointer.nativeValue(command), 2, config))
        {
            throw new ErrnoException("pread", address + " PCI command", Native.getLastError());
        }
        command.setShort(0, (short)(command.getShort(0) | PCI_COMMAND_MASTER));
        if (2 != LibC.pwrite(device, Pointer.nativeValue(command), 2, config))
        {
            throw new ErrnoException("pwrite", address + " PCI command", Native.getLastError());
        }
    }

    /**
     * Route MSI-X vector 0 of the device to an eventfd: each interrupt adds 1 to it. Enables MSI-X.
     *
     * @param eventFd from {@link EventFd#create()}.
     * @throws ErrnoException e.g. EINVAL when the device has no MSI-X.
     */
    public void msixToEventFd(final int eventFd) throws ErrnoException
    {
        final Memory set = new Memory(24);
        set.setInt(0, 24);
        set.setInt(4, IRQ_DATA_EVENTFD | IRQ_ACTION_TRIGGER);
        set.setInt(8, MSIX_INDEX);
        set.setInt(12, 0);
        set.setInt(16, 1);
        set.setInt(20, eventFd);
        check(ioctl(device, io(10), Pointer.nativeValue(set)), "VFIO_DEVICE_SET_IRQS(MSI-X 0)");
    }

    private long regionOffset(final int index) throws ErrnoException
    {
        final Memory info = new Memory(32);
        info.clear();
        info.setInt(0, 32);
        info.setInt(8, index);
        check(ioctl(device, io(8), Pointer.nativeValue(info)), "VFIO_DEVICE_GET_REGION_INFO(" + index + ")");
        return info.getLong(24);
    }

    /** {@inheritDoc} */
    public void close()
    {
        // Closing the device fd disables its interrupts and releases the BARs it claimed.
        Linux.close(device);
        Linux.close(group);
        Linux.close(container);
    }
}
