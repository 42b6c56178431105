package dev.pcb.cli;

import dev.pcb.broker.Broker;
import dev.pcb.testsupport.Bundle;
import dev.pcb.testsupport.FileTrees;
import dev.pcb.testsupport.qemu.GuestScript;
import dev.pcb.testsupport.qemu.IvshmemRegion;
import dev.pcb.testsupport.qemu.QemuArgs;
import dev.pcb.testsupport.qemu.QemuGuest;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * The {@code --qemu} part of the demo: boot a TCG guest whose only files are an initramfs with busybox, the guest
 * kernel's fuse module and the release bundle (no virtio-9p, no host root, no host java), attached to the demo
 * broker's regions for guest vm1 (its data region read-only, vm1's control region writable). Inside it the bundle's
 * {@code pcb mount} serves the share the way the guest unit does, ordinary programs read the mount, and
 * {@code pcb agent sha256}, with no run directory, finds its regions among the guest's PCI devices and hashes every
 * file; each checksum is compared with the host's.
 */
final class QemuDemo
{
    /** The guest the demo boots; the demo broker serves vm1 and vm2. */
    static final String GUEST = "vm1";

    /** Environment variable naming the release bundle tarball; {@code ./pcb demo --qemu} sets it. */
    static final String BUNDLE_ENV = "PCB_BUNDLE";

    private static final int MEMORY_MIB = 768;
    private static final Duration TIMEOUT = Duration.ofMinutes(10);
    private static final String MOUNTPOINT = "/mnt/pcb/demo";
    private static final String LS = "PCB-DEMO-LS ";
    private static final String SHA = "PCB-DEMO-SHA ";
    private static final String ERR = "PCB-DEMO-ERR ";
    private static final String STEP = "PCB-DEMO-STEP ";

    private QemuDemo()
    {
    }

    /**
     * Boot the guest, read the share in it, and tell a person what happened.
     *
     * @param out      where to tell it.
     * @param runDir   the demo broker's run directory.
     * @param share    the demo share on the host (served as "demo").
     * @param expected host checksums by agent path ("demo/...").
     * @return 0 when every step in the guest succeeded and every checksum in it equals the host's.
     */
    static int run(final PrintWriter out, final Path runDir, final Path share, final Map<String, String> expected)
    {
        out.println();
        out.println("== QEMU guest ==");
        if (QemuGuest.findOnPath(QemuGuest.DEFAULT_QEMU).isEmpty())
        {
            out.println("--qemu: " + QemuGuest.DEFAULT_QEMU + " is not on the PATH; install it with: apt-get install " +
                "qemu-system-x86 busybox-static linux-image-amd64");
            out.flush();
            return Pcb.EXIT_FAILURE;
        }
        final Optional<Path> tarball = bundleTarball();
        if (tarball.isEmpty())
        {
            out.println("--qemu: no release bundle; build it with ./pcb dist (./pcb demo --qemu does), or name it " +
                "in " + BUNDLE_ENV);
            out.flush();
            return Pcb.EXIT_FAILURE;
        }

        final Path cacheDir = share.toAbsolutePath().getParent().resolve("qemu");
        final Path unpacked = cacheDir.resolve("bundle");
        try
        {
            FileTrees.delete(unpacked);
            final Bundle bundle = Bundle.unpack(tarball.get(), unpacked);
            final List<Broker.RegionFile> files = QemuArgsCommand.regionFiles(runDir, GUEST, null);
            final List<IvshmemRegion> regions = QemuArgsCommand.regions(files);
            final String script = script(expected);

            final long startNs = System.nanoTime();
            final QemuGuest.Builder builder = QemuGuest.builder()
                .name(GUEST)
                .cacheDir(cacheDir)
                .memoryMiB(MEMORY_MIB)
                .bundle(bundle.home())
                .script(script)
                .consoleListener((line) -> onConsoleLine(out, line, startNs));
            regions.forEach(builder::ivshmem);
            try (QemuGuest guest = builder.build())
            {
                out.printf(Locale.ROOT, "booting %s: QEMU, TCG (no KVM), 1 vCPU, %d MiB; its only files are an " +
                    "initramfs with busybox, fuse.ko and the release bundle %s (no virtio-9p, no host root, no host " +
                    "java)%n", GUEST, MEMORY_MIB, tarball.get().getFileName());
                for (final IvshmemRegion region : regions)
                {
                    out.printf(Locale.ROOT, "  ivshmem-plain %-14s %s, %s%n", region.id(), region.path(),
                        Sizes.format(region.size()) + (region.readOnly() ? ", read-only (readonly=on)" : ", writable"));
                }
                out.println("  the same arguments pcb qemu-args prints:");
                out.println("  " + QemuArgs.forDevicesAsString(regions));
                out.flush();

                guest.start();
                final QemuGuest.Result result = guest.waitFor(TIMEOUT);
                return report(out, result, share, expected);
            }
            finally
            {
                FileTrees.delete(unpacked);
            }
        }
        catch (final Exception ex)
        {
            out.println("--qemu failed: " + ex.getMessage());
            out.flush();
            return Pcb.EXIT_FAILURE;
        }
    }

    /**
     * The release bundle: {@link #BUNDLE_ENV}, else the newest {@code dist/pcb-*-linux-x86_64.tar.gz} beside the
     * directory this class was loaded from ({@code cli/target} in a source tree).
     */
    private static Optional<Path> bundleTarball()
    {
        final String named = System.getenv(BUNDLE_ENV);
        if (null != named && !named.isEmpty())
        {
            return Optional.of(Path.of(named)).filter(Files::isRegularFile);
        }
        try
        {
            final Path dist = Path.of(QemuDemo.class.getProtectionDomain().getCodeSource().getLocation().toURI())
                .getParent().resolve("dist");
            try (Stream<Path> list = Files.list(dist))
            {
                return list.filter((p) -> p.getFileName().toString().matches("pcb-.+-linux-x86_64\\.tar\\.gz"))
                    .max(Comparator.comparingLong((p) -> p.toFile().lastModified()));
            }
        }
        catch (final Exception ex)
        {
            return Optional.empty();
        }
    }

    private static void onConsoleLine(final PrintWriter out, final String line, final long startNs)
    {
        final double seconds = (System.nanoTime() - startNs) / 1e9;
        if (line.startsWith("PCB-GUEST-READY"))
        {
            out.printf(Locale.ROOT, "%s booted in %.1f s (kernel, initramfs with the bundle); its PCI devices:%n",
                GUEST, seconds);
        }
        else if (line.startsWith(GuestScript.PCI))
        {
            final String[] words = line.substring(GuestScript.PCI.length()).trim().split("\\s+");
            final String id = words.length == 3 ? words[1] + ":" + words[2] : "";
            out.println("    " + String.join(" ", words) + (GuestScript.IVSHMEM_ID.equals(id) ? "  ivshmem" : ""));
        }
        else if (line.startsWith(STEP))
        {
            out.printf(Locale.ROOT, "[%5.1f s] inside %s: %s%n", seconds, GUEST, line.substring(STEP.length()));
        }
        else if (line.startsWith(LS) || line.startsWith(GuestScript.STATUS))
        {
            out.println("    " + line.substring(line.indexOf(' ') + 1));
        }
        else if (line.startsWith("PCB-MOUNT-ERR "))
        {
            out.println("    pcb mount log: " + line.substring(line.indexOf(' ') + 1));
        }
        else if (line.startsWith(ERR) || line.startsWith("PCB-GUEST-INIT-FAILED"))
        {
            out.println("    ! " + line.substring(line.indexOf(' ') + 1));
        }
        else
        {
            return;
        }
        out.flush();
    }

    private static int report(
        final PrintWriter out, final QemuGuest.Result result, final Path share, final Map<String, String> expected)
    {
        final Map<String, String> seen = new LinkedHashMap<>();
        for (final String line : result.console().split("\n"))
        {
            if (line.startsWith(SHA))
            {
                final String[] parts = line.substring(SHA.length()).trim().split("\\s+", 2);
                if (parts.length == 2)
                {
                    seen.put(parts[1], parts[0]);
                }
            }
        }

        int verified = 0;
        for (final Map.Entry<String, String> entry : expected.entrySet())
        {
            final String got = seen.get(entry.getKey());
            final String verdict;
            if (null == got)
            {
                verdict = "MISSING ";
            }
            else if (got.equals(entry.getValue()))
            {
                verdict = "ok      ";
                verified++;
            }
            else
            {
                verdict = "MISMATCH";
            }
            out.println("    " + verdict + " " + (null == got ? "(no checksum)" : got.substring(0, 16) + "...") +
                "  " + entry.getKey());
        }

        final String boot = result.readyAfter().map((d) -> String.format(Locale.ROOT, "%.1f s", d.toMillis() / 1e3))
            .orElse("never");
        out.printf(Locale.ROOT, "%s: booted in %s, ran %.1f s in all; %d of %d checksums computed inside the guest " +
            "(%s read through the data region) equal the host's%n", GUEST, boot, result.elapsed().toMillis() / 1e3,
            verified, expected.size(), Sizes.format(totalBytes(share, expected)));
        final boolean ok = result.succeeded() && verified == expected.size();
        if (!ok)
        {
            out.println("--qemu FAILED: " + result + "; console tail:");
            final String console = result.console();
            out.println(console.substring(Math.max(0, console.length() - 3000)));
        }
        out.flush();
        return ok ? 0 : Pcb.EXIT_FAILURE;
    }

    private static long totalBytes(final Path share, final Map<String, String> expected)
    {
        long total = 0;
        for (final String path : expected.keySet())
        {
            try
            {
                total += Files.size(share.resolve(path.substring(path.indexOf('/') + 1)));
            }
            catch (final IOException ignore)
            {
                // Only the summary's byte count suffers.
            }
        }
        return total;
    }

    /**
     * The guest script: the bundle's pcb mount started as the guest unit starts it, ordinary programs on the mount,
     * then the agent with no run directory; each step's output tagged for the host.
     */
    private static String script(final Map<String, String> expected)
    {
        final StringBuilder paths = new StringBuilder();
        final StringBuilder sums = new StringBuilder();
        for (final Map.Entry<String, String> entry : expected.entrySet())
        {
            paths.append(' ').append(QemuArgs.shellQuote(entry.getKey()));
            final String inShare = entry.getKey().substring(entry.getKey().indexOf('/') + 1);
            sums.append(entry.getValue()).append("  ./").append(inShare).append('\n');
        }
        final String mnt = MOUNTPOINT;

        return GuestScript.prelude() +
            GuestScript.writeFile("/tmp/SHA256SUMS", sums.toString()) +
            "pcb_pci\n" +
            "fails=0\n" +
            "step() { tag=$1; what=$2; shift 2; echo \"" + STEP + "$what\"; t0=$(date +%s); " +
            "\"$@\" >/tmp/out 2>/tmp/err; " +
            "st=$?; sed \"s/^/$tag /\" /tmp/out; grep -v 'Chronicle core loaded' /tmp/err | sed 's/^/" + ERR + "/'; " +
            "echo \"" + STEP + "exit status $st after $(( $(date +%s) - t0 )) s\"; [ $st -eq 0 ] || fails=1; }\n" +
            "sums() { (cd " + mnt + " && sha256sum -c /tmp/SHA256SUMS) >/tmp/sums.out; st=$?; " +
            "grep -v ': OK$' /tmp/sums.out; echo \"$(grep -c ': OK$' /tmp/sums.out) files OK\"; return $st; }\n" +
            "untar() { tar -C " + mnt + " -cf - docs | tar -C /tmp/untar -xf - && " +
            "(cd /tmp/untar && grep '  ./docs/' /tmp/SHA256SUMS | sha256sum -c -s) && " +
            "echo \"$(find /tmp/untar -type f | wc -l) files extracted, their checksums equal the host's\"; }\n" +
            "echo \"" + STEP + "pcb mount demo " + mnt + " (as pcb-mount@demo.service starts it)\"\n" +
            "pcb_mount demo " + mnt + " || exit 1\n" +
            "step " + LS.trim() + " 'ls -l " + mnt + "' ls -l " + mnt + "\n" +
            "pcb_drop_caches; c0=$(pcb_kib Cached)\n" +
            "step " + LS.trim() + " 'sha256sum -c over the mount (" + expected.size() + " files, host checksums)' " +
            "sums\n" +
            "c1=$(pcb_kib Cached)\n" +
            "echo \"" + LS + "guest page cache (Cached) grew by $((c1 - c0)) KiB: the mount reads with direct I/O " +
            "(--cache none)\"\n" +
            "mkdir -p /tmp/untar\n" +
            "step " + LS.trim() + " 'tar -C " + mnt + " -cf - docs | tar -xf -' untar\n" +
            "echo \"" + STEP + "echo x > " + mnt + "/new\"\n" +
            "err=$( (echo x > " + mnt + "/new) 2>&1 ) && fails=1; echo \"" + LS + "refused: ${err##*: }\"\n" +
            "echo \"" + STEP + "mount process RSS $(pcb_kib VmRSS /proc/$pcb_mount_pid/status) KiB\"\n" +
            "step " + SHA.trim() + " 'pcb agent sha256 (" + expected.size() + " files, through the regions)' " +
            "pcb agent sha256" + paths + "\n" +
            "echo \"" + STEP + "stopping the mount (SIGTERM, as systemctl stop does)\"\n" +
            "pcb_umount || fails=1\n" +
            "exit $fails\n";
    }
}
