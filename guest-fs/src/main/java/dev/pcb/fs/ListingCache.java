package dev.pcb.fs;

import dev.pcb.agent.DirEntry;
import dev.pcb.protocol.FileAttributes;
import org.agrona.concurrent.NanoClock;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The attributes the mount learned from its latest listing of each directory, kept for the entry timeout, so a
 * LOOKUP of a name just listed is answered without a pcb STAT. Within the timeout the kernel may serve the same
 * attributes from its own caches anyway, so this adds no staleness the timeout does not already allow; with a
 * timeout of 0 nothing is kept. A name the listing does not have is never answered from here (it may have been
 * created since): the caller asks the broker.
 * <p>
 * Bounded: at most {@link #MAX_DIRECTORIES} listings; when full, the expired ones go, and if none had expired, all.
 * Read from several worker threads at once.
 */
final class ListingCache
{
    /** Most directory listings kept at once. */
    static final int MAX_DIRECTORIES = 4096;

    private final ConcurrentHashMap<String, Listing> listings = new ConcurrentHashMap<>();
    private final long timeoutNanos;
    private final NanoClock clock;

    /**
     * @param timeoutNanos how long a listing answers lookups; 0 keeps none.
     * @param clock        time source.
     */
    ListingCache(final long timeoutNanos, final NanoClock clock)
    {
        this.timeoutNanos = timeoutNanos;
        this.clock = clock;
    }

    /**
     * Keep a directory's listing, replacing the one before.
     *
     * @param directory agent path of the directory.
     * @param entries     the listing as taken now.
     */
    void put(final String directory, final List<DirEntry> entries)
    {
        if (timeoutNanos <= 0)
        {
            return;
        }
        final long now = clock.nanoTime();
        if (listings.size() >= MAX_DIRECTORIES && !listings.containsKey(directory))
        {
            listings.values().removeIf((listing) -> now - listing.takenNanos >= timeoutNanos);
            if (listings.size() >= MAX_DIRECTORIES)
            {
                listings.clear();
            }
        }
        listings.put(directory, new Listing(now, entries));
    }

    /**
     * The attributes of a name as last listed, if that listing is younger than the timeout.
     *
     * @param directory agent path of the directory.
     * @param name        entry name.
     * @return the attributes (never to be changed), or null: ask the broker.
     */
    FileAttributes find(final String directory, final String name)
    {
        final Listing listing = listings.get(directory);
        if (null == listing)
        {
            return null;
        }
        if (clock.nanoTime() - listing.takenNanos >= timeoutNanos)
        {
            listings.remove(directory, listing);
            return null;
        }
        return listing.byName.get(name);
    }

    /**
     * Forget the listing of the directory a path is in: the broker has shown that path to be another version now.
     *
     * @param path agent path of an entry.
     */
    void invalidateParentOf(final String path)
    {
        final int slash = path.lastIndexOf('/');
        if (slash > 0)
        {
            listings.remove(path.substring(0, slash));
        }
    }

    /** @return listings kept now. */
    int size()
    {
        return listings.size();
    }

    private static final class Listing
    {
        final long takenNanos;
        final Map<String, FileAttributes> byName;

        Listing(final long takenNanos, final List<DirEntry> entries)
        {
            this.takenNanos = takenNanos;
            this.byName = new HashMap<>(entries.size() * 2);
            for (final DirEntry entry : entries)
            {
                if (null != entry.attributes())
                {
                    byName.put(entry.name(), entry.attributes());
                }
            }
        }
    }
}
