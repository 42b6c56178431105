package dev.pcb.it;

import dev.pcb.layout.DataRegionDescriptor;
import dev.pcb.layout.RunDirectory;
import dev.pcb.testsupport.BrokerProcess;
import dev.pcb.testsupport.JavaProcess;
import dev.pcb.testsupport.TestShare;
import dev.pcb.testsupport.qemu.GuestFixture;
import dev.pcb.testsupport.qemu.GuestScript;
import dev.pcb.testsupport.qemu.QemuArgs;
import dev.pcb.testsupport.qemu.QemuGuest;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * pcb end to end with real VMs: a {@code pcb broker} process on the host serves a share; two TCG guests boot at the
 * same time, each attached with exactly the QEMU arguments the broker printed for it (the share's one data region
 * read-only, the guest's own control region writable); inside each, the real {@code pcb agent} from the freshly built
 * jars, with no run directory (it finds its regions among the PCI devices by itself), lists the share and hashes every
 * file, one of them twice the size of the region; the host compares listing and checksums with its own. Each guest
 * also writes into the data region's BAR, and the host checks that nothing of it reached the region file.
 * <p>
 * The run directory has a comma and a space in its name, so the printed arguments must be escaped for QEMU and quoted
 * for the shell to work at all.
 */
final class QemuEndToEndTest
{
    private static final Duration GUEST_TIMEOUT = Duration.ofSeconds(180);
    private static final long REGION_SIZE = 4L << 20;
    private static final int WINDOW_SIZE = 64 * 1024;
    private static final int GUEST_MEMORY_MIB = 512;
    private static final String SHARE = "e2e";
    private static final List<String> GUESTS = List.of("vm1", "vm2");
    private static final Pattern BROKER_ARGS = Pattern.compile("^QEMU arguments for guest (\\S+):\\n\\s+(.+)$",
        Pattern.MULTILINE);

    private final GuestFixture fixture = new GuestFixture();
    private Path shareDir;
    private Path runDir;
    private BrokerProcess broker;

    @BeforeEach
    void setUp()
    {
        GuestFixture.requireQemu();
        final String unique = ProcessHandle.current().pid() + "-" + System.nanoTime();
        shareDir = fixture.deleteAfter(GuestFixture.pcbHome().resolve("qemu-e2e").resolve("share-" + unique));
        runDir = fixture.deleteAfter(Path.of("/dev/shm", "pcb-e2e,qemu " + unique));
    }

    @AfterEach
    void tearDown() throws Exception
    {
        fixture.close();
    }

    @Test
    @Timeout(value = 230, unit = TimeUnit.SECONDS)
    void twoGuestsListAndHashTheShareThroughTheAgentAndCannotWriteTheDataRegion() throws Exception
    {
        final long testStart = System.nanoTime();
        final TestShare share = TestShare.create(shareDir);
        final Map<String, Path> files = new LinkedHashMap<>(share.files());
        files.put("big/larger-than-4m-region.bin",
            randomFile(shareDir.resolve("big/larger-than-4m-region.bin"), (int)(2 * REGION_SIZE + 12345)));
        final Map<String, String> expected = new LinkedHashMap<>();
        for (final Map.Entry<String, Path> entry : files.entrySet())
        {
            expected.put(SHARE + "/" + entry.getKey(), TestShare.sha256(entry.getValue()));
        }

        final List<String> brokerArgs = new ArrayList<>(List.of("--share", SHARE + "=" + shareDir,
            "--region-size", Long.toString(REGION_SIZE), "--window-size", Integer.toString(WINDOW_SIZE)));
        for (final String guest : GUESTS)
        {
            brokerArgs.add("--guest");
            brokerArgs.add(guest);
        }
        broker = fixture.closeAfter(BrokerProcess.start(runDir, brokerArgs.toArray(new String[0])));
        final Path dataRegion = RunDirectory.dataRegionFile(runDir, SHARE);
        final byte[] superblockBefore = superblock(dataRegion);

        // The arguments the broker printed, word for word, and pcb qemu-args must print the same line.
        final Map<String, String> printed = new TreeMap<>();
        final Matcher matcher = BROKER_ARGS.matcher(broker.output());
        while (matcher.find())
        {
            printed.put(matcher.group(1), matcher.group(2).trim());
        }
        assertEquals(GUESTS, new ArrayList<>(printed.keySet()), "broker output:\n" + broker.output());
        for (final String guest : GUESTS)
        {
            assertEquals(printed.get(guest), GuestFixture.qemuArgs(runDir, guest),
                "pcb qemu-args differs from the broker's line");
            assertTrue(printed.get(guest).contains(",,qemu"), "the comma of the run dir must be doubled for QEMU: " +
                printed.get(guest));
        }

        final long bootStart = System.nanoTime();
        // Both at once: two guests attached to the one data region at the same time.
        final List<QemuGuest> guests = new ArrayList<>();
        for (final String guest : GUESTS)
        {
            guests.add(fixture.start(QemuGuest.builder()
                .name(guest)
                .cacheDir(GuestFixture.pcbHome().resolve("qemu"))
                .memoryMiB(GUEST_MEMORY_MIB)
                .qemuArgs(QemuArgs.shellWords(printed.get(guest)).toArray(new String[0]))
                .script(guestScript(guest, expected.keySet()))));
        }
        final List<QemuGuest.Result> results = fixture.awaitAll(GUEST_TIMEOUT);
        final long guestsMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - bootStart);

        final Map<String, String> hostListing = hostListing();
        for (int i = 0; i < guests.size(); i++)
        {
            checkGuest(GUESTS.get(i), results.get(i), expected, hostListing);
        }

        assertTrue(broker.process().isAlive(), "the broker died:\n" + broker.output());
        assertArrayEquals(superblockBefore, superblock(dataRegion), "a guest changed the data region's superblock");
        final byte[] region = Files.readAllBytes(dataRegion);
        assertEquals(-1, indexOf(region, GuestBarWriter.PATTERN), "a guest's write reached the host's data region");
        for (final Path source : files.values())
        {
            assertEquals(-1, indexOf(Files.readAllBytes(source), GuestBarWriter.PATTERN), source.toString());
        }

        System.out.printf("QemuEndToEndTest: guests %s booted in %s, both done in %d ms; whole test %d ms%n",
            GUESTS, results.stream().map((r) -> r.readyAfter().map(Duration::toMillis).orElse(-1L) + " ms").toList(),
            guestsMs, TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - testStart));
    }

    private void checkGuest(
        final String name,
        final QemuGuest.Result result,
        final Map<String, String> expected,
        final Map<String, String> hostListing)
    {
        final String console = result.console();
        final String context = "guest " + name + " (" + result + "), broker:\n" + broker.output() + "\nconsole:\n" +
            console;
        if (!result.succeeded())
        {
            fail("guest " + name + " failed: " + context);
        }

        final Map<String, String> listing = new TreeMap<>();
        for (final String line : GuestScript.lines(console, "PCB-E2E-LS "))
        {
            final String[] parts = line.trim().split("\\s+", 3);
            listing.put(parts[2], "d".equals(parts[0]) ? "d" : parts[0] + " " + parts[1]);
        }
        assertEquals(hostListing, listing, "listing of " + SHARE + "/ in " + context);

        final Map<String, String> sums = new LinkedHashMap<>();
        for (final String line : GuestScript.lines(console, "PCB-E2E-SHA "))
        {
            final String[] parts = line.trim().split("\\s+", 2);
            sums.put(parts[1], parts[0]);
        }
        assertEquals(expected, sums, "checksums in " + context);

        final List<String> writes = GuestScript.lines(console, GuestBarWriter.PREFIX);
        assertTrue(writes.contains("data-regions-written=1"), "the guest did not write into the data region: " +
            context);
    }

    /**
     * What the guest runs: the agent from the built jars, the way a user would, with no run directory. vm2 also
     * names its devices with --device (found with the shell, as a user would) for the checksums.
     */
    private static String guestScript(final String guest, final Iterable<String> paths)
    {
        final Path jar = QemuGuest.visibleInGuest(GuestFixture.pcbHome().resolve("pcb.jar"));
        final Path lib = QemuGuest.visibleInGuest(GuestFixture.pcbHome().resolve("lib"));
        assertTrue(Files.isRegularFile(jar) && Files.isDirectory(lib), "run after package: no " + jar + " or " + lib);
        final String classpath = jar + ":" + lib + "/*";

        final List<String> java = new ArrayList<>();
        java.add(QemuGuest.hostJava().toString());
        java.addAll(JavaProcess.jvmFlags());
        // C1 only and the serial collector: JIT work and GC threads cost the most under emulation.
        java.add("-XX:TieredStopAtLevel=1");
        java.add("-XX:+UseSerialGC");
        final String javaLine = QemuArgs.render(java);

        final StringBuilder sha = new StringBuilder();
        for (final String path : paths)
        {
            sha.append(' ').append(QemuArgs.shellQuote(path));
        }
        final String selfFlags = "vm2".equals(guest) ? " --guest " + guest : "";

        return "cd /tmp\n" +
            "fails=0\n" +
            "pcb() { " + javaLine + " -cp " + QemuArgs.shellQuote(classpath) + " dev.pcb.cli.Pcb \"$@\"; }\n" +
            // ls: found by scanning PCI devices.
            "t0=$(date +%s)\n" +
            "pcb agent" + selfFlags + " ls -l " + SHARE + "/ >/tmp/ls.out 2>/tmp/ls.err; st=$?\n" +
            "sed 's/^/PCB-E2E-LS /' /tmp/ls.out; sed 's/^/PCB-E2E-ERR /' /tmp/ls.err\n" +
            "echo \"PCB-E2E-STATUS ls $st $(( $(date +%s) - t0 ))s\"; [ $st -eq 0 ] || fails=$((fails + 1))\n" +
            // A hostile write into the read-only data region, before the checksums.
            javaLine + " -cp " + QemuArgs.shellQuote(testClasses() + ":" + classpath) + " " +
            GuestBarWriter.class.getName() + "; echo \"PCB-E2E-STATUS write $?\"\n" +
            // sha256: scanning in vm1, devices named with --device in vm2.
            "devices=\n" +
            ("vm2".equals(guest) ?
            "for d in /sys/bus/pci/devices/*; do\n" +
            "  if [ \"$(cat $d/vendor)\" = 0x1af4 ] && [ \"$(cat $d/device)\" = 0x1110 ]; then " +
            "devices=\"$devices --device $d/resource2\"; fi\n" +
            "done\n" +
            "echo \"PCB-E2E-DEVICES$devices\"\n" : "") +
            "t0=$(date +%s)\n" +
            "pcb agent $devices sha256" + sha + " >/tmp/sha.out 2>/tmp/sha.err; st=$?\n" +
            "sed 's/^/PCB-E2E-SHA /' /tmp/sha.out; sed 's/^/PCB-E2E-ERR /' /tmp/sha.err\n" +
            "echo \"PCB-E2E-STATUS sha256 $st $(( $(date +%s) - t0 ))s\"; [ $st -eq 0 ] || fails=$((fails + 1))\n" +
            "exit $fails\n";
    }

    /**
     * Top-level entries of the share as {@code pcb agent ls -l} shows them: "- SIZE" for files, "d" for directories.
     */
    private Map<String, String> hostListing() throws IOException
    {
        final Map<String, String> listing = new TreeMap<>();
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(shareDir))
        {
            for (final Path entry : entries)
            {
                listing.put(entry.getFileName().toString(),
                    Files.isDirectory(entry) ? "d" : "- " + Files.size(entry));
            }
        }
        return listing;
    }

    private static byte[] superblock(final Path dataRegion) throws IOException
    {
        final byte[] bytes = Files.readAllBytes(dataRegion);
        final ByteBuffer buffer = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        assertEquals(DataRegionDescriptor.MAGIC, buffer.getLong(0), "data region not ready");
        // Identity and geometry: what the broker writes once, before it signals ready.
        return Arrays.copyOfRange(bytes, 0, DataRegionDescriptor.SHARE_NAME_OFFSET);
    }

    private static int indexOf(final byte[] haystack, final byte[] needle)
    {
        outer:
        for (int i = 0; i <= haystack.length - needle.length; i++)
        {
            for (int j = 0; j < needle.length; j++)
            {
                if (haystack[i + j] != needle[j])
                {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }

    private static Path randomFile(final Path file, final int size) throws IOException
    {
        final byte[] bytes = new byte[size];
        new SplittableRandom(11).nextBytes(bytes);
        Files.createDirectories(file.getParent());
        return Files.write(file, bytes);
    }

    private static Path testClasses()
    {
        try
        {
            return QemuGuest.visibleInGuest(
                Path.of(GuestBarWriter.class.getProtectionDomain().getCodeSource().getLocation().toURI()));
        }
        catch (final URISyntaxException ex)
        {
            throw new IllegalStateException(ex);
        }
    }
}
