package dev.pcb.it;

import dev.pcb.broker.Broker;
import dev.pcb.cli.QemuArgsCommand;
import dev.pcb.layout.RunDirectory;
import dev.pcb.testsupport.BrokerProcess;
import dev.pcb.testsupport.Bundle;
import dev.pcb.testsupport.TestShare;
import dev.pcb.testsupport.qemu.GuestFixture;
import dev.pcb.testsupport.qemu.GuestScript;
import dev.pcb.testsupport.qemu.IvshmemRegion;
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
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Two guests at once as an operator's guests are: their only files are an initramfs with busybox, the guest kernel's
 * fuse module, the release bundle and the libraries its runtime links against; no virtio-9p device, no host root, no
 * host {@code java}. Each lists its PCI devices, starts the bundle's {@code pcb mount} the way the guest unit does and
 * waits for its "mounted" line, then runs unmodified programs on the mount: {@code sha256sum -c} over the share (a
 * 32 MiB file and a tree), a static binary executed from the mount, {@code tar} of a directory extracted to the same
 * bytes, a write refused with "Read-only file system"; its page cache grows by less than 5% of what it read through
 * the {@code --cache none} mount; and the bundle's {@code pcb agent sha256} reads the share through pcb too.
 * <p>
 * What needs a program the bundle cannot bring (Python) runs in {@link QemuPythonMountTest}, on the host root.
 */
final class BundleGuestTest
{
    private static final Duration GUEST_TIMEOUT = Duration.ofSeconds(200);
    private static final String SHARE = "s";
    private static final List<String> GUESTS = List.of("bg1", "bg2");
    private static final String MOUNTPOINT = "/mnt/pcb/" + SHARE;
    private static final int BIG = 32 << 20;

    private final GuestFixture fixture = new GuestFixture();

    @AfterEach
    void tearDown() throws Exception
    {
        fixture.close();
    }

    @Test
    @Timeout(value = 280, unit = TimeUnit.SECONDS)
    void twoGuestsWithOnlyTheBundleMountTheShareAndRunUnmodifiedPrograms() throws Exception
    {
        GuestFixture.requireQemu();
        final Path home = GuestFixture.pcbHome();
        final Path work = fixture.deleteAfter(
            home.resolve("bundle-guest-" + ProcessHandle.current().pid() + "-" + System.nanoTime()));
        final Path shareDir = work.resolve("share");
        TestShare.create(shareDir);
        final byte[] big = new byte[BIG];
        new SplittableRandom(17).nextBytes(big);
        Files.write(shareDir.resolve("big.bin"), big);
        Files.createDirectories(shareDir.resolve("bin"));
        // Static, and it must keep its name: busybox picks the applet from argv[0].
        Files.copy(Path.of("/bin/busybox").toRealPath(), shareDir.resolve("bin/busybox"),
            StandardCopyOption.COPY_ATTRIBUTES);
        final String sums = Shell.run(shareDir, 60, "find . -type f -print0 | sort -z | xargs -0 sha256sum")
            .assertSuccess().stdout();
        final long bytesRead;
        try (Stream<Path> files = Files.walk(shareDir))
        {
            bytesRead = files.filter(Files::isRegularFile).mapToLong((file) -> file.toFile().length()).sum();
        }
        final String bigSum = TestShare.sha256(shareDir.resolve("big.bin"));

        final Path runDir = BrokerProcess.newRunDir("bundle-guest");
        final List<String> brokerArgs = new ArrayList<>(List.of("--share", SHARE + "=" + shareDir,
            "--region-size", "64m", "--window-size", "1m"));
        for (final String name : GUESTS)
        {
            brokerArgs.addAll(List.of("--guest", name));
        }
        final BrokerProcess broker =
            fixture.closeAfter(BrokerProcess.start(fixture.deleteAfter(runDir), brokerArgs.toArray(new String[0])));
        final Bundle bundle = Bundle.unpack(work.resolve("bundle"));

        final String script = GuestScript.prelude() +
            GuestScript.writeFile("/tmp/SHA256SUMS", sums) +
            "pcb_pci\n" +
            "echo \"PCB-MOUNTS $(awk '{ print $3 }' /proc/mounts | sort -u | tr '\\n' ' ')\"\n" +
            "pcb_status java-on-path 0 $(command -v java || echo none)\n" +
            "pcb_mount " + SHARE + " " + MOUNTPOINT + " --cache none || exit 1\n" +
            "pcb_drop_caches; c0=$(pcb_kib Cached)\n" +
            "(cd " + MOUNTPOINT + " && sha256sum -c /tmp/SHA256SUMS > /tmp/sha.out); st=$?\n" +
            "c1=$(pcb_kib Cached)\n" +
            "grep -v ': OK$' /tmp/sha.out\n" +
            "pcb_status sha $st\n" +
            "pcb_status cached 0 $c0 $c1\n" +
            "out=$(" + MOUNTPOINT + "/bin/busybox echo hello from the mount); pcb_status exec $? $out\n" +
            "mkdir /tmp/untar && tar -C " + MOUNTPOINT + " -cf - tree | tar -C /tmp/untar -xf - && " +
            "(cd /tmp/untar && grep '  ./tree/' /tmp/SHA256SUMS | sha256sum -c -s); " +
            "pcb_status tar $? $(find /tmp/untar -type f | wc -l)\n" +
            "err=$( (echo x > " + MOUNTPOINT + "/new) 2>&1 ); pcb_status write $? ${err##*: }\n" +
            "timeout 100 pcb agent sha256 " + SHARE + "/big.bin >/tmp/agent.out 2>/tmp/agent.err; " +
            "pcb_status agent $? $(cat /tmp/agent.out)\n" +
            "sed 's/^/PCB-AGENT-ERR /' /tmp/agent.err | grep -v 'Chronicle core loaded' | tail -5\n" +
            "pcb_umount\n";

        final List<QemuGuest> guests = new ArrayList<>();
        for (final String name : GUESTS)
        {
            final QemuGuest.Builder builder = QemuGuest.builder()
                .name(name)
                .cacheDir(home.resolve("qemu"))
                .memoryMiB(640)
                .bundle(bundle.home())
                .script(script);
            for (final IvshmemRegion region : QemuArgsCommand.regions(List.of(
                regionFile(RunDirectory.dataRegionFile(runDir, SHARE), true),
                regionFile(RunDirectory.controlRegionFile(runDir, name), false))))
            {
                builder.ivshmem(region);
            }
            // Both run at once: the same data region mapped by two guests, each with its own control region and mount.
            guests.add(fixture.start(builder));
        }
        final List<QemuGuest.Result> results = fixture.awaitAll(GUEST_TIMEOUT);
        for (int i = 0; i < guests.size(); i++)
        {
            final QemuGuest guest = guests.get(i);
            final QemuGuest.Result result = results.get(i);
            final String console = result.console();
            final String context = guest.name() + ": " + result + ", broker:\n" + broker.output() + "\nconsole:\n" +
                console;
            assertFalse(guest.command().stream().anyMatch((arg) -> arg.contains("virtfs") || arg.contains("9p")),
                "the guest must get no 9p export: " + guest.command());
            final List<String> devices = GuestScript.pciDevices(console);
            assertFalse(devices.isEmpty(), "no device list on the console; " + context);
            for (final String id : GuestScript.VIRTIO_9P_IDS)
            {
                assertFalse(devices.contains(id), "a virtio-9p device is attached: " + devices);
            }
            assertEquals(2, devices.stream().filter(GuestScript.IVSHMEM_ID::equals).count(),
                "two ivshmem devices: " + devices);
            assertFalse(console.contains(" 9p "), "a 9p mount in the guest; " + context);

            final Map<String, List<String>> steps = GuestScript.statuses(console);
            assertEquals(List.of("0", "none"), steps.get("java-on-path"), "a java on the guest's PATH; " + context);
            final List<String> mount = steps.getOrDefault("mount", List.of());
            assertEquals(List.of("0", "mounted", SHARE, "at", MOUNTPOINT), mount.subList(0, Math.min(5, mount.size())),
                context);
            assertEquals(List.of("0"), steps.get("sha"), "sha256sum -c on the mount; " + context);
            assertEquals(List.of("0", "hello", "from", "the", "mount"), steps.get("exec"), context);
            assertEquals("0", steps.get("tar").get(0), "tar of the mount extracted to other bytes; " + context);
            assertEquals(List.of("1", "Read-only", "file", "system"), steps.get("write"), context);
            assertEquals(List.of("0", bigSum, SHARE + "/big.bin"), steps.get("agent"), context);
            assertEquals(List.of("0"), steps.get("umount"), context);
            assertTrue(result.succeeded(), "the guest script failed; " + context);

            final List<String> cached = steps.get("cached");
            final long growth = (Long.parseLong(cached.get(2)) - Long.parseLong(cached.get(1))) * 1024;
            assertTrue(growth < bytesRead / 20, guest.name() + ": guest Cached grew by " + growth +
                " bytes reading " + bytesRead + " through --cache none; " + context);
            System.out.printf("BundleGuestTest %s: devices %s, booted in %s ms, done in %d ms, %s; Cached grew by " +
                "%d bytes while %d were read through --cache none%n", guest.name(), devices,
                result.readyAfter().map(Duration::toMillis).orElse(-1L), result.elapsed().toMillis(),
                String.join(" ", mount), growth, bytesRead);
        }
        assertTrue(broker.process().isAlive(), broker.output());
    }

    private static Broker.RegionFile regionFile(final Path file, final boolean readOnly) throws Exception
    {
        return new Broker.RegionFile(file, Files.size(file), readOnly);
    }
}
