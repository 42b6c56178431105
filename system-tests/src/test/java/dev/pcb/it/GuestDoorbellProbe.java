package dev.pcb.it;

import dev.pcb.agent.AgentConfig;
import dev.pcb.agent.PcbAgent;
import dev.pcb.testsupport.qemu.DoorbellGuestSetup;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

/**
 * Runs inside a {@link DoorbellGuestTest} guest, as root, with the control region's {@code ivshmem-doorbell} device
 * unbound: the real agent binds it to vfio-pci, rings the broker through the doorbell register and waits for its
 * answers on interrupts: {@link #REQUESTS} STATs, then attached and idle until the host, which measures the broker's
 * CPU meanwhile (it should sleep), creates the file named by the second argument (seen over the host root), at most
 * {@link #IDLE_MS}; then {@link #REQUESTS} STATs again. Prints {@code PCB-PROBE ...} lines, the last the
 * guest kernel's count of the device's MSI-X interrupts ({@code /proc/interrupts}, line {@code vfio-msix[0]}).
 */
public final class GuestDoorbellProbe
{
    /** Prefix of every line this prints. */
    public static final String PREFIX = "PCB-PROBE ";
    /** Printed when the idle phase starts. */
    public static final String IDLE = PREFIX + "idle";
    static final int REQUESTS = 5;
    /** The longest idle phase, when the host never says it is done measuring. */
    static final long IDLE_MS = 30_000;

    private GuestDoorbellProbe()
    {
    }

    /**
     * @param args the share to STAT, and the file whose existence ends the idle phase.
     * @throws Exception on any failure: the guest script reports the status.
     */
    public static void main(final String[] args) throws Exception
    {
        final String share = args[0];
        final Path idleDone = Path.of(args[1]);
        try (PcbAgent agent = PcbAgent.attach(new AgentConfig().connectTimeout(Duration.ofSeconds(60))))
        {
            for (int i = 0; i < REQUESTS; i++)
            {
                agent.stat(share);
            }
            System.out.println(PREFIX + "irq-before-idle " + DoorbellGuestSetup.msixInterrupts());
            System.out.println(IDLE);
            // Polling the host's file over virtio-9p costs the broker nothing: QEMU serves it.
            final long idleDeadline = System.nanoTime() + IDLE_MS * 1_000_000L;
            while (!Files.exists(idleDone) && System.nanoTime() - idleDeadline < 0)
            {
                Thread.sleep(100);
            }
            System.out.println(PREFIX + "irq-after-idle " + DoorbellGuestSetup.msixInterrupts());
            for (int i = 0; i < REQUESTS; i++)
            {
                agent.stat(share);
            }
            System.out.println(PREFIX + "irq " + DoorbellGuestSetup.msixInterrupts());
        }
    }

}
