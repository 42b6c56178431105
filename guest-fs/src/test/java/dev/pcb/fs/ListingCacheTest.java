package dev.pcb.fs;

import dev.pcb.agent.DirEntry;
import dev.pcb.protocol.FileAttributes;
import dev.pcb.protocol.FileType;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;

class ListingCacheTest
{
    private static final long SECOND = 1_000_000_000L;

    private long now = 100 * SECOND;

    private static DirEntry entry(final String name, final long size)
    {
        final FileAttributes attributes = new FileAttributes().set(FileType.REGULAR, 0100644, size, 1, 1, size, 1, 1);
        return new DirEntry(name, FileType.REGULAR, size, attributes);
    }

    @Test
    void answersListedNamesOnlyWithinTheTimeout()
    {
        final ListingCache cache = new ListingCache(SECOND, () -> now);
        final DirEntry a = entry("a", 3);
        cache.put("data/d", List.of(a, new DirEntry("gone", FileType.OTHER, 0, null)), 1);
        assertSame(a.attributes(), cache.find("data/d", "a"));
        assertNull(cache.find("data/d", "gone"), "a name listed without attributes is asked for");
        assertNull(cache.find("data/d", "new"), "a name not listed may have been created since");
        assertNull(cache.find("data", "a"), "another directory");
        assertSame(a.attributes(), cache.findPath("data/d/a"));
        assertEquals(2, cache.entries("data/d").size());
        assertNull(cache.entries("data"));
        now += SECOND - 1;
        assertSame(a.attributes(), cache.find("data/d", "a"));
        now += 1;
        assertNull(cache.find("data/d", "a"), "expired at the timeout");
        assertNull(cache.entries("data/d"));
        assertEquals(0, cache.size());
    }

    @Test
    void aTimeoutOfZeroKeepsNothing()
    {
        final ListingCache cache = new ListingCache(0, () -> now);
        cache.put("data", List.of(entry("a", 1)), 1);
        assertNull(cache.find("data", "a"));
        assertEquals(0, cache.size());
    }

    @Test
    void aStaleOpenForgetsTheParentsListing()
    {
        final ListingCache cache = new ListingCache(SECOND, () -> now);
        cache.put("data/d", List.of(entry("a", 1)), 1);
        cache.invalidateParentOf("data/d/a");
        assertNull(cache.find("data/d", "a"));
    }

    @Test
    void staysBoundedDroppingExpiredListingsFirst()
    {
        final ListingCache cache = new ListingCache(SECOND, () -> now);
        for (int i = 0; i < ListingCache.MAX_DIRECTORIES; i++)
        {
            cache.put("data/old" + i, List.of(entry("a", 1)), 1);
        }
        now += 2 * SECOND;
        cache.put("data/fresh", List.of(entry("a", 1)), 1);
        assertEquals(1, cache.size());
        for (int i = 1; i < ListingCache.MAX_DIRECTORIES + 10; i++)
        {
            cache.put("data/new" + i, List.of(entry("a", 1)), 1);
            assertEquals(true, cache.size() <= ListingCache.MAX_DIRECTORIES);
        }
    }

    @Test
    void anAdvanceForgetsEveryListingAndRefusesOnesAskedBeforeIt()
    {
        final ListingCache cache = new ListingCache(SECOND, () -> now);
        cache.put("data/d", List.of(entry("a", 1)), 1);
        cache.advance(2);
        assertNull(cache.find("data/d", "a"), "a listing of the older tree answers nothing after the advance");
        assertEquals(0, cache.size());
        cache.put("data/d", List.of(entry("a", 1)), 1);
        assertNull(cache.entries("data/d"), "a listing asked before the advance and kept after it is refused");
        cache.put("data/d", List.of(entry("a", 2)), 2);
        assertEquals(2, cache.find("data/d", "a").size());
    }
}
