package dev.pcb.bench;

import dev.pcb.agent.AgentConfig;
import dev.pcb.agent.PcbAgent;
import dev.pcb.agent.PcbFile;
import dev.pcb.testsupport.qemu.DoorbellGuestSetup;

import java.io.BufferedReader;
import java.io.FileInputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Locale;

/**
 * Runs inside a {@link GuestIdleCompare} guest: the real agent, attached through the guest's PCI devices and
 * retaining no windows (every acquire is a round trip to the broker), driven by commands the host writes to a second
 * serial port (a raw {@code /dev/ttyS1}: a blocking read costs the guest nothing while it waits). Answers are
 * {@code PCB-GI ...} lines on standard output (the console), timed with the guest's own clock:
 * <ul>
 *     <li>{@code one MS}: sleep MS ms, then one acquire+release of window 0; answers
 *     {@code PCB-GI one MS OVERSLEEP_US LATENCY_US IRQS}: how much longer than MS the guest's clock says the sleep
 *     took (its timer wake-up), the acquire+release, and the MSI-X interrupts the guest kernel took from the sleep's start to {@link #IRQ_GRACE_MS} after the
 *     answer;</li>
 *     <li>{@code idle MS}: sleep MS ms attached and idle; answers {@code PCB-GI idle SECONDS AGENT_TICKS GUEST_TICKS}:
 *     this JVM's CPU and the whole guest's busy CPU ({@code /proc/stat}) in that time, in ticks of 1/100 s;</li>
 *     <li>{@code quit}: detach and exit.</li>
 * </ul>
 * <pre>
 * GuestIdleProbe COMMAND-TTY PATH
 * </pre>
 */
public final class GuestIdleProbe
{
    /** Prefix of every answer. */
    public static final String PREFIX = "PCB-GI ";
    /** Printed once attached and warmed up. */
    public static final String READY = PREFIX + "ready";
    /** How long after a timed request its MSI-X interrupts are still counted for it. */
    public static final long IRQ_GRACE_MS = 200;
    private static final int WARM_UP_PAIRS = 2_000;

    private GuestIdleProbe()
    {
    }

    /**
     * Attach, open the file, warm up, print {@link #READY}, then answer commands until {@code quit} or the end.
     *
     * @param args the command tty and the share path of the file.
     * @throws Exception when the agent fails: the guest script reports the status.
     */
    public static void main(final String[] args) throws Exception
    {
        try (PcbAgent agent = PcbAgent.attach(new AgentConfig().connectTimeout(Duration.ofSeconds(60))
                .retainedWindows(0));
            PcbFile file = agent.open(args[1]);
            BufferedReader in = new BufferedReader(new InputStreamReader(new FileInputStream(args[0]),
                StandardCharsets.US_ASCII)))
        {
            // C1 compiles the acquire path before the first timed request, and each command runs once untimed: without
            // that the first idle window held about 1 s of the guest JVM's CPU (first use of its code, under TCG).
            for (int i = 0; i < WARM_UP_PAIRS; i++)
            {
                file.acquire(0).close();
            }
            one(file, 1);
            idle(100);
            System.out.println(READY);
            System.out.flush();
            String line;
            while (null != (line = in.readLine()))
            {
                final String[] words = line.trim().split("\\s+");
                if ("one".equals(words[0]))
                {
                    System.out.println(PREFIX + one(file, Long.parseLong(words[1])));
                }
                else if ("idle".equals(words[0]))
                {
                    System.out.println(PREFIX + idle(Long.parseLong(words[1])));
                }
                else if ("quit".equals(words[0]))
                {
                    break;
                }
                else if (!line.isBlank())
                {
                    System.out.println(PREFIX + "error unknown command " + line);
                }
                System.out.flush();
            }
        }
        System.out.println(PREFIX + "done");
        System.out.flush();
    }

    /** Sleep, then one timed acquire+release: "one MS OVERSLEEP_US LATENCY_US IRQS". */
    private static String one(final PcbFile file, final long ms) throws Exception
    {
        final long irq0 = DoorbellGuestSetup.msixInterrupts();
        final long t0 = System.nanoTime();
        Thread.sleep(ms);
        final long t1 = System.nanoTime();
        file.acquire(0).close();
        final long t2 = System.nanoTime();
        // The broker's interrupt may land after the answer was seen (the agent spins first).
        Thread.sleep(IRQ_GRACE_MS);
        return "one " + ms + " " + ((t1 - t0) / 1_000 - ms * 1_000) + " " + (t2 - t1) / 1_000 + " " +
            (DoorbellGuestSetup.msixInterrupts() - irq0);
    }

    /** Sleep attached and idle: "idle SECONDS AGENT_TICKS GUEST_TICKS". */
    private static String idle(final long ms) throws Exception
    {
        final long pid = ProcessHandle.current().pid();
        final long agent0 = CpuTicks.process(pid);
        final long guest0 = CpuTicks.machineBusy();
        final long t0 = System.nanoTime();
        Thread.sleep(ms);
        final double seconds = (System.nanoTime() - t0) / 1e9;
        return "idle " + String.format(Locale.ROOT, "%.2f", seconds) + " " + (CpuTicks.process(pid) - agent0) + " " +
            (CpuTicks.machineBusy() - guest0);
    }
}
