package dev.pcb.it;

import dev.pcb.testsupport.BrokerProcess;
import dev.pcb.testsupport.JavaProcess;
import dev.pcb.testsupport.TestShare;
import dev.pcb.testsupport.qemu.GuestFixture;
import dev.pcb.testsupport.qemu.GuestScript;
import dev.pcb.testsupport.qemu.QemuArgs;
import dev.pcb.testsupport.qemu.QemuGuest;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The one QEMU mount test whose guest runs on the host's root over virtio-9p, because it needs a program the release
 * bundle cannot bring: Python. Inside the guest, {@code pcb mount} (the host's java on this build's jars) serves the
 * share ({@code --cache all}: the 6.1 guest kernel cannot map a direct-I/O file), Python imports a module from the
 * mount and reads a file through {@code mmap} with {@code ACCESS_READ}, and the host compares. Everything else a
 * guest does on a mount runs in bundle-only guests, {@link BundleGuestTest}.
 */
final class QemuPythonMountTest
{
    private static final String SHARE = "m";
    private static final String GUEST = "vm1";
    // On the guest's tmpfs: its / is the host's root, read-only.
    private static final String MOUNTPOINT = "/tmp/pcb/" + SHARE;
    private static final String PYTHON = "/usr/bin/python3";

    private final GuestFixture fixture = new GuestFixture();

    @AfterEach
    void tearDown() throws Exception
    {
        fixture.close();
    }

    @Test
    @Timeout(value = 200, unit = TimeUnit.SECONDS)
    void pythonImportsAModuleAndMapsAFileFromTheMount() throws Exception
    {
        assertTrue(Files.isExecutable(Path.of(PYTHON)), PYTHON + " is needed on the host (Debian python3)");
        GuestFixture.requireQemu();
        final Path home = GuestFixture.pcbHome();
        final Path work = fixture.deleteAfter(
            home.resolve("qemu-python-" + ProcessHandle.current().pid() + "-" + System.nanoTime()));
        final Path shareDir = work.resolve("share");
        Files.createDirectories(shareDir.resolve("py/pcbpkg"));
        final long token = new SplittableRandom().nextLong() >>> 1;
        Files.writeString(shareDir.resolve("py/pcbpkg/__init__.py"),
            "TOKEN = " + token + "\nimport os\nWHERE = os.path.dirname(__file__)\n", StandardCharsets.UTF_8);
        final byte[] mapped = new byte[3 * TestShare.WINDOW + 1234];
        new SplittableRandom(15).nextBytes(mapped);
        Files.write(shareDir.resolve("mapped.bin"), mapped);

        final Path runDir = BrokerProcess.newRunDir("qemu-python");
        final BrokerProcess broker = fixture.closeAfter(BrokerProcess.start(fixture.deleteAfter(runDir),
            "--share", SHARE + "=" + shareDir, "--guest", GUEST,
            "--region-size", "4m", "--window-size", Integer.toString(TestShare.WINDOW)));
        final Matcher args = Pattern.compile("^QEMU arguments for guest " + GUEST + ":\\n\\s+(.+)$", Pattern.MULTILINE)
            .matcher(broker.output());
        assertTrue(args.find(), broker.output());

        final String python = "import sys, mmap, hashlib; sys.path.insert(0, '" + MOUNTPOINT + "/py'); " +
            "import pcbpkg; print(pcbpkg.TOKEN, pcbpkg.WHERE); " +
            "f = open('" + MOUNTPOINT + "/mapped.bin', 'rb'); m = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ); " +
            "print(len(m), hashlib.sha256(m).hexdigest())";
        final String script = "cd /tmp\n" +
            GuestScript.launcher(pcbCommand(home)) +
            GuestScript.prelude() +
            // --cache all: Python's mmap of a direct-I/O file needs FUSE_DIRECT_IO_ALLOW_MMAP, which the 6.1 guest
            // kernel lacks (ENODEV under none and exec, docs/fuse.md).
            "pcb_mount " + SHARE + " " + MOUNTPOINT + " --cache all || exit 1\n" +
            "out=$(" + PYTHON + " -c " + QemuArgs.shellQuote(python) + " 2>&1 | tr '\\n' ' '); " +
            "pcb_status python $? $out\n" +
            "pcb_umount\n";

        final QemuGuest guest = fixture.start(QemuGuest.builder()
            .name(GUEST)
            .cacheDir(home.resolve("qemu"))
            .memoryMiB(768)
            .qemuArgs(QemuArgs.shellWords(args.group(1).trim()).toArray(new String[0]))
            .script(script));
        final QemuGuest.Result result = guest.waitFor(Duration.ofSeconds(180));
        final String console = result.console();
        final String context = result + ", broker:\n" + broker.output() + "\nconsole:\n" + console;
        final Map<String, List<String>> steps = GuestScript.statuses(console);
        assertEquals("0", steps.getOrDefault("mount", List.of("none")).get(0), context);
        assertEquals(List.of("0", Long.toString(token), MOUNTPOINT + "/py/pcbpkg", Integer.toString(mapped.length),
            TestShare.sha256(mapped)), steps.get("python"), context);
        assertEquals(List.of("0"), steps.get("umount"), context);
        assertTrue(result.succeeded(), context);
    }

    /** The host's java on this build's jars, as the guest sees them over the host root. */
    private static String pcbCommand(final Path home)
    {
        final List<String> java = new ArrayList<>();
        java.add(QemuGuest.hostJava().toString());
        java.addAll(JavaProcess.jvmFlags());
        // PCB_JAVA_OPTS unquoted, as bin/pcb uses it: GuestScript.prelude exports it.
        return QemuArgs.render(java) + " $PCB_JAVA_OPTS -cp " +
            QemuArgs.shellQuote(QemuGuest.visibleInGuest(home.resolve("pcb.jar")) + ":" +
            QemuGuest.visibleInGuest(home.resolve("lib")) + "/*") + " dev.pcb.cli.Pcb";
    }
}
