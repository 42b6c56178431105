package dev.pcb.it;

import dev.pcb.agent.AgentConfig;
import dev.pcb.agent.DoorbellInterrupts;
import dev.pcb.agent.PcbAgent;
import dev.pcb.layout.ControlRegionDescriptor;
import dev.pcb.nativeshim.MappedRegion;
import org.agrona.concurrent.UnsafeBuffer;

import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Runs inside a {@link DoorbellGuestTest} guest, as root, with the control region's {@code ivshmem-doorbell} device
 * bound to vfio-pci: a thread blocks in {@link DoorbellInterrupts#await} and counts the broker's interrupts while the
 * real agent (polling) asks the broker {@link #REQUESTS} STATs; then, with the agent gone and the broker asleep, it
 * rings the doorbell {@link #RINGS} times a second apart through {@link DoorbellInterrupts#ring}, which rings only
 * when the broker's sleeping flag is up.
 * <p>
 * Prints {@code PCB-PROBE key value} lines; exit status 0 when it got interrupts and found the broker asleep.
 */
public final class GuestDoorbellProbe
{
    /** Prefix of every line this prints. */
    public static final String PREFIX = "PCB-PROBE ";
    static final int REQUESTS = 5;
    static final int RINGS = 3;

    private GuestDoorbellProbe()
    {
    }

    /**
     * @param args the doorbell device's sysfs directory, then the share to STAT.
     * @throws Exception on any failure: the guest script reports the status.
     */
    public static void main(final String[] args) throws Exception
    {
        final Path device = Path.of(args[0]);
        final String share = args[1];
        try (DoorbellInterrupts bell = DoorbellInterrupts.open(device);
            MappedRegion control = MappedRegion.map(device.resolve("resource2"), true))
        {
            System.out.println(PREFIX + "peer " + bell.peerId());
            final AtomicBoolean stop = new AtomicBoolean();
            final AtomicLong wakes = new AtomicLong();
            final Thread waiter = new Thread(() ->
            {
                try
                {
                    while (!stop.get())
                    {
                        if (bell.await(200) > 0)
                        {
                            wakes.incrementAndGet();
                        }
                    }
                }
                catch (final Exception ex)
                {
                    ex.printStackTrace();
                }
            }, "doorbell-waiter");
            waiter.start();

            try (PcbAgent agent = PcbAgent.attach(new AgentConfig().connectTimeout(Duration.ofSeconds(60))))
            {
                for (int i = 0; i < REQUESTS; i++)
                {
                    agent.stat(share);
                    Thread.sleep(300);
                }
            }
            Thread.sleep(1_000);
            stop.set(true);
            waiter.join(10_000);
            System.out.println(PREFIX + "interrupts " + bell.interrupts());
            System.out.println(PREFIX + "woken-waits " + wakes.get());

            // Nothing attached now: the broker sleeps once idle for 20 ms. Each ring finds its sleeping flag up.
            final UnsafeBuffer header = new UnsafeBuffer(control.address(), ControlRegionDescriptor.HEADER_LENGTH);
            int asleep = 0;
            for (int i = 0; i < RINGS; i++)
            {
                Thread.sleep(1_000);
                if (bell.ring(header))
                {
                    asleep++;
                }
            }
            System.out.println(PREFIX + "asleep-rings " + asleep);
            System.exit(bell.interrupts() > 0 && asleep > 0 ? 0 : 1);
        }
    }
}
