package dev.pcb.fs;

import dev.pcb.agent.DirEntry;
import dev.pcb.protocol.FileAttributes;
import org.agrona.concurrent.NanoClock;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The mount's latest listing of each directory, with its entries' attributes, kept for the entry timeout, so a
 * LOOKUP of a name just listed, a GETATTR of a directory just listed in its parent and an OPENDIR of a directory just
 * listed are answered without a round trip to the broker. Within the timeout the kernel may serve the same
 * attributes and names from its own caches anyway, so this adds no staleness the timeout does not already allow (an
 * OPENDIR answered from here shows the directory as it was at most a timeout ago); with a timeout of 0 nothing is
 * kept. A LOOKUP of a name the listing does not have is never answered from here (it may have been created since):
 * the caller asks the broker.
 * <p>
 * Bounded: at most {@link #MAX_DIRECTORIES} listings; when full, the expired ones go, and if none had expired, all.
 * Read from several worker threads at once.
 * <p>
 * A listing belongs to the mount generation it was taken in ({@link PcbFileSystem#generation()}, one per tree
 * version advance): {@link #advance} forgets them all, and a listing taken before the advance but kept after it is
 * refused, so nothing of an older tree answers after an advance.
 */
final class ListingCache
{
    /** Most directory listings kept at once. */
    static final int MAX_DIRECTORIES = 4096;

    private final ConcurrentHashMap<String, Listing> listings = new ConcurrentHashMap<>();
    private final long timeoutNanos;
    private final NanoClock clock;
    private volatile long generation = 1;

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
     * @param generation  the mount generation the listing was asked in.
     */
    void put(final String directory, final List<DirEntry> entries, final long generation)
    {
        if (timeoutNanos <= 0 || generation != this.generation)
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
        listings.put(directory, new Listing(now, generation, entries));
    }

    /**
     * Forget every listing: the mount moved to another tree version.
     *
     * @param generation the mount's new generation; listings asked in an older one are refused from now on.
     */
    void advance(final long generation)
    {
        this.generation = generation;
        listings.clear();
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
        final Listing listing = fresh(directory);
        return null == listing ? null : listing.byName.get(name);
    }

    private Listing fresh(final String directory)
    {
        final Listing listing = listings.get(directory);
        if (null == listing)
        {
            return null;
        }
        if (clock.nanoTime() - listing.takenNanos >= timeoutNanos || listing.generation != generation)
        {
            listings.remove(directory, listing);
            return null;
        }
        return listing;
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

    /**
     * A directory's whole listing, if it was taken less than the timeout ago.
     *
     * @param directory agent path of the directory.
     * @return the entries (never to be changed), or null: list it again.
     */
    List<DirEntry> entries(final String directory)
    {
        final Listing listing = fresh(directory);
        return null == listing ? null : listing.entries;
    }

    /**
     * The attributes of a path as its parent's listing had them, if that listing is younger than the timeout.
     *
     * @param path agent path of an entry.
     * @return the attributes (never to be changed), or null: ask the broker.
     */
    FileAttributes findPath(final String path)
    {
        final int slash = path.lastIndexOf('/');
        return slash > 0 ? find(path.substring(0, slash), path.substring(slash + 1)) : null;
    }

    /** @return listings kept now. */
    int size()
    {
        return listings.size();
    }

    private static final class Listing
    {
        final long takenNanos;
        final long generation;
        final List<DirEntry> entries;
        final Map<String, FileAttributes> byName;

        Listing(final long takenNanos, final long generation, final List<DirEntry> entries)
        {
            this.takenNanos = takenNanos;
            this.generation = generation;
            this.entries = entries;
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
