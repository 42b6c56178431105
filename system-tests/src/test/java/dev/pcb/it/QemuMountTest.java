package dev.pcb.it;

import dev.pcb.testsupport.TestShare;
import dev.pcb.testsupport.BrokerProcess;
import dev.pcb.testsupport.FileTrees;
import dev.pcb.testsupport.JavaProcess;
import dev.pcb.testsupport.qemu.QemuArgs;
import dev.pcb.testsupport.qemu.QemuGuest;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * {@code pcb mount} inside a real TCG guest: the guest kernel's fuse.ko, the share's BAR read through the mount by
 * unmodified programs ({@code sha256sum -c}, a binary executed from the mount, {@code tar}), the guest's page cache
 * not growing with {@code --cache none}, and a write refused with "Read-only file system".
 */
final class QemuMountTest
{
    private static final String SHARE = "m";
    private static final int BIG = 24 << 20;

    private Path shareDir;
    private Path runDir;
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
        FileTrees.delete(runDir);
        FileTrees.delete(shareDir.getParent());
    }

    @Test
    @Timeout(value = 240, unit = TimeUnit.SECONDS)
    void aGuestMountsItsShareAndUnmodifiedProgramsReadIt() throws Exception
    {
        final String unique = ProcessHandle.current().pid() + "-" + System.nanoTime();
        final Path home = Path.of(System.getProperty("pcb.home", "target")).toAbsolutePath();
        shareDir = home.resolve("qemu-mount-" + unique).resolve("share");
        runDir = Path.of("/dev/shm", "pcb-qemu-mount-" + unique);
        TestShare.create(shareDir);
        final byte[] big = new byte[BIG];
        new SplittableRandom(15).nextBytes(big);
        Files.write(shareDir.resolve("big.bin"), big);
        Files.createDirectories(shareDir.resolve("bin"));
        Files.copy(Path.of("/bin/echo"), shareDir.resolve("bin/pcb-echo"), StandardCopyOption.COPY_ATTRIBUTES);
        final Path sums = shareDir.getParent().resolve("sums");
        Shell.run(shareDir, 60, "find . -type f -print0 | sort -z | xargs -0 sha256sum > " + sums).assertSuccess();
        final long bytes = Files.size(shareDir.resolve("big.bin")) + 3 * 1024 * 1024;

        broker = BrokerProcess.start(runDir, "--share", SHARE + "=" + shareDir, "--guest", "vm1",
            "--region-size", "4m", "--window-size", "64k");
        final Matcher args = Pattern.compile("^QEMU arguments for guest vm1:\\n\\s+(.+)$", Pattern.MULTILINE)
            .matcher(broker.output());
        assertTrue(args.find(), broker.output());

        guest = QemuGuest.builder()
            .name("vm1")
            .cacheDir(home.resolve("qemu"))
            .memoryMiB(768)
            .qemuArgs(QemuEndToEndTest.shellWords(args.group(1).trim()).toArray(new String[0]))
            .script(script(QemuGuest.visibleInGuest(home), QemuGuest.visibleInGuest(sums)))
            .consoleListener((line) -> System.out.println("[vm1] " + line))
            .build();
        guest.start();
        final QemuGuest.Result result = guest.waitFor(Duration.ofSeconds(220));
        final String console = result.console();
        if (!result.succeeded())
        {
            fail("guest failed (" + result + "):\n" + console + "\nbroker:\n" + broker.output());
        }
        assertTrue(console.contains("PCB-M-OUT mounted " + SHARE + " at /tmp/pcbmnt"), console);
        for (final String step : List.of("sha", "exec", "tar", "umount"))
        {
            assertTrue(console.contains("PCB-M-STATUS " + step + " 0"), step + " failed:\n" + console);
        }
        assertTrue(console.contains("PCB-M-EXEC hello from the mount"), console);
        assertTrue(Pattern.compile("PCB-M-STATUS write [1-9][0-9]* Read-only file system").matcher(console).find(),
            console);
        final Matcher cached = Pattern.compile("PCB-M-CACHED (\\d+) (\\d+)").matcher(console);
        assertTrue(cached.find(), console);
        final long growth = (Long.parseLong(cached.group(2)) - Long.parseLong(cached.group(1))) * 1024;
        assertTrue(growth < bytes / 20, "guest Cached grew by " + growth + " bytes reading " + bytes + ":\n" +
            console);
        final List<String> log = new ArrayList<>();
        for (final String line : console.split("\n"))
        {
            if (line.contains("PCB-M-LOG"))
            {
                log.add(line);
            }
        }
        System.out.println("QemuMountTest: guest Cached grew by " + growth + " bytes while about " + bytes +
            " were read through --cache none; reply path: " + log);
    }

    private static String script(final Path home, final Path sums)
    {
        final List<String> java = new ArrayList<>();
        java.add(QemuGuest.hostJava().toString());
        java.addAll(JavaProcess.jvmFlags());
        java.add("-XX:TieredStopAtLevel=1");
        java.add("-XX:+UseSerialGC");
        final String classpath = home.resolve("pcb.jar") + ":" + home.resolve("lib") + "/*";
        return "cd /tmp\n" +
            "pcb() { " + QemuArgs.render(java) + " -cp " + QemuArgs.shellQuote(classpath) +
            " dev.pcb.cli.Pcb \"$@\"; }\n" +
            "mkdir -p /tmp/pcbmnt  # on the guest's tmpfs: / is the host's root, read-only over 9p\n" +
            "pcb mount " + SHARE + " /tmp/pcbmnt > /tmp/mount.out 2> /tmp/mount.err &\n" +
            "mounter=$!\n" +
            "for i in $(seq 900); do grep -q mounted /tmp/mount.out && break; kill -0 $mounter || break; " +
            "sleep 0.2; done\n" +
            "sed 's/^/PCB-M-OUT /' /tmp/mount.out\n" +
            "sync; echo 3 > /proc/sys/vm/drop_caches\n" +
            "c0=$(awk '/^Cached:/ { print $2 }' /proc/meminfo)\n" +
            "(cd /tmp/pcbmnt && sha256sum -c --quiet " + QemuArgs.shellQuote(sums.toString()) + "); " +
            "echo \"PCB-M-STATUS sha $?\"\n" +
            "c1=$(awk '/^Cached:/ { print $2 }' /proc/meminfo)\n" +
            "echo \"PCB-M-CACHED $c0 $c1\"\n" +
            "echo \"PCB-M-EXEC $(/tmp/pcbmnt/bin/pcb-echo hello from the mount)\"; echo \"PCB-M-STATUS exec $?\"\n" +
            "n=$(tar -C /tmp/pcbmnt -cf - . | tar -tf - | wc -l); echo \"PCB-M-STATUS tar $? $n\"\n" +
            "err=$( (echo x > /tmp/pcbmnt/new) 2>&1 ); echo \"PCB-M-STATUS write $? ${err##*: }\"\n" +
            "grep -h 'READ replies\\|cannot be pinned\\|EFAULT' /tmp/mount.err | sed 's/^/PCB-M-LOG /'\n" +
            "pcb umount /tmp/pcbmnt; wait; echo \"PCB-M-STATUS umount $?\"\n" +
            "sed 's/^/PCB-M-ERR /' /tmp/mount.err | tail -20\n" +
            "exit 0\n";
    }
}
