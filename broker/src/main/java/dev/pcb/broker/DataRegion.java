package dev.pcb.broker;

import dev.pcb.layout.DataRegionDescriptor;
import dev.pcb.layout.WindowDescriptor;
import dev.pcb.nativeshim.ErrnoException;
import dev.pcb.nativeshim.Linux;
import dev.pcb.nativeshim.MappedRegion;
import org.agrona.CloseHelper;
import org.agrona.concurrent.UnsafeBuffer;

import java.io.IOException;
import java.nio.file.Path;

/**
 * A share's data region as the broker sees it: one native mapping of the region file (so regions over 2 GiB work
 * on Java 17), the superblock, the descriptor table and the address of every window.
 * <p>
 * Only the broker writes here. Descriptors are updated from the conductor thread; window contents from filler
 * threads, each on a window no one else touches while it is FILLING.
 */
final class DataRegion implements AutoCloseable
{
    private final MappedRegion mapping;
    private final UnsafeBuffer header;
    private final int windowSize;
    private final int windowCount;
    private final long windowsOffset;
    private final long regionId;
    private final boolean recovered;

    DataRegion(
        final Path file,
        final long regionLength,
        final int windowSize,
        final long regionId,
        final long brokerEpoch,
        final String shareName) throws IOException
    {
        this.windowSize = windowSize;
        this.windowCount = DataRegionDescriptor.windowCount(regionLength, windowSize);
        this.windowsOffset = DataRegionDescriptor.windowsOffset(windowCount, windowSize);
        this.regionId = regionId;
        RegionFiles.requireLengthIfExists(file, regionLength);
        this.mapping = MappedRegion.create(file, regionLength);
        this.header = new UnsafeBuffer(mapping.address(), (int)windowsOffset);
        // A broker restarting on the file guests still map keeps the windows they may still read: the window table
        // quarantines them until their readers claim them again or the grace period ends.
        this.recovered = DataRegionDescriptor.isReady(header) &&
            header.getLong(DataRegionDescriptor.REGION_LENGTH_OFFSET) == regionLength &&
            header.getInt(DataRegionDescriptor.WINDOW_SIZE_OFFSET) == windowSize &&
            header.getInt(DataRegionDescriptor.WINDOW_COUNT_OFFSET) == windowCount;
        DataRegionDescriptor.writeSuperblock(header, regionLength, regionId, brokerEpoch, windowSize, shareName);
        DataRegionDescriptor.signalReady(header);
    }

    /**
     * Allocate and map every page of the windows now, without changing a byte: later fills copy into memory that is
     * already there.
     *
     * @throws ErrnoException when the kernel cannot (MADV_POPULATE_WRITE needs Linux 5.14) or memory is short.
     */
    void prefault() throws ErrnoException
    {
        Linux.madvise(mapping.address() + windowsOffset, mapping.length() - windowsOffset, Linux.MADV_POPULATE_WRITE);
    }

    /**
     * Did this broker find the windows of a previous broker of the same geometry in the region file?
     */
    boolean isRecovered()
    {
        return recovered;
    }

    int descriptorState(final int window)
    {
        return header.getIntVolatile(DataRegionDescriptor.descriptorOffset(window) + WindowDescriptor.STATE_OFFSET);
    }

    long descriptorGeneration(final int window)
    {
        return header.getLongVolatile(
            DataRegionDescriptor.descriptorOffset(window) + WindowDescriptor.GENERATION_OFFSET);
    }

    int windowSize()
    {
        return windowSize;
    }

    int windowCount()
    {
        return windowCount;
    }

    long regionId()
    {
        return regionId;
    }

    long regionLength()
    {
        return mapping.length();
    }

    Path file()
    {
        return mapping.path();
    }

    /**
     * Address of a window's first byte.
     */
    long windowAddress(final int window)
    {
        return mapping.address() + DataRegionDescriptor.windowOffset(windowsOffset, windowSize, window);
    }

    /**
     * Publish a window's state; the generation is written last so a reader that sees it sees the rest.
     */
    void describe(
        final int window, final long generation, final int state, final long versionId, final long fileOffset,
        final int length)
    {
        final int at = DataRegionDescriptor.descriptorOffset(window);
        header.putLong(at + WindowDescriptor.FILE_VERSION_ID_OFFSET, versionId);
        header.putLong(at + WindowDescriptor.FILE_OFFSET_OFFSET, fileOffset);
        header.putInt(at + WindowDescriptor.LENGTH_OFFSET, length);
        header.putInt(at + WindowDescriptor.STATE_OFFSET, state);
        header.putLongRelease(at + WindowDescriptor.GENERATION_OFFSET, generation);
    }

    /** {@inheritDoc} */
    public void close()
    {
        CloseHelper.quietClose(mapping);
    }

    /** @return the superblock and descriptor table, as agents map them. */
    UnsafeBuffer header()
    {
        return header;
    }

    /**
     * Publish the newest tree version of the share for agents to see without a request.
     */
    void publishNewestTreeVersion(final long version)
    {
        DataRegionDescriptor.newestTreeVersion(header, version);
    }
}
