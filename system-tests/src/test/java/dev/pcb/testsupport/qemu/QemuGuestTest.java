package dev.pcb.testsupport.qemu;

import dev.pcb.layout.ControlRegionDescriptor;
import dev.pcb.layout.DataRegionDescriptor;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.net.URISyntaxException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.zip.CRC32;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Two real TCG guests at once, each running the host's java on the freshly built jars: they find their regions among
 * several ivshmem-plain devices by magic and header (the devices are attached in different orders), read the one
 * shared data region, write into their own control region, and fail to change the read-only data region.
 * <p>
 * Runs from failsafe after package, with {@code pcb.home} = cli/target.
 */
final class QemuGuestTest
{
    private static final Duration GUEST_TIMEOUT = Duration.ofSeconds(150);
    private static final long REGION_ID = 0x5043_4254_4553_5401L;
    private static final long DECOY_REGION_ID = 0x5043_4254_4553_5402L;
    private static final int DATA_SIZE = 4 << 20;
    private static final int WINDOW_SIZE = 64 * 1024;
    private static final int MARKER_OFFSET = ControlRegionDescriptor.HEADER_LENGTH;
    private static final int READ_ONLY_WRITE_OFFSET = DataRegionDescriptor.SUPERBLOCK_LENGTH + 8;
    private static final List<String> PASSED_JVM_FLAGS = List.of(
        "--add-opens=", "--add-exports=", "--enable-native-access=", "--sun-misc-unsafe-memory-access=");

    private final GuestFixture fixture = new GuestFixture();
    private Path regionDir;

    @BeforeEach
    void setUp() throws IOException
    {
        GuestFixture.requireQemu();
        regionDir = fixture.deleteAfter(Files.createTempDirectory(Path.of("/dev/shm"), "pcb-qemu-test-"));
    }

    @AfterEach
    void tearDown() throws Exception
    {
        fixture.close();
    }

    @Test
    @Timeout(value = 170, unit = TimeUnit.SECONDS)
    void twoGuestsFindTheirRegionsByContentShareDataAndCannotWriteIt() throws Exception
    {
        final byte[] data = dataRegion(REGION_ID, "share", 1);
        final byte[] decoy = dataRegion(DECOY_REGION_ID, "decoy", 2);
        final long dataCrc = crc(data);
        final Path dataFile = write("data.region", data);
        final Path decoyFile = write("decoy.region", decoy);
        final Path controlA = write("vm-a.control", controlRegion("vm-a"));
        final Path controlB = write("vm-b.control", controlRegion("vm-b"));
        final long controlSize = Files.size(controlA);

        final long startNanos = System.nanoTime();
        // Both at once, one deadline for both.
        fixture.start(guest("vm-a", List.of(
            IvshmemRegion.readOnly("data0", dataFile, DATA_SIZE),
            IvshmemRegion.writable("ctrl", controlA, controlSize))));
        fixture.start(guest("vm-b", List.of(
            IvshmemRegion.writable("ctrl", controlB, controlSize),
            IvshmemRegion.readOnly("data1", decoyFile, DATA_SIZE),
            IvshmemRegion.readOnly("data0", dataFile, DATA_SIZE))));
        final List<QemuGuest.Result> results = fixture.awaitAll(GUEST_TIMEOUT);
        final QemuGuest.Result resultA = results.get(0);
        final QemuGuest.Result resultB = results.get(1);
        System.out.printf("QemuGuestTest: both guests done in %d ms; vm-a %s; vm-b %s%n",
            TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startNanos), resultA, resultB);

        final String expectedCrc = Long.toHexString(dataCrc);
        final String dataAddressA = checkGuest("vm-a", resultA, controlA, expectedCrc);
        final String dataAddressB = checkGuest("vm-b", resultB, controlB, expectedCrc);
        assertNotEquals(dataAddressA, dataAddressB, "the test should put the data region in different PCI slots");

        assertArrayEquals(data, Files.readAllBytes(dataFile), "a guest changed the read-only data region");
        assertArrayEquals(decoy, Files.readAllBytes(decoyFile), "a guest changed the read-only decoy region");
    }

    private String checkGuest(final String name, final QemuGuest.Result result, final Path control, final String crc)
        throws IOException
    {
        final String console = result.console();
        if (!result.succeeded())
        {
            fail("guest " + name + " failed: " + result + "\n" + console);
        }

        assertEquals(crc, GuestFixture.probeValue(console, IvshmemProbe.PREFIX + "data-crc="),
            name + " read other data:\n" + console);
        assertTrue(console.contains(IvshmemProbe.PREFIX + "ro-write-attempted"), name + ":\n" + console);

        final byte[] expectedMarker = ("PCB-MARK guest=" + name + " crc=" + crc).getBytes(StandardCharsets.US_ASCII);
        final byte[] controlBytes = Files.readAllBytes(control);
        final byte[] marker = Arrays.copyOfRange(controlBytes, MARKER_OFFSET, MARKER_OFFSET + expectedMarker.length);
        assertEquals(new String(expectedMarker, StandardCharsets.US_ASCII),
            new String(marker, StandardCharsets.US_ASCII), name + "'s marker did not reach the host");
        assertEquals(ControlRegionDescriptor.MAGIC,
            ByteBuffer.wrap(controlBytes).order(ByteOrder.LITTLE_ENDIAN).getLong(0), name);

        return GuestFixture.probeValue(console, IvshmemProbe.PREFIX + "data=");
    }

    /**
     * Different orders, and a second data region for vm-b: only the content can tell the devices apart.
     */
    private static QemuGuest.Builder guest(final String name, final List<IvshmemRegion> regions)
    {
        final QemuGuest.Builder builder = QemuGuest.builder()
            .name(name)
            .cacheDir(GuestFixture.pcbHome().resolve("qemu"))
            .memoryMiB(1024)
            .script(probeScript(name));
        regions.forEach(builder::ivshmem);
        return builder;
    }

    private static String probeScript(final String name)
    {
        final List<String> command = new ArrayList<>();
        command.add("exec");
        command.add(QemuGuest.hostJava().toString());
        command.addAll(passedJvmFlags());
        // C1 only and the serial collector: JIT work and GC threads cost the most under emulation.
        command.add("-XX:TieredStopAtLevel=1");
        command.add("-XX:+UseSerialGC");
        command.add("-cp");
        command.add(guestClasspath());
        command.add(IvshmemProbe.class.getName());
        command.add(name);
        command.add(Long.toHexString(REGION_ID));
        command.add(Integer.toString(MARKER_OFFSET));
        command.add(Integer.toString(READ_ONLY_WRITE_OFFSET));

        return QemuArgs.render(command) + "\n";
    }

    /**
     * The test classes and the packaged jars, as the guest sees them: same paths, since its root is the host's.
     */
    private static String guestClasspath()
    {
        final Path testClasses;
        try
        {
            testClasses = Path.of(IvshmemProbe.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        }
        catch (final URISyntaxException ex)
        {
            throw new IllegalStateException(ex);
        }

        final Path jar = GuestFixture.pcbHome().resolve("pcb.jar");
        final Path lib = GuestFixture.pcbHome().resolve("lib");
        assertTrue(Files.isRegularFile(jar) && Files.isDirectory(lib), "run after package: no " + jar + " or " + lib);

        return QemuGuest.visibleInGuest(testClasses) + ":" +
            QemuGuest.visibleInGuest(jar) + ":" +
            QemuGuest.visibleInGuest(lib) + "/*";
    }

    /**
     * The module flags this JVM got (Agrona's --add-opens and the like), for the guest's JVM.
     */
    private static List<String> passedJvmFlags()
    {
        final List<String> flags = new ArrayList<>();
        for (final String argument : ManagementFactory.getRuntimeMXBean().getInputArguments())
        {
            if (PASSED_JVM_FLAGS.stream().anyMatch(argument::startsWith))
            {
                flags.add(argument);
            }
        }

        return flags;
    }

    private Path write(final String name, final byte[] content) throws IOException
    {
        return Files.write(regionDir.resolve(name), content);
    }

    private static byte[] dataRegion(final long regionId, final String shareName, final long seed)
    {
        final byte[] bytes = new byte[DATA_SIZE];
        final UnsafeBuffer buffer = new UnsafeBuffer(bytes);
        DataRegionDescriptor.writeSuperblock(buffer, DATA_SIZE, regionId, 1, WINDOW_SIZE, shareName);

        final SplittableRandom random = new SplittableRandom(seed);
        for (int i = DataRegionDescriptor.SUPERBLOCK_LENGTH; i < DATA_SIZE; i += Long.BYTES)
        {
            buffer.putLong(i, random.nextLong());
        }
        DataRegionDescriptor.signalReady(buffer);

        return bytes;
    }

    private static byte[] controlRegion(final String guestName)
    {
        final int requestCapacity = ControlRegionDescriptor.DEFAULT_REQUEST_RING_CAPACITY;
        final int responseCapacity = ControlRegionDescriptor.DEFAULT_RESPONSE_RING_CAPACITY;
        final int slotCount = ControlRegionDescriptor.DEFAULT_SLOT_COUNT;
        final long length = ControlRegionDescriptor.regionLength(
            slotCount, ControlRegionDescriptor.slotLength(requestCapacity, responseCapacity));

        final byte[] bytes = new byte[Math.toIntExact(length)];
        final UnsafeBuffer buffer = new UnsafeBuffer(bytes);
        ControlRegionDescriptor.writeHeader(buffer, length, 1, ProcessHandle.current().pid(), slotCount,
            requestCapacity, responseCapacity, guestName, 5_000, 5_000);
        ControlRegionDescriptor.signalReady(buffer);

        return bytes;
    }

    private static long crc(final byte[] bytes)
    {
        final CRC32 crc = new CRC32();
        crc.update(bytes);
        return crc.getValue();
    }
}
