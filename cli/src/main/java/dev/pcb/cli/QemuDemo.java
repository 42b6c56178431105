package dev.pcb.cli;

import dev.pcb.broker.Broker;
import dev.pcb.testsupport.JavaProcess;
import dev.pcb.testsupport.qemu.IvshmemRegion;
import dev.pcb.testsupport.qemu.QemuArgs;
import dev.pcb.testsupport.qemu.QemuGuest;

import java.io.File;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The {@code --qemu} part of the demo: boot a TCG guest attached to the demo broker's regions for guest vm1 (its data
 * region read-only, vm1's control region writable), and inside it run the real {@code pcb agent} from this very
 * class path, with no run directory, so it finds its regions among the guest's PCI devices: list the share, hash every
 * file, and compare each checksum with the host's.
 */
final class QemuDemo
{
    /** The guest the demo boots; the demo broker serves vm1 and vm2. */
    static final String GUEST = "vm1";

    private static final int MEMORY_MIB = 768;
    private static final Duration TIMEOUT = Duration.ofMinutes(10);
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
     * @return 0 when every checksum in the guest equals the host's.
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

        final Path cacheDir = share.toAbsolutePath().getParent().resolve("qemu");
        try
        {
            final List<Broker.RegionFile> files = QemuArgsCommand.regionFiles(runDir, GUEST, null);
            final List<IvshmemRegion> regions = QemuArgsCommand.regions(files);
            final String script = script(expected);

            final long startNs = System.nanoTime();
            final QemuGuest.Builder builder = QemuGuest.builder()
                .name(GUEST)
                .cacheDir(cacheDir)
                .memoryMiB(MEMORY_MIB)
                .script(script)
                .consoleListener((line) -> onConsoleLine(out, line, startNs));
            regions.forEach(builder::ivshmem);
            try (QemuGuest guest = builder.build())
            {
                out.printf(Locale.ROOT, "booting %s: QEMU, TCG (no KVM), 1 vCPU, %d MiB, the host's root read-only " +
                    "over virtio-9p (it runs this host's java and jars)%n", GUEST, MEMORY_MIB);
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
        }
        catch (final Exception ex)
        {
            out.println("--qemu failed: " + ex.getMessage());
            out.flush();
            return Pcb.EXIT_FAILURE;
        }
    }

    private static void onConsoleLine(final PrintWriter out, final String line, final long startNs)
    {
        final double seconds = (System.nanoTime() - startNs) / 1e9;
        if (line.startsWith("PCB-GUEST-READY"))
        {
            out.printf(Locale.ROOT, "%s booted in %.1f s (kernel, initramfs, virtio-9p root); running pcb agent " +
                "without --run-dir: it finds its regions among the PCI devices 1af4:1110 by their headers%n",
                GUEST, seconds);
        }
        else if (line.startsWith(STEP))
        {
            out.printf(Locale.ROOT, "[%5.1f s] inside %s: %s%n", seconds, GUEST, line.substring(STEP.length()));
        }
        else if (line.startsWith(LS))
        {
            out.println("    " + line.substring(LS.length()));
        }
        else if (line.startsWith(ERR) || line.startsWith("PCB-GUEST-INIT-FAILED"))
        {
            out.println("    ! " + line.replaceFirst("^" + ERR, ""));
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
     * The guest script: this JVM's java and class path (the guest sees the host's root), the agent with no run
     * directory, each step's output tagged for the host.
     */
    private static String script(final Map<String, String> expected)
    {
        final List<String> classpath = new ArrayList<>();
        for (final String entry : System.getProperty("java.class.path").split(File.pathSeparator))
        {
            if (!entry.isEmpty())
            {
                classpath.add(QemuGuest.visibleInGuest(Path.of(entry)).toString());
            }
        }
        final List<String> java = new ArrayList<>();
        java.add(QemuGuest.hostJava().toString());
        java.addAll(JavaProcess.jvmFlags());
        // C1 only and the serial collector: JIT work and GC threads cost the most under emulation.
        java.add("-XX:TieredStopAtLevel=1");
        java.add("-XX:+UseSerialGC");
        java.add("-cp");
        java.add(String.join(File.pathSeparator, classpath));
        java.add(Pcb.class.getName());

        final StringBuilder paths = new StringBuilder();
        for (final String path : expected.keySet())
        {
            paths.append(' ').append(QemuArgs.shellQuote(path));
        }

        return "cd /tmp\n" +
            "pcb() { " + QemuArgs.render(java) + " \"$@\"; }\n" +
            "fails=0\n" +
            "step() { tag=$1; what=$2; shift 2; echo \"" + STEP + "$what\"; t0=$(date +%s); " +
            "\"$@\" >/tmp/out 2>/tmp/err; " +
            "st=$?; sed \"s/^/$tag /\" /tmp/out; grep -v 'Chronicle core loaded' /tmp/err | sed 's/^/" + ERR + "/'; " +
            "echo \"" + STEP + "exit status $st after $(( $(date +%s) - t0 )) s\"; [ $st -eq 0 ] || fails=1; }\n" +
            "step " + LS.trim() + " 'pcb agent ls -l demo/' pcb agent ls -l demo/\n" +
            "step " + LS.trim() + " 'pcb agent ls -l demo/data' pcb agent ls -l demo/data\n" +
            "step " + SHA.trim() + " 'pcb agent sha256 (" + expected.size() + " files)' pcb agent sha256" + paths +
            "\n" +
            "exit $fails\n";
    }
}
