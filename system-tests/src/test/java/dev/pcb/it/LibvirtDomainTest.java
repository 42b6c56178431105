package dev.pcb.it;

import dev.pcb.testsupport.Bundle;
import dev.pcb.testsupport.TestShare;
import dev.pcb.testsupport.BrokerProcess;
import dev.pcb.testsupport.FileTrees;
import dev.pcb.testsupport.JavaProcess;
import dev.pcb.testsupport.qemu.Initramfs;
import dev.pcb.testsupport.qemu.LibvirtXml;
import dev.pcb.testsupport.qemu.QemuArgs;
import dev.pcb.testsupport.qemu.QemuGuest;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * pcb under libvirt for real: the system libvirt daemon (started here if it is not running) defines a TCG domain
 * ({@code type='qemu'}) whose regions come from the XML {@code pcb libvirt-xml} prints, boots it with the test guests'
 * kernel and initramfs and the host root as a read-only {@code <filesystem>} (virtio-9p), and the release bundle's
 * {@code pcb agent} inside hashes the share through the regions; the host compares. The domain is destroyed and
 * undefined afterwards, whatever happened. docs/libvirt.md describes the same XML.
 */
final class LibvirtDomainTest
{
    private static final String URI = "qemu:///system";
    private static final long GUEST_TIMEOUT_MS = 180_000;
    private static final String GUEST = "lv1";
    private static final String SHARE = "s";
    private static final Pattern SHA = Pattern.compile("PCB-LV-SHA ([0-9a-f]{64})\\s+(\\S+)");

    private static final List<ProcessHandle> STARTED_DAEMONS = new ArrayList<>();

    private final String domain = "pcb-test-" + ProcessHandle.current().pid() + "-" + System.nanoTime() % 100_000;
    private Path work;
    private Path runDir;
    private BrokerProcess broker;
    private boolean defined;

    @BeforeAll
    static void daemon() throws Exception
    {
        assertTrue(QemuGuest.findOnPath("virsh").isPresent() && Files.isExecutable(Path.of("/usr/sbin/libvirtd")),
            "no libvirt: scripts/install-deps.sh installs libvirt-daemon-system libvirt-clients " +
            "libvirt-daemon-driver-qemu");
        // No systemd here to socket-activate them: start the daemons that are not running, and stop them afterwards.
        // virtlogd takes QEMU's stdout and stderr (libvirt's default stdio_handler); without it "virsh start" fails.
        if (!Files.exists(Path.of("/run/libvirt/virtlogd-sock")))
        {
            startDaemon("/usr/sbin/virtlogd", Path.of("/run/virtlogd.pid"));
        }
        if (!daemonAnswers())
        {
            startDaemon("/usr/sbin/libvirtd", Path.of("/run/libvirtd.pid"));
            final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (!daemonAnswers())
            {
                assertTrue(System.nanoTime() - deadline < 0, "libvirtd started but does not answer on " + URI);
                Thread.sleep(200);
            }
        }
    }

    @AfterAll
    static void stopDaemons() throws Exception
    {
        for (final ProcessHandle daemon : STARTED_DAEMONS)
        {
            daemon.destroy();
            daemon.onExit().get(30, TimeUnit.SECONDS);
        }
        STARTED_DAEMONS.clear();
    }

    private static void startDaemon(final String program, final Path pidFile) throws Exception
    {
        Bundle.run(List.of(program, "--daemon"), 30);
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!Files.exists(pidFile))
        {
            assertTrue(System.nanoTime() - deadline < 0, program + " --daemon wrote no " + pidFile);
            Thread.sleep(100);
        }
        ProcessHandle.of(Long.parseLong(Files.readString(pidFile).trim())).ifPresent(STARTED_DAEMONS::add);
    }

    @AfterEach
    void tearDown() throws Exception
    {
        if (defined)
        {
            virsh(false, "destroy", domain);
            virsh(false, "undefine", domain);
        }
        if (null != broker)
        {
            broker.close();
        }
        if (null != runDir)
        {
            FileTrees.delete(runDir);
        }
        if (null != work)
        {
            FileTrees.delete(work);
        }
    }

    @Test
    @Timeout(value = 270, unit = TimeUnit.SECONDS)
    void aTcgDomainDefinedFromPcbLibvirtXmlReadsTheShareThroughTheBundledAgent() throws Exception
    {
        final Path home = Path.of(System.getProperty("pcb.home", "target")).toAbsolutePath();
        work = home.resolve("libvirt-" + domain);
        // A comma in the run directory: QEMU's ",," escape must survive the XML and libvirt.
        runDir = Path.of("/dev/shm", "pcb-libvirt,test-" + domain);
        final TestShare share = TestShare.create(work.resolve("share"));
        broker = BrokerProcess.start(runDir, "--share", SHARE + "=" + share.root(), "--guest", GUEST,
            "--region-size", Long.toString(TestShare.REGION), "--window-size", Integer.toString(TestShare.WINDOW));

        final String regionsXml = Bundle.run(JavaProcess.pcb("libvirt-xml", "--run-dir", runDir.toString(),
            "--guest", GUEST), 60);
        final Bundle bundle = Bundle.unpack(work.resolve("bundle"));
        // The guest mounts a tmpfs on /tmp: a checkout there (a CI clone, say) is copied where the guest sees it.
        final Path bundleInGuest = QemuGuest.visibleInGuest(bundle.home());

        final Map<String, String> expected = new TreeMap<>();
        final StringBuilder paths = new StringBuilder();
        for (final Map.Entry<String, Path> file : share.files().entrySet())
        {
            expected.put(SHARE + "/" + file.getKey(), TestShare.sha256(file.getValue()));
            paths.append(' ').append(QemuArgs.shellQuote(SHARE + "/" + file.getKey()));
        }
        final String script = "cd /tmp\n" +
            "for d in /sys/bus/pci/devices/*; do echo \"PCB-LV-PCI ${d##*/} $(cat $d/vendor) $(cat $d/device)\"; " +
            "done\n" +
            "export PCB_JAVA_OPTS='-XX:TieredStopAtLevel=1 -XX:+UseSerialGC'\n" +
            "t0=$(date +%s)\n" +
            "timeout 160 " + QemuArgs.shellQuote(bundleInGuest.resolve("bin/pcb").toString()) + " agent sha256" +
            paths + " >/tmp/sha.out 2>&1; st=$?\n" +
            "sed 's/^/PCB-LV-SHA /' /tmp/sha.out\n" +
            "echo \"PCB-LV-AGENT status $st after $(( $(date +%s) - t0 )) s\"\n" +
            "exit $st\n";

        final Path kernel = QemuGuest.newestKernel(QemuGuest.DEFAULT_BOOT_DIR);
        final Path base = Initramfs.base(home.resolve("qemu"), QemuGuest.modulesDirOf(kernel), Initramfs.findBusybox());
        final Path initrd = work.resolve("initrd.cpio");
        Initramfs.writeForGuest(base, script, initrd);
        final Path console = work.resolve("console.log");
        final Path domainXml = work.resolve("domain.xml");
        Files.writeString(domainXml, domainXml(kernel, initrd, console, regionsXml), StandardCharsets.UTF_8);

        virsh(true, "define", domainXml.toString());
        defined = true;
        final String saved = virsh(true, "dumpxml", domain);
        assertTrue(saved.contains("<qemu:commandline>") && saved.contains("readonly=on"),
            "libvirt dropped the passthrough block:\n" + saved);
        virsh(true, "start", domain);

        final long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(GUEST_TIMEOUT_MS);
        String text = "";
        while (!text.contains(Initramfs.EXIT_MARKER + " ") && !text.contains(Initramfs.INIT_FAILED_MARKER))
        {
            if (System.nanoTime() - deadline > 0)
            {
                fail("guest did not finish within " + GUEST_TIMEOUT_MS + " ms; console:\n" + text + qemuLog());
            }
            Thread.sleep(250);
            text = Files.exists(console) ? Files.readString(console, StandardCharsets.ISO_8859_1).replace("\r", "") : "";
        }
        System.out.println("LibvirtDomainTest console:\n" + text);

        final String context = "console:\n" + text + qemuLog() + "\nbroker:\n" + broker.output();
        assertTrue(text.contains(Initramfs.EXIT_MARKER + " 0"), "the guest script failed; " + context);
        assertTrue(text.contains(" 0x1af4 0x1110"), "no ivshmem device in the guest; " + context);
        final Map<String, String> sums = new TreeMap<>();
        final Matcher matcher = SHA.matcher(text);
        while (matcher.find())
        {
            sums.put(matcher.group(2), matcher.group(1));
        }
        assertEquals(expected, sums, context);
        assertTrue(qemuLog().contains("readonly=on"), "QEMU's command line lacks the read-only data region" +
            qemuLog());
        assertTrue(broker.process().isAlive(), broker.output());
    }

    private String domainXml(final Path kernel, final Path initrd, final Path console, final String regionsXml)
    {
        return "<domain type='qemu' xmlns:qemu='" + LibvirtXml.QEMU_NAMESPACE + "'>\n" +
            "  <name>" + domain + "</name>\n" +
            "  <memory unit='MiB'>512</memory>\n" +
            "  <vcpu>1</vcpu>\n" +
            "  <os>\n" +
            "    <type arch='x86_64' machine='pc'>hvm</type>\n" +
            "    <kernel>" + LibvirtXml.attribute(kernel.toString()) + "</kernel>\n" +
            "    <initrd>" + LibvirtXml.attribute(initrd.toString()) + "</initrd>\n" +
            "    <cmdline>console=ttyS0 " + QemuGuest.DEFAULT_KERNEL_ARGS + "</cmdline>\n" +
            "  </os>\n" +
            "  <on_poweroff>destroy</on_poweroff>\n" +
            "  <on_reboot>destroy</on_reboot>\n" +
            "  <on_crash>destroy</on_crash>\n" +
            // QEMU as root and no relabelling: the region files named in <qemu:commandline> are not libvirt's.
            "  <seclabel type='static' model='dac' relabel='no'><label>+0:+0</label></seclabel>\n" +
            "  <devices>\n" +
            "    <emulator>/usr/bin/qemu-system-x86_64</emulator>\n" +
            "    <filesystem type='mount' accessmode='passthrough' multidevs='remap'>\n" +
            "      <source dir='/'/>\n" +
            "      <target dir='" + QemuArgs.HOST_ROOT_TAG + "'/>\n" +
            "      <readonly/>\n" +
            "    </filesystem>\n" +
            "    <serial type='file'><source path='" + LibvirtXml.attribute(console.toString()) + "'/>" +
            "<target port='0'/></serial>\n" +
            "    <controller type='usb' model='none'/>\n" +
            "    <memballoon model='none'/>\n" +
            "  </devices>\n" +
            regionsXml +
            "</domain>\n";
    }

    private String qemuLog() throws IOException
    {
        final Path log = Path.of("/var/log/libvirt/qemu", domain + ".log");
        return Files.exists(log) ? "\n" + log + ":\n" + Files.readString(log, StandardCharsets.UTF_8) : "";
    }

    private static boolean daemonAnswers() throws InterruptedException
    {
        try
        {
            virsh(true, "version");
            return true;
        }
        catch (final IOException ex)
        {
            return false;
        }
    }

    private static String virsh(final boolean check, final String... args) throws IOException, InterruptedException
    {
        final List<String> command = new ArrayList<>(List.of("virsh", "-c", URI));
        command.addAll(List.of(args));
        try
        {
            return Bundle.run(command, 60);
        }
        catch (final IOException ex)
        {
            if (check)
            {
                throw ex;
            }
            return ex.getMessage();
        }
    }
}
