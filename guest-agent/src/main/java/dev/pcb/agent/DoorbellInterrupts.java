package dev.pcb.agent;

import dev.pcb.layout.Doorbell;
import dev.pcb.nativeshim.ErrnoException;
import dev.pcb.nativeshim.EventFd;
import dev.pcb.nativeshim.Linux;
import dev.pcb.nativeshim.Vfio;
import com.sun.jna.Memory;
import org.agrona.concurrent.AtomicBuffer;
import org.agrona.concurrent.UnsafeBuffer;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The guest's side of a control region attached as {@code ivshmem-doorbell} ({@code pcb broker --doorbell}): rings
 * the broker through the device's doorbell register and waits for the broker's interrupts, through {@code vfio-pci}
 * (the device has MSI-X only; see docs/qemu.md for the guest it needs: a virtual IOMMU; {@link DoorbellDevice} binds
 * vfio-pci).
 * <pre>
 *   BAR0 (256 bytes, mapped through vfio): 0 mask | 4 status | 8 IVPosition (our peer id) | 12 doorbell: peer << 16 | vector
 *   ring: Doorbell.ring(header) (the host agents' protocol), then store (0 << 16 | 0) at 12: peer 0 is the broker
 *   wait: MSI-X vector 0 --vfio--> eventfd; poll(2) on it (each waiting thread with its own arguments), then drain
 * </pre>
 * BAR2, the region itself, is mapped through sysfs {@code resource2} as for any device: vfio claims only BAR0 here.
 * A guest without vfio (or without the doorbell device) has no such object and polls.
 */
final class DoorbellInterrupts implements AutoCloseable
{
    /** Driver the device must be bound to. */
    public static final String DRIVER = DoorbellDevice.VFIO_PCI;
    private static final int DOORBELL_OFFSET = 12;
    private static final int BROKER_PEER = 0;
    private static final long BAR0_MAP_LENGTH = 4096;

    private final Vfio vfio;
    private final long bar0Address;
    private final UnsafeBuffer bar0;
    private final int eventFd;
    // The agent's callers wait on their own threads: each gets its own poll arguments (allocated once per thread).
    private final ThreadLocal<Waiter> waiters;

    private DoorbellInterrupts(final Vfio vfio, final long bar0Address, final int eventFd)
    {
        this.vfio = vfio;
        this.bar0Address = bar0Address;
        this.bar0 = new UnsafeBuffer(bar0Address, (int)BAR0_MAP_LENGTH);
        this.eventFd = eventFd;
        this.waiters = ThreadLocal.withInitial(() -> new Waiter(eventFd));
    }

    /**
     * The doorbell device of a control region found at a sysfs {@code resource2}, when it is one: bound to
     * {@link #DRIVER} by the agent if nobody else drives it and the guest allows it ({@link DoorbellDevice}), then
     * opened. Else null, and the agent polls; a doorbell device it cannot use (no IOMMU, not root, no vfio-pci, another
     * driver, an open that fails) is reported in one line on standard error: interrupts are an optimisation, never a
     * requirement.
     *
     * @param resource2 the control region's BAR2 file, {@code /sys/bus/pci/devices/ADDRESS/resource2}.
     * @return the opened device, or null.
     */
    static DoorbellInterrupts forControlRegion(final Path resource2)
    {
        final DoorbellDevice finder = DoorbellDevice.system();
        final Path device = finder.readyForVfio(resource2);
        if (null == device)
        {
            return null;
        }
        try
        {
            return open(device);
        }
        catch (final IOException | RuntimeException ex)
        {
            finder.cannot(device.getFileName().toString(), "vfio refused it: " + ex.getMessage());
            return null;
        }
    }

    /**
     * Open a doorbell device bound to {@link #DRIVER}.
     *
     * @param sysfsDevice {@code /sys/bus/pci/devices/ADDRESS}.
     * @return the device, its interrupt routed to this process.
     * @throws IOException when it is not bound to vfio-pci, has no IOMMU group, or vfio refuses it.
     */
    public static DoorbellInterrupts open(final Path sysfsDevice) throws IOException
    {
        final Path driver = sysfsDevice.resolve("driver");
        if (!Files.isSymbolicLink(driver) || !DRIVER.equals(Files.readSymbolicLink(driver).getFileName().toString()))
        {
            throw new IOException(sysfsDevice + " is not bound to " + DRIVER + ": no interrupts, the agent polls");
        }
        final Path group = sysfsDevice.resolve("iommu_group");
        if (!Files.isSymbolicLink(group))
        {
            throw new IOException(sysfsDevice + " has no IOMMU group: vfio needs a (virtual) IOMMU, see docs/qemu.md");
        }
        final Vfio vfio = Vfio.open(sysfsDevice.getFileName().toString(),
            Files.readSymbolicLink(group).getFileName().toString());
        int eventFd = -1;
        long bar0 = 0;
        try
        {
            bar0 = vfio.map(Vfio.BAR0, BAR0_MAP_LENGTH);
            vfio.enableBusMaster();
            eventFd = EventFd.create();
            vfio.msixToEventFd(eventFd);
            return new DoorbellInterrupts(vfio, bar0, eventFd);
        }
        catch (final ErrnoException | RuntimeException ex)
        {
            if (eventFd >= 0)
            {
                Linux.close(eventFd);
            }
            if (0 != bar0)
            {
                Linux.munmap(bar0, BAR0_MAP_LENGTH);
            }
            vfio.close();
            throw ex;
        }
    }

    /**
     * After publishing a request or claim: wake the broker if it sleeps, as a host agent does with a futex.
     *
     * @param header the control region's header.
     * @return true when the broker slept and was rung.
     */
    public boolean ring(final AtomicBuffer header)
    {
        if (!Doorbell.ring(header))
        {
            return false;
        }
        bar0.putIntVolatile(DOORBELL_OFFSET, BROKER_PEER << 16);
        return true;
    }

    /**
     * Block the calling thread until an interrupt or the timeout, from any thread. Several threads waiting at once
     * may see one interrupt between them (the first drains it); the others return at their timeout and look again.
     *
     * @param timeoutMs longest wait.
     * @return true when an interrupt came.
     */
    boolean awaitInterrupt(final int timeoutMs)
    {
        return waiters.get().await(timeoutMs);
    }

    private static final class Waiter
    {
        private final int eventFd;
        private final EventFd.Poller poller = new EventFd.Poller(1);
        private final Memory scratch = new Memory(8);

        Waiter(final int eventFd)
        {
            this.eventFd = eventFd;
            poller.fd(0, eventFd);
        }

        boolean await(final int timeoutMs)
        {
            try
            {
                return poller.await(timeoutMs) > 0 && EventFd.drain(eventFd, scratch) > 0;
            }
            catch (final ErrnoException ex)
            {
                // Closed under us (the agent is closing): the caller's loop looks at its ring and its deadline.
                return false;
            }
        }
    }

    /** {@inheritDoc} */
    public void close()
    {
        try
        {
            Linux.munmap(bar0Address, BAR0_MAP_LENGTH);
        }
        catch (final ErrnoException ignore)
        {
            // The mapping goes with the process anyway.
        }
        Linux.close(eventFd);
        vfio.close();
    }
}
