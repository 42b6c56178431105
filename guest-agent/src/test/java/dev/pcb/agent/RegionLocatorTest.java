package dev.pcb.agent;

import dev.pcb.layout.ControlRegionDescriptor;
import dev.pcb.nativeshim.MappedRegion;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link RegionLocator} in VM mode (no run directory) over named devices, as {@code pcb agent --device} uses it and
 * as a guest sees its BARs: a device is there from the start, its header only once a broker made the region.
 */
@Timeout(30)
final class RegionLocatorTest
{
    private static final int REQUEST_RING = 64 * 1024;
    private static final int RESPONSE_RING = 64 * 1024;
    private static final int SLOTS = 2;

    @TempDir
    Path dir;

    @Test
    void waitsForTheBrokerToPublishTheControlRegion() throws Exception
    {
        final long length = regionLength();
        final Path other = zeroed("other.ctl", length);
        final Path mine = zeroed("mine.ctl", length);
        final AgentConfig config = new AgentConfig().guest("vm1").devices(other, mine)
            .connectTimeout(Duration.ofSeconds(20));

        final CompletableFuture<MappedRegion> found = CompletableFuture.supplyAsync(() ->
        {
            try
            {
                return new RegionLocator(config).control();
            }
            catch (final IOException ex)
            {
                throw new IllegalStateException(ex);
            }
        });
        Thread.sleep(300);
        assertFalse(found.isDone(), "must wait while no device carries a control header");

        publish(other, "vm2", length);
        publish(mine, "vm1", length);
        try (MappedRegion region = found.get(10, TimeUnit.SECONDS))
        {
            assertEquals(mine, region.path());
            assertTrue(region.isWritable());
        }
    }

    @Test
    void givesUpAtTheConnectTimeoutNamingTheGuestsItSaw() throws Exception
    {
        final long length = regionLength();
        final Path other = zeroed("other.ctl", length);
        publish(other, "vm2", length);
        final AgentConfig config = new AgentConfig().guest("vm1").devices(other)
            .connectTimeout(Duration.ofMillis(300));

        final long startNs = System.nanoTime();
        final BrokerUnavailableException ex =
            assertThrows(BrokerUnavailableException.class, () -> new RegionLocator(config).control());
        assertTrue(System.nanoTime() - startNs >= TimeUnit.MILLISECONDS.toNanos(300), "gave up too early");
        assertTrue(ex.getMessage().contains("vm2"), ex.getMessage());
    }

    private static long regionLength()
    {
        return ControlRegionDescriptor.regionLength(SLOTS, ControlRegionDescriptor.slotLength(REQUEST_RING,
            RESPONSE_RING));
    }

    private Path zeroed(final String name, final long length) throws IOException
    {
        final Path file = dir.resolve(name);
        Files.write(file, new byte[Math.toIntExact(length)]);
        return file;
    }

    private static void publish(final Path file, final String guest, final long length) throws IOException
    {
        try (MappedRegion region = MappedRegion.map(file, true))
        {
            final UnsafeBuffer buffer = new UnsafeBuffer(region.address(), Math.toIntExact(length));
            ControlRegionDescriptor.writeHeader(buffer, length, 1, 1, SLOTS, REQUEST_RING, RESPONSE_RING, guest,
                5_000, 5_000);
            ControlRegionDescriptor.signalReady(buffer);
        }
    }
}
