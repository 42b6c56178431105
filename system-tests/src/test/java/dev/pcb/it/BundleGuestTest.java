package dev.pcb.it;

import dev.pcb.testsupport.TestShare;
import dev.pcb.testsupport.BrokerProcess;
import dev.pcb.broker.Broker;
import dev.pcb.testsupport.FileTrees;
import dev.pcb.cli.QemuArgsCommand;
import dev.pcb.testsupport.qemu.IvshmemRegion;
import dev.pcb.testsupport.qemu.QemuArgs;
import dev.pcb.testsupport.qemu.QemuGuest;
import dev.pcb.layout.RunDirectory;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A guest as an operator's guest is: its only files are an initramfs with busybox, the guest kernel's fuse module,
 * the release bundle and the libraries the bundle's runtime links against; no virtio-9p device, no host root, no host
 * {@code java}. Its console shows its PCI devices and mounts; the bundle's {@code pcb agent} hashes a share served by
 * a broker on the host, and the host compares.
 */
final class BundleGuestTest
{
    private static final Duration GUEST_TIMEOUT = Duration.ofSeconds(150);
    private static final String SHARE = "s";
    private static final String GUEST = "bg1";
    private static final Pattern PCI = Pattern.compile("PCB-BG-PCI (\\S+) (0x[0-9a-f]{4}) (0x[0-9a-f]{4})");
    private static final Pattern SHA = Pattern.compile("PCB-BG-SHA ([0-9a-f]{64})\\s+(\\S+)");

    private Path work;
    private BrokerProcess broker;
    private QemuGuest guest;

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
        if (null != work)
        {
            FileTrees.delete(work);
        }
    }

    @Test
    @Timeout(value = 240, unit = TimeUnit.SECONDS)
    void aGuestWithOnlyTheBundleReadsTheShareThroughPcb() throws Exception
    {
        final Path home = Path.of(System.getProperty("pcb.home", "target")).toAbsolutePath();
        work = home.resolve("bundle-guest-" + ProcessHandle.current().pid() + "-" + System.nanoTime());
        final TestShare share = TestShare.create(work.resolve("share"));
        final Path runDir = BrokerProcess.newRunDir("bundle-guest");
        broker = BrokerProcess.start(runDir, "--share", SHARE + "=" + share.root(), "--guest", GUEST,
            "--region-size", Long.toString(TestShare.REGION), "--window-size", Integer.toString(TestShare.WINDOW));
        final Bundle bundle = Bundle.unpack(work.resolve("bundle"));

        final Map<String, String> expected = new TreeMap<>();
        final StringBuilder paths = new StringBuilder();
        for (final Map.Entry<String, Path> file : share.files().entrySet())
        {
            expected.put(SHARE + "/" + file.getKey(), TestShare.sha256(file.getValue()));
            paths.append(' ').append(QemuArgs.shellQuote(SHARE + "/" + file.getKey()));
        }
        // busybox sh inside the initramfs: what the guest has, then the bundle's agent, the only Java there is.
        final String script =
            "for d in /sys/bus/pci/devices/*; do echo \"PCB-BG-PCI ${d##*/} $(cat $d/vendor) $(cat $d/device)\"; done\n" +
            "sed 's/^/PCB-BG-MOUNT /' /proc/mounts\n" +
            "echo \"PCB-BG-ROOT $(ls / | tr '\\n' ' ')\"\n" +
            "echo \"PCB-BG-JAVA-ON-PATH $(command -v java || echo none)\"\n" +
            "export PCB_JAVA_OPTS='-XX:TieredStopAtLevel=1 -XX:+UseSerialGC'\n" +
            "t0=$(date +%s)\n" +
            "timeout 140 pcb agent sha256" + paths + " >/tmp/sha.out 2>&1; st=$?\n" +
            "sed 's/^/PCB-BG-SHA /' /tmp/sha.out\n" +
            "echo \"PCB-BG-AGENT status $st after $(( $(date +%s) - t0 )) s\"\n" +
            "exit $st\n";

        final QemuGuest.Builder builder = QemuGuest.builder()
            .name(GUEST)
            .cacheDir(home.resolve("qemu"))
            .memoryMiB(512)
            .bundle(bundle.home())
            .script(script)
            .consoleListener((line) -> System.out.println("[" + GUEST + "] " + line));
        for (final IvshmemRegion region : QemuArgsCommand.regions(List.of(
            regionFile(RunDirectory.dataRegionFile(runDir, SHARE), true),
            regionFile(RunDirectory.controlRegionFile(runDir, GUEST), false))))
        {
            builder.ivshmem(region);
        }
        guest = builder.build();
        guest.start();
        final QemuGuest.Result result = guest.waitFor(GUEST_TIMEOUT);
        final String console = result.console();
        final String context = result + ", broker:\n" + broker.output() + "\nconsole:\n" + console;

        assertFalse(guest.command().stream().anyMatch((arg) -> arg.contains("virtfs") || arg.contains("9p")),
            "the guest must get no 9p export: " + guest.command());
        final List<String> devices = new ArrayList<>();
        final Matcher pci = PCI.matcher(console);
        while (pci.find())
        {
            devices.add(pci.group(2) + ":" + pci.group(3));
        }
        assertFalse(devices.isEmpty(), "no device list on the console; " + context);
        assertFalse(devices.contains("0x1af4:0x1009"), "a virtio-9p device is attached: " + devices);
        assertEquals(2, devices.stream().filter("0x1af4:0x1110"::equals).count(), "two ivshmem devices: " + devices);
        assertFalse(console.contains(" 9p "), "a 9p mount in the guest; " + context);
        assertTrue(console.contains("PCB-BG-JAVA-ON-PATH none"), "a java on the guest's PATH; " + context);
        assertTrue(result.succeeded(), "the guest script failed; " + context);

        final Map<String, String> sums = new TreeMap<>();
        final Matcher sha = SHA.matcher(console);
        while (sha.find())
        {
            sums.put(sha.group(2), sha.group(1));
        }
        assertEquals(expected, sums, context);
        assertTrue(broker.process().isAlive(), broker.output());
        System.out.printf("BundleGuestTest: booted in %s, devices %s, done in %d ms%n",
            result.readyAfter().map(Duration::toMillis).orElse(-1L) + " ms", devices, result.elapsed().toMillis());
    }

    private static Broker.RegionFile regionFile(final Path file, final boolean readOnly) throws Exception
    {
        return new Broker.RegionFile(file, Files.size(file), readOnly);
    }
}
