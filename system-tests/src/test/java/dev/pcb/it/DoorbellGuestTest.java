package dev.pcb.it;

import dev.pcb.layout.CounterType;
import dev.pcb.layout.CountersSnapshot;
import dev.pcb.testsupport.BrokerProcess;
import dev.pcb.testsupport.FileTrees;
import dev.pcb.testsupport.JavaProcess;
import dev.pcb.testsupport.PcbCommand;
import dev.pcb.testsupport.TestShare;
import dev.pcb.testsupport.qemu.QemuArgs;
import dev.pcb.testsupport.qemu.QemuGuest;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code pcb broker --doorbell}: the broker is the ivshmem server of the guest's control region, and each guest boots
 * with exactly the words {@code pcb qemu-args} prints (the control region as {@code ivshmem-doorbell} on the broker's
 * socket, the data region {@code ivshmem-plain}).
 * <ul>
 *   <li>No driver bound (any guest): the real {@code pcb agent} lists the share through the region QEMU got from the
 *   socket, polling as before, and three 32-bit writes to the doorbell register (BAR0 offset 12, peer 0 = the broker,
 *   vector 0, busybox {@code devmem}) wake the broker's server, which counts them. The agent said in one line why it
 *   polls (no IOMMU group).</li>
 *   <li>A q35 guest with {@code intel-iommu}, no driver bound: the agent loads vfio-pci and binds the device itself
 *   (sysfs {@code driver_override} + {@code drivers_probe}), rings the broker awake through the register
 *   and waits for its answers on interrupts ({@link GuestDoorbellProbe}); while it idles attached the broker sleeps
 *   (under 2% of a core), and the guest kernel's count of the device's interrupts is checked against the broker's.</li>
 * </ul>
 * Both tests together took 96-166 s here under TCG while other builds loaded the machine.
 */
final class DoorbellGuestTest
{
    private static final Duration GUEST_TIMEOUT = Duration.ofSeconds(150);
    private static final String SHARE = "data";
    private static final int RINGS = 3;

    private Path shareDir;
    private Path runDir;
    private BrokerProcess broker;
    private QemuGuest guest;

    @BeforeEach
    void setUp()
    {
        assertTrue(QemuGuest.findOnPath(QemuGuest.DEFAULT_QEMU).isPresent(),
            QemuGuest.DEFAULT_QEMU + " is not on the PATH: this test needs QEMU " +
            "(apt-get install qemu-system-x86 busybox-static linux-image-amd64)");
        final String unique = ProcessHandle.current().pid() + "-" + System.nanoTime();
        shareDir = pcbHome().resolve("qemu-doorbell").resolve("share-" + unique);
        // A comma: the socket path in -chardev must be escaped as the file paths are.
        runDir = Path.of("/dev/shm", "pcb-bell,qemu-" + unique);
    }

    @AfterEach
    void tearDown() throws Exception
    {
        if (null != guest)
        {
            guest.close();
        }
        if (null != broker)
        {
            broker.close();
        }
        FileTrees.delete(runDir);
        FileTrees.delete(shareDir);
    }

    @Test
    @Timeout(value = 200, unit = TimeUnit.SECONDS)
    void theGuestReadsThroughTheServedControlRegionAndItsDoorbellWakesTheBroker() throws Exception
    {
        final TestShare share = TestShare.create(shareDir);
        broker = BrokerProcess.start(runDir, "--share", SHARE + "=" + shareDir, "--guest", "vm1", "--doorbell",
            "--region-size", "4m", "--window-size", "64k");

        final String line = qemuArgs("vm1");
        assertTrue(line.contains("ivshmem-doorbell,id=pcb-guest-vm1-dev,chardev=pcb-guest-vm1,vectors=1"), line);
        assertTrue(line.contains("socket,id=pcb-guest-vm1,path=") && line.contains("pcb-bell,,qemu-") &&
            line.contains("guest-vm1.sock"), line);
        assertTrue(line.contains("ivshmem-plain,id=pcb-share-data-dev") && !line.contains("guest-vm1.ctl"),
            "data region plain, control region only through the socket: " + line);
        assertTrue(broker.output().contains(line), "pcb broker printed another line:\n" + broker.output());
        assertEquals(0, counters().value(CounterType.GUEST_DOORBELL_WAKEUPS, "vm1"));

        guest = QemuGuest.builder()
            .name("vm1")
            .cacheDir(pcbHome().resolve("qemu"))
            .memoryMiB(512)
            .qemuArgs(QemuEndToEndTest.shellWords(line).toArray(new String[0]))
            .script(guestScript())
            .consoleListener((text) -> System.out.println("[vm1] " + text))
            .build();
        guest.start();
        final QemuGuest.Result result = guest.waitFor(GUEST_TIMEOUT);
        final String console = result.console();
        assertTrue(result.succeeded(), "guest script failed (" + result.scriptExitStatus() + "):\n" + console);

        assertTrue(console.contains("PCB-BELL-DEVICE "), "no ivshmem device with an MSI-X BAR:\n" + console);
        // No IOMMU in this guest: the agent polls and says why, once per run, in one line.
        final String why = "gives no interrupts, the agent polls: it has no IOMMU group";
        assertEquals(1, console.split(java.util.regex.Pattern.quote(why), -1).length - 1,
            "the agent's line about polling:\n" + console);
        for (final String name : share.files().keySet())
        {
            if (!name.contains("/"))
            {
                assertTrue(console.contains(name), "pcb agent ls did not list " + name + ":\n" + console);
            }
        }
        final CountersSnapshot after = PcbCommand.awaitCounters(runDir,
            (c) -> c.value(CounterType.GUEST_DOORBELL_WAKEUPS, "vm1") >= 1);
        final long wakeups = after.value(CounterType.GUEST_DOORBELL_WAKEUPS, "vm1");
        // Rings a second apart usually wake it once each; a delayed server reads two rings as one.
        assertTrue(wakeups >= 1 && wakeups <= RINGS, "doorbell wakeups " + wakeups + " for " + RINGS + " rings");
        assertTrue(after.value(CounterType.GUEST_INTERRUPTS, "vm1") >= 1,
            "the broker answered the agent, so it interrupted the guest");
        assertTrue(broker.process().isAlive(), "broker died:\n" + broker.output());
    }

    @Test
    @Timeout(value = 240, unit = TimeUnit.SECONDS)
    void theAgentRingsTheBrokerAwakeAndWaitsForItsInterruptsWhileTheBrokerSleeps() throws Exception
    {
        TestShare.create(shareDir);
        broker = BrokerProcess.start(runDir, "--share", SHARE + "=" + shareDir, "--guest", "vm1", "--doorbell",
            "--region-size", "4m", "--window-size", "64k");
        final String line = qemuArgs("vm1");

        final Path jar = QemuGuest.visibleInGuest(pcbHome().resolve("pcb.jar"));
        final Path lib = QemuGuest.visibleInGuest(pcbHome().resolve("lib"));
        final List<String> java = new ArrayList<>();
        java.add(QemuGuest.hostJava().toString());
        java.addAll(JavaProcess.jvmFlags());
        java.add("-XX:TieredStopAtLevel=1");
        java.add("-XX:+UseSerialGC");
        final CountDownLatch idle = new CountDownLatch(1);
        guest = QemuGuest.builder()
            .name("vm1")
            .cacheDir(pcbHome().resolve("qemu"))
            .memoryMiB(512)
            // vfio-pci needs an IOMMU in the guest (Debian's kernel has no vfio no-IOMMU mode); intremap=on, else
            // VFIO_SET_IOMMU refuses with EPERM. The IOMMU must come before the devices it translates.
            .earlyQemuArgs("-machine", "q35", "-device", "intel-iommu,intremap=on")
            .kernelArgs(QemuGuest.DEFAULT_KERNEL_ARGS + " intel_iommu=on")
            .qemuArgs(QemuEndToEndTest.shellWords(line).toArray(new String[0]))
            // No driver bound and vfio-pci not loaded: the agent loads and binds it itself.
            .script("cd /tmp\n" + findBell() +
                "[ -e $bell/driver ] && exit 13 || true\n" +
                QemuArgs.render(java) + " -cp " +
                QemuArgs.shellQuote(testClasses() + ":" + jar + ":" + lib + "/*") + " " +
                GuestDoorbellProbe.class.getName() + " " + SHARE + " || exit 15\n" +
                "echo \"PCB-BELL-DRIVER $(readlink $bell/driver)\"\n")
            .consoleListener((text) ->
            {
                System.out.println("[vm1] " + text);
                if (text.contains(GuestDoorbellProbe.IDLE))
                {
                    idle.countDown();
                }
            })
            .build();
        guest.start();

        // While the guest's agent is attached and idle, the broker must sleep: a polling one stays above 2% of a
        // core in every window (3.6-5.4% here); the first window may still hold the guest's last requests.
        assertTrue(idle.await(180, TimeUnit.SECONDS), "the guest never reached its idle phase:\n" + guest.console());
        final StringBuilder windows = new StringBuilder();
        boolean slept = false;
        for (int i = 0; i < 3 && !slept; i++)
        {
            final long ticksBefore = broker.cpuTicks();
            final long t0 = System.nanoTime();
            Thread.sleep(3_000);
            final double seconds = (System.nanoTime() - t0) / 1e9;
            final double fraction = (broker.cpuTicks() - ticksBefore) / 100.0 / seconds;
            windows.append(String.format(" %.2f%% of a core in %.2f s;", 100 * fraction, seconds));
            slept = fraction < 0.02;
        }

        System.out.println("broker CPU while the guest idled:" + windows);
        final QemuGuest.Result result = guest.waitFor(Duration.ofSeconds(120));
        final String console = result.console();
        assertTrue(result.succeeded(), "guest script failed (" + result.scriptExitStatus() + "):\n" + console);
        assertTrue(console.contains("PCB-BELL-DRIVER ../../../bus/pci/drivers/vfio-pci"), console);
        assertTrue(console.contains("pcb agent: bound doorbell device ") &&
            console.contains(" to vfio-pci for interrupts"), "the agent did not say it bound the device:\n" + console);
        assertTrue(slept, "the broker did not sleep while the guest's agent idled:" + windows + " threads: " +
            broker.threadCpuTicks());

        final long guestInterrupts = probeValue(console, "irq");
        assertEquals(probeValue(console, "irq-before-idle"), probeValue(console, "irq-after-idle"),
            "an idle agent gets no answers, so no interrupts");
        final CountersSnapshot after = PcbCommand.awaitCounters(runDir,
            (c) -> c.value(CounterType.GUEST_DOORBELL_WAKEUPS, "vm1") >= 1);
        final long sent = after.value(CounterType.GUEST_INTERRUPTS, "vm1");
        // Every cycle that answered the guest raised one; the guest kernel counts those it took (close ones merge).
        assertTrue(guestInterrupts >= GuestDoorbellProbe.REQUESTS && guestInterrupts <= sent,
            "guest took " + guestInterrupts + " interrupts for " + 2 * GuestDoorbellProbe.REQUESTS + " STATs, " +
            "broker sent " + sent);
        assertTrue(after.value(CounterType.GUEST_DOORBELL_WAKEUPS, "vm1") >= 1, "the agent's rings never woke it");
        assertTrue(broker.process().isAlive(), "broker died:\n" + broker.output());
    }

    private static long probeValue(final String console, final String key)
    {
        final java.util.regex.Matcher m = java.util.regex.Pattern.compile(
            java.util.regex.Pattern.quote(GuestDoorbellProbe.PREFIX + key + " ") + "(\\d+)").matcher(console);
        assertTrue(m.find(), "no " + key + " in the console:\n" + console);
        return Long.parseLong(m.group(1));
    }

    private static String findBell()
    {
        // The doorbell device is the ivshmem device with BAR1 (its MSI-X table); ivshmem-plain has none.
        return "bell=\n" +
            "for d in /sys/bus/pci/devices/*; do\n" +
            "  if [ \"$(cat $d/vendor)\" = 0x1af4 ] && [ \"$(cat $d/device)\" = 0x1110 ] && [ -e $d/resource1 ]; " +
            "then bell=$d; fi\n" +
            "done\n" +
            "[ -n \"$bell\" ] || exit 10\n";
    }

    private static Path testClasses()
    {
        try
        {
            return QemuGuest.visibleInGuest(Path.of(
                GuestDoorbellProbe.class.getProtectionDomain().getCodeSource().getLocation().toURI()));
        }
        catch (final java.net.URISyntaxException ex)
        {
            throw new IllegalStateException(ex);
        }
    }

    private String guestScript()
    {
        final Path jar = QemuGuest.visibleInGuest(pcbHome().resolve("pcb.jar"));
        final Path lib = QemuGuest.visibleInGuest(pcbHome().resolve("lib"));
        final List<String> java = new ArrayList<>();
        java.add(QemuGuest.hostJava().toString());
        java.addAll(JavaProcess.jvmFlags());
        java.add("-XX:TieredStopAtLevel=1");
        java.add("-XX:+UseSerialGC");
        return "cd /tmp\n" + findBell() +
            "bar0=$(head -1 $bell/resource | cut -d' ' -f1)\n" +
            "echo \"PCB-BELL-DEVICE $bell $bar0\"\n" +
            QemuArgs.render(java) + " -cp " + QemuArgs.shellQuote(jar + ":" + lib + "/*") +
            " dev.pcb.cli.Pcb agent ls -l " + SHARE + "/ || exit 11\n" +
            "for i in $(seq " + RINGS + "); do\n" +
            "  busybox devmem $((bar0 + 12)) 32 0 || exit 12\n" +
            "  echo PCB-BELL-RUNG $i; sleep 1\n" +
            "done\n";
    }

    private String qemuArgs(final String name) throws IOException, InterruptedException
    {
        final Process process = JavaProcess.pcb("qemu-args", "--run-dir", runDir.toString(), "--guest", name)
            .redirectErrorStream(true).start();
        final String out = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(process.waitFor(60, TimeUnit.SECONDS), "pcb qemu-args hangs");
        assertEquals(0, process.exitValue(), out);
        return out.trim();
    }

    private CountersSnapshot counters() throws Exception
    {
        return PcbCommand.awaitCounters(runDir, (c) -> true);
    }

    private static Path pcbHome()
    {
        return Path.of(System.getProperty("pcb.home", "target")).toAbsolutePath();
    }
}
