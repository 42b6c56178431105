package dev.pcb.testsupport.qemu;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Pieces of guest scripts shared by the QEMU tests, the guest benchmark and {@code pcb demo --qemu}: shell functions
 * for busybox {@code sh} (and bash) that start {@code pcb mount} the way {@code dist/pcb-mount@.service} does, print
 * the PCI devices, read {@code /proc} counters and report each step, plus the Java side that reads those reports
 * back from the console.
 * <p>
 * Every report is one console line: {@code PCB-STATUS STEP STATUS [DETAIL...]}. A script starts with
 * {@link #prelude()} and then calls, for example:
 * <pre>
 * pcb_pci                                  # PCB-PCI 0000:00:02.0 0x1af4 0x1110, one line per device
 * pcb_mount s /mnt/pcb/s --cache none      # PCB-STATUS mount 0 mounted s at /mnt/pcb/s
 * sha256sum -c SUMS; pcb_status sha $?     # PCB-STATUS sha 0
 * pcb_kib Cached                           # KiB of a /proc/meminfo field
 * pcb_kib VmRSS /proc/$pcb_mount_pid/status
 * pcb_umount                               # PCB-STATUS umount 0; fails unless the mount is gone
 * </pre>
 * Where {@code pcb} is not the bundle's {@code bin/pcb} on the PATH (a guest on the host root), the script starts with
 * {@link #launcher(String)} instead: a command, not a shell function, so that {@code pcb mount &} leaves the JVM's
 * own process id in {@code $!} and {@code pcb_umount}'s SIGTERM reaches the JVM, as the unit's does.
 */
public final class GuestScript
{
    /** Prefix of a step's report line. */
    public static final String STATUS = "PCB-STATUS ";

    /** Prefix of a PCI device line: slot, vendor, device. */
    public static final String PCI = "PCB-PCI ";

    /** JVM options of a guest's pcb: the guest unit's (small heap, serial GC) plus C1 only, which TCG needs most. */
    public static final String JAVA_OPTS = "-Xmx128m -XX:+UseSerialGC -XX:TieredStopAtLevel=1";

    /** virtio-9p PCI ids ({@code vendor:device}, transitional and modern): a bundle guest must have neither. */
    public static final List<String> VIRTIO_9P_IDS = List.of("0x1af4:0x1009", "0x1af4:0x1049");

    /** ivshmem PCI id ({@code vendor:device}). */
    public static final String IVSHMEM_ID = "0x1af4:0x1110";

    /** How long {@code pcb_mount} waits for the "mounted" line, in seconds. */
    public static final int MOUNT_WAIT_SECONDS = 120;

    private GuestScript()
    {
    }

    /**
     * Shell functions every guest script starts with; see the class comment.
     *
     * @return the text, ending with a newline.
     */
    public static String prelude()
    {
        return "export PCB_JAVA_OPTS=\"${PCB_JAVA_OPTS:-" + JAVA_OPTS + "}\"\n" +
            "pcb_status() { echo \"" + STATUS + "$*\"; }\n" +
            // KiB of FIELD in FILE (default /proc/meminfo): Cached, VmRSS, VmHWM...
            "pcb_kib() { awk -v k=\"$1:\" '$1 == k { print $2 }' \"${2:-/proc/meminfo}\"; }\n" +
            "pcb_pci() { for d in /sys/bus/pci/devices/*; do " +
            "echo \"" + PCI + "${d##*/} $(cat $d/vendor) $(cat $d/device)\"; done; }\n" +
            "pcb_drop_caches() { sync; echo 3 > /proc/sys/vm/drop_caches; }\n" +
            // What pcb-mount@.service does: mkdir the mount point, start pcb mount, and count it started once it
            // printed its line; a mount that exits or never prints fails the step with the tail of its errors.
            "pcb_mount() {\n" +
            "  pcb_mount_src=$1; pcb_mount_point=$2; shift 2\n" +
            "  mkdir -p \"$pcb_mount_point\"\n" +
            "  pcb mount \"$@\" \"$pcb_mount_src\" \"$pcb_mount_point\" >/tmp/pcb-mount.out 2>/tmp/pcb-mount.err &\n" +
            "  pcb_mount_pid=$!\n" +
            "  t0=$(date +%s)\n" +
            "  until grep -qxF \"mounted $pcb_mount_src at $pcb_mount_point\" /tmp/pcb-mount.out; do\n" +
            "    if ! kill -0 $pcb_mount_pid 2>/dev/null || [ $(( $(date +%s) - t0 )) -ge " + MOUNT_WAIT_SECONDS +
            " ]; then\n" +
            "      kill $pcb_mount_pid 2>/dev/null; tail -20 /tmp/pcb-mount.err | sed 's/^/PCB-MOUNT-ERR /'\n" +
            "      pcb_status mount 1 no mounted line after $(( $(date +%s) - t0 )) s; return 1\n" +
            "    fi\n" +
            "    sleep 0.2\n" +
            "  done\n" +
            "  pcb_status mount 0 $(cat /tmp/pcb-mount.out) after $(( $(date +%s) - t0 )) s\n" +
            "}\n" +
            // The unit stops the mount with SIGTERM (SuccessExitStatus=143): it unmounts and detaches.
            "pcb_umount() {\n" +
            "  kill -TERM $pcb_mount_pid; wait $pcb_mount_pid; st=$?\n" +
            "  [ $st -eq 143 ] && st=0\n" +
            "  grep -q \" $pcb_mount_point \" /proc/mounts && st=\"$st still-mounted\"\n" +
            "  pcb_status umount $st\n" +
            "  grep -v 'Chronicle core loaded' /tmp/pcb-mount.err | tail -20 | sed 's/^/PCB-MOUNT-ERR /'\n" +
            "  [ \"$st\" = 0 ]\n" +
            "}\n";
    }

    /**
     * Shell commands that put a {@code pcb} launcher first on the PATH, {@code /tmp/bin/pcb}: a script that
     * {@code exec}s the given command with its arguments, as the bundle's {@code bin/pcb} does.
     *
     * @param command the command, already quoted for the shell; {@code $PCB_JAVA_OPTS} in it is expanded per run.
     * @return the commands, ending with a newline.
     */
    public static String launcher(final String command)
    {
        return "mkdir -p /tmp/bin\n" +
            writeFile("/tmp/bin/pcb", "#!/bin/sh\nexec " + command + " \"$@\"\n") +
            "chmod +x /tmp/bin/pcb\n" +
            "export PATH=/tmp/bin:$PATH\n";
    }

    /**
     * A shell command that writes a file inside the guest from a quoted here-document.
     *
     * @param path    where, in the guest.
     * @param content the text; must not contain a line {@code PCB_EOF}.
     * @return the command, ending with a newline.
     */
    public static String writeFile(final String path, final String content)
    {
        if (content.contains("\nPCB_EOF\n") || content.startsWith("PCB_EOF\n"))
        {
            throw new IllegalArgumentException("content holds the here-document's end marker");
        }
        return "cat > " + QemuArgs.shellQuote(path) + " <<'PCB_EOF'\n" + content +
            (content.endsWith("\n") || content.isEmpty() ? "" : "\n") + "PCB_EOF\n";
    }

    /**
     * The reports of a console, by step; a step reported twice keeps its last report.
     *
     * @param console the guest's console output.
     * @return step name to the words after it (the status first), in console order.
     */
    public static Map<String, List<String>> statuses(final String console)
    {
        final Map<String, List<String>> statuses = new LinkedHashMap<>();
        for (final String line : lines(console, STATUS))
        {
            final String[] words = line.trim().split("\\s+");
            if (words.length >= 2)
            {
                statuses.put(words[0], List.of(words).subList(1, words.length));
            }
        }
        return statuses;
    }

    /**
     * The PCI devices the guest listed with {@code pcb_pci}.
     *
     * @param console the guest's console output.
     * @return {@code vendor:device} of each, in slot order.
     */
    public static List<String> pciDevices(final String console)
    {
        final List<String> devices = new ArrayList<>();
        for (final String line : lines(console, PCI))
        {
            final String[] words = line.trim().split("\\s+");
            if (words.length == 3)
            {
                devices.add(words[1] + ":" + words[2]);
            }
        }
        return devices;
    }

    /**
     * The console lines that start with a prefix, without it.
     *
     * @param console the guest's console output.
     * @param prefix  the prefix.
     * @return the rest of each such line.
     */
    public static List<String> lines(final String console, final String prefix)
    {
        final List<String> lines = new ArrayList<>();
        for (final String line : console.split("\r?\n"))
        {
            if (line.startsWith(prefix))
            {
                lines.add(line.substring(prefix.length()));
            }
        }
        return lines;
    }
}
