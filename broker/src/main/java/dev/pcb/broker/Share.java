package dev.pcb.broker;

import dev.pcb.layout.WindowDescriptor;
import dev.pcb.nativeshim.ErrnoException;
import dev.pcb.nativeshim.Linux;
import org.agrona.CloseHelper;

import java.io.IOException;
import java.nio.file.Path;
import java.util.concurrent.Executor;
import java.util.function.LongSupplier;

/**
 * A host directory served to guests: its tree versions (every path is opened beneath a version's descriptor), its
 * data region with the window table, and the catalog of file versions it has opened.
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
    private final java.util.concurrent.atomic.AtomicBoolean leasesAvailable =
        new java.util.concurrent.atomic.AtomicBoolean(true);
    private Executor closer = Runnable::run;

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
     * Where the share's file descriptors are closed and looked at when their last handle goes: on a FUSE or NFS
     * share {@code close} waits for the filesystem (FLUSH), and {@code fstat} may, so the broker gives each share a
     * thread of its own for them and the conductor never waits on a hung share. In order, so a descriptor is looked
     * at before it is closed. Inline (the caller's thread) until set; set before serving.
     */
    void closeOn(final Executor closer)
    {
        this.closer = closer;
    }

    /**
     * @return where the share's descriptors are closed and looked at; see {@link #closeOn}.
     */
    Executor closer()
    {
        return closer;
    }

    /**
     * Close a descriptor of this share's files off the conductor.
     */
    void closeLater(final int fd)
    {
        closer.execute(() -> Linux.close(fd));
    }

    /**
     * @return false once a fill found that read leases cannot be taken on this share's files.
     */
    boolean leasesAvailable()
    {
        return leasesAvailable.get();
    }

    /**
     * A fill could not take a read lease (a filesystem without leases, such as FUSE or NFS, or files the broker's
     * user does not own): from now on fills of this share rely on the before/after stat checks alone. Logged once,
     * so the operator knows which guarantee weakened (docs/coherence.md, docs/versions.md). Any thread.
     */
    void leasesUnavailable(final String reason)
    {
        if (leasesAvailable.compareAndSet(true, false))
        {
            System.getLogger("pcb.broker").log(System.Logger.Level.WARNING, "share " + name +
                ": read leases unavailable (" + reason + "): fills rely on before/after stat checks only, a file " +
                "rewritten in place during a fill may be cached torn (docs/coherence.md)");
        }
    }

    /**
     * At share open (broker start-up, may block): on a filesystem whose leases cannot see every writer (FUSE such
     * as bindfs or sshfs, NFS, CephFS, SMB, 9p, virtio-fs), the kernel grants read leases that guard only against
     * writers through this very mount, so the broker says so once and relies on the stat checks.
     *
     * @param fileSystemType the type as {@code /proc/mounts} names it, e.g. {@code fuse.bindfs}, {@code nfs4}.
     */
    void checkLeases(final String fileSystemType)
    {
        final String type = fileSystemType.toLowerCase(java.util.Locale.ROOT);
        if (type.startsWith("fuse") || type.startsWith("nfs") || type.equals("ceph") || type.equals("cifs") ||
            type.startsWith("smb") || type.equals("9p") || type.equals("virtiofs"))
        {
            leasesUnavailable("the share is on " + fileSystemType + ", whose leases do not cover writers elsewhere");
        }
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
