package dev.pcb.broker;

import dev.pcb.layout.WindowDescriptor;
import dev.pcb.protocol.FileAttributes;
import dev.pcb.protocol.FileType;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The window table over a real mapped region: pinned windows are never handed out again, garbage goes first, and
 * packed small files get disjoint aligned slots.
 */
class WindowTableTest
{
    private static final int WINDOW = 64 * 1024;

    @TempDir
    Path shareDir;

    private Path regionFile;
    private Share share;
    private WindowTable table;
    private final AtomicLong ids = new AtomicLong();

    @BeforeEach
    void setUp() throws Exception
    {
        regionFile = Files.createTempFile(Path.of("/dev/shm"), "pcb-window-table", ".data");
        Files.delete(regionFile);
        final DataRegion region = new DataRegion(regionFile, 1 << 20, WINDOW, 1, 1, "data");
        share = new Share(1, "data", shareDir, region, ids::incrementAndGet);
        table = share.windows();
    }

    @AfterEach
    void tearDown() throws Exception
    {
        share.close();
        Files.deleteIfExists(regionFile);
    }

    @Test
    void aPinnedWindowIsNeverHandedOutAgain()
    {
        final FileVersion big = version("big", 100L * WINDOW);
        final int pinned = fill(big, 0);
        table.pin(pinned);
        final Set<Integer> seen = new HashSet<>();
        for (long w = 1; w < 100; w++)
        {
            final int window = fill(big, w);
            assertNotEquals(pinned, window, "window " + w + " took the pinned window");
            seen.add(window);
        }
        assertEquals(table.count() - 1, seen.size(), "every other window was used in turn");
        assertEquals(pinned, big.windowOf(0), "the pinned window still holds file window 0");
        assertTrue(table.evictions() > 0);
    }

    @Test
    void noWindowWhenAllArePinned()
    {
        final FileVersion big = version("big", 100L * WINDOW);
        for (long w = 0; w < table.count(); w++)
        {
            table.pin(fill(big, w));
        }
        assertEquals(WindowTable.NONE, table.allocate(big, table.count(), 0, WINDOW));
        assertEquals(table.count(), table.pinnedCount());
    }

    @Test
    void windowsOfAVersionNobodyCanReadGoFirst()
    {
        final FileVersion cached = version("cached", 5L * WINDOW);
        final FileVersion garbage = version("garbage", 5L * WINDOW);
        final List<Integer> garbageWindows = new ArrayList<>();
        for (long w = 0; w < 5; w++)
        {
            fill(cached, w);
            garbageWindows.add(fill(garbage, w));
        }
        final FileVersion filler = version("filler", 100L * WINDOW);
        for (long w = 0; w < table.count() - 10; w++)
        {
            fill(filler, w);
        }
        assertEquals(0, table.freeCount());
        garbage.markSuperseded();

        final FileVersion next = version("next", 5L * WINDOW);
        for (long w = 0; w < 5; w++)
        {
            assertTrue(garbageWindows.contains(fill(next, w)), "a superseded version's window must be taken first");
        }
        assertEquals(5, cached.windowCount(), "the cached current version was not touched");
    }

    @Test
    void smallFilesShareAWindowAtAlignedDisjointOffsets()
    {
        final List<FileVersion> small = new ArrayList<>();
        final int size = 3000;
        int window = WindowTable.NONE;
        for (int i = 0; i < 20; i++)
        {
            final FileVersion v = version("s" + i, size);
            final int w = table.allocatePacked(v, size);
            if (WindowTable.NONE != window)
            {
                assertEquals(window, w, "small files keep filling the current packed window");
            }
            window = w;
            small.add(v);
            assertEquals(0, v.packedOffset() % WindowTable.PACK_ALIGNMENT);
        }
        assertEquals(WindowDescriptor.STATE_PACKED, table.state(window));
        for (int i = 1; i < small.size(); i++)
        {
            assertTrue(small.get(i).packedOffset() >= small.get(i - 1).packedOffset() + size, "slots overlap");
        }

        for (final FileVersion v : small)
        {
            table.removeMember(window, v);
            assertFalse(v.isPacked());
        }
        assertEquals(WindowDescriptor.STATE_FREE, table.state(window), "the last member out frees the window");
    }

    private int fill(final FileVersion version, final long fileWindow)
    {
        final int window = table.allocate(version, fileWindow, fileWindow * WINDOW, WINDOW);
        assertNotEquals(WindowTable.NONE, window);
        table.filled(window, fileWindow * WINDOW, WINDOW);
        return window;
    }

    private FileVersion version(final String path, final long size)
    {
        final FileAttributes attributes = new FileAttributes()
            .set(FileType.REGULAR, 0100644, size, 1, 1, ids.get() + 1000, 1, 1);
        return new FileVersion(ids.incrementAndGet(), share, path, -1, attributes);
    }
}
