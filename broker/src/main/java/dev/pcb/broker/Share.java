package dev.pcb.broker;

import dev.pcb.layout.WindowDescriptor;
import dev.pcb.nativeshim.ErrnoException;
import org.agrona.CloseHelper;

import java.io.IOException;
import java.nio.file.Path;
import java.util.function.LongSupplier;

/**
 * A host directory served to guests: its tree versions (every path is opened beneath a version's descriptor), its data region with
 * the window table, and the catalog of file versions it has opened.
 */
final class Share implements AutoCloseable
{
    private final int id;
    private final String name;
    private final ShareTree tree;
    private final DataRegion region;
    private final WindowTable windows;
    private final Catalog catalog;
    private final FillTask[] fills;

    Share(final int id, final String name, final Path root, final DataRegion region, final LongSupplier versionIds)
        throws ErrnoException
    {
        this.id = id;
        this.name = name;
        this.tree = new ShareTree(root);
        this.region = region;
        this.windows = new WindowTable(region);
        this.catalog = new Catalog(this, versionIds);
        this.fills = new FillTask[region.windowCount()];
        region.publishNewestTreeVersion(tree.current().number());
    }

    int id()
    {
        return id;
    }

    String name()
    {
        return name;
    }

    /**
     * The share's tree versions: the directories paths are resolved beneath, one per session.
     */
    ShareTree tree()
    {
        return tree;
    }

    DataRegion region()
    {
        return region;
    }

    WindowTable windows()
    {
        return windows;
    }

    Catalog catalog()
    {
        return catalog;
    }

    /**
     * Fills in flight, by window: where a second ACQUIRE of a FILLING window waits.
     */
    FillTask[] fills()
    {
        return fills;
    }

    /**
     * Free at once the windows of a version no one can read any more, so its memory returns to the pool.
     */
    void reclaim(final FileVersion version)
    {
        if (!version.isReclaimable())
        {
            return;
        }
        for (final int window : version.regionWindows())
        {
            if (version.isPacked())
            {
                if (version.isPackedReady())
                {
                    windows.removeMember(window, version);
                }
            }
            else if (0 == windows.pins(window) && WindowDescriptor.STATE_READY == windows.state(window))
            {
                windows.discard(window);
            }
        }
        catalog.forgetIfUnused(version);
    }

    /** {@inheritDoc} */
    public void close() throws IOException
    {
        tree.close();
        CloseHelper.quietClose(region);
    }
}
