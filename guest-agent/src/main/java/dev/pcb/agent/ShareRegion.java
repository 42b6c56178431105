package dev.pcb.agent;

import dev.pcb.layout.DataRegionDescriptor;
import dev.pcb.nativeshim.MappedRegion;
import dev.pcb.protocol.TreeIdentity;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * A share as an agent sees it: its id and name, and its data region mapped read-only.
 */
public final class ShareRegion
{
    private volatile int shareId;
    private final String name;
    private final MappedRegion mapping;
    private final UnsafeBuffer superblock;
    private final int windowSize;
    private final int windowCount;
    private final long windowsOffset;
    private volatile long treeVersion;
    private volatile TreeIdentity treeIdentity;

    ShareRegion(
        final int shareId, final String name, final MappedRegion mapping, final long treeVersion,
        final TreeIdentity treeIdentity)
    {
        this.treeVersion = treeVersion;
        this.treeIdentity = treeIdentity;
        this.shareId = shareId;
        this.name = name;
        this.mapping = mapping;
        this.superblock = new UnsafeBuffer(mapping.address(), DataRegionDescriptor.SUPERBLOCK_LENGTH);
        this.windowSize = superblock.getInt(DataRegionDescriptor.WINDOW_SIZE_OFFSET);
        this.windowCount = superblock.getInt(DataRegionDescriptor.WINDOW_COUNT_OFFSET);
        this.windowsOffset = superblock.getLong(DataRegionDescriptor.WINDOWS_OFFSET_OFFSET);
        if (windowsOffset + (long)windowCount * windowSize > mapping.length())
        {
            throw new IllegalStateException("data region " + mapping.path() + " is shorter than its superblock says");
        }
    }

    /** @return the share id used on the wire. */
    public int shareId()
    {
        return shareId;
    }

    void shareId(final int shareId)
    {
        this.shareId = shareId;
    }

    /** @return the share name. */
    public String name()
    {
        return name;
    }

    /** @return bytes per window. */
    public int windowSize()
    {
        return windowSize;
    }

    /** @return windows in the region. */
    public int windowCount()
    {
        return windowCount;
    }

    /** @return the region's length in bytes. */
    public long regionLength()
    {
        return mapping.length();
    }

    /** @return the mapped region file or BAR. */
    public java.nio.file.Path path()
    {
        return mapping.path();
    }

    /**
     * The tree version this process's session reads the share at (docs/versions.md): set at attach and by
     * {@link PcbAgent#advance}. Numbered per broker: a restarted broker numbers afresh.
     *
     * @return the version number; 1 for a plain directory share.
     */
    public long treeVersion()
    {
        return treeVersion;
    }

    /**
     * The session moved to a version: its number and the identity RESUME names it by after a broker restart.
     */
    void treeVersion(final long treeVersion, final TreeIdentity treeIdentity)
    {
        this.treeIdentity = treeIdentity;
        this.treeVersion = treeVersion;
    }

    /**
     * @return the version directory the session is on, as the broker named it; {@link TreeIdentity#NONE} for a plain
     * share or a broker of layout 3.1.
     */
    TreeIdentity treeIdentity()
    {
        return treeIdentity;
    }

    /**
     * The newest tree version the broker published, read from the data region's superblock without a request.
     *
     * @return the version number; different from {@link #treeVersion()} when an advance would move the session
     * (usually greater; smaller after a broker restart put the session back on an older directory, which the new
     * broker numbered after its current one).
     */
    public long newestTreeVersion()
    {
        return DataRegionDescriptor.newestTreeVersion(superblock);
    }

    /**
     * Address of a region window in this process, for native code that must know what memory it reads (for
     * example whether the kernel can pin it).
     *
     * @param window index of the region window.
     * @return its address.
     */
    public long windowAddress(final int window)
    {
        return mapping.address() + windowsOffset + (long)window * windowSize;
    }

    MappedRegion mapping()
    {
        return mapping;
    }
}
