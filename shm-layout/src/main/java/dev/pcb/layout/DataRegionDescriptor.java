package dev.pcb.layout;

import org.agrona.BitUtil;
import org.agrona.concurrent.AtomicBuffer;


/**
 * Layout of a data region: one per share, written only by the broker, mapped read-only by every guest of the share.
 * <p>
 * A region is a power of two in length (ivshmem BARs must be), and holds a superblock, a window descriptor table
 * and {@code windowCount} windows, each {@code windowSize} bytes and aligned to {@code windowSize} so a window can
 * be backed by one huge page and a guest view of a window never straddles two mappings.
 * <pre>
 *   0                   1                   2                   3
 *   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |                 Magic "PCBDATA1" (written last)               |
 *  |                                                               |
 *  +---------------------------------------------------------------+
 *  |                        Layout Version                         |
 *  +---------------------------------------------------------------+
 *  |                      Superblock Length                        |
 *  +---------------------------------------------------------------+
 *  |                        Region Length                          |
 *  |                                                               |
 *  +---------------------------------------------------------------+
 *  |                  Region Id (random per creation)              |
 *  |                                                               |
 *  +---------------------------------------------------------------+
 *  |                         Broker Epoch                          |
 *  |                                                               |
 *  +---------------------------------------------------------------+
 *  |                         Window Size                           |
 *  +---------------------------------------------------------------+
 *  |                         Window Count                          |
 *  +---------------------------------------------------------------+
 *  |                   Descriptor Table Offset                     |
 *  |                                                               |
 *  +---------------------------------------------------------------+
 *  |                        Windows Offset                         |
 *  |                                                               |
 *  +---------------------------------------------------------------+
 *  |                      Descriptor Length                        |
 *  +---------------------------------------------------------------+
 *  |                   Share Name Length (bytes)                   |
 *  +---------------------------------------------------------------+
 *  |                 Share Name (UTF-8, 64 bytes max)             ...
 *  +---------------------------------------------------------------+  136
 *  |              Newest Tree Version (ordered writes)             |
 *  |                                                               |
 *  +---------------------------------------------------------------+  4096: descriptor table
 *  |     WindowDescriptor[0] ... WindowDescriptor[windowCount - 1]   |
 *  +---------------------------------------------------------------+  windowsOffset (multiple of windowSize)
 *  |     Window[0] ... Window[windowCount - 1]                       |
 *  +---------------------------------------------------------------+
 * </pre>
 */
public final class DataRegionDescriptor
{
    /** "PCBDATA1" little-endian: marks a ready data region. */
    public static final long MAGIC = 0x3141544144424350L;

    /** Offset of the magic. */
    public static final int MAGIC_OFFSET = RegionHeader.MAGIC_OFFSET;
    /** Offset of the layout version. */
    public static final int LAYOUT_VERSION_OFFSET = RegionHeader.LAYOUT_VERSION_OFFSET;
    /** Offset of the superblock length. */
    public static final int SUPERBLOCK_LENGTH_OFFSET = 12;
    /** Offset of the region length. */
    public static final int REGION_LENGTH_OFFSET = 16;
    /** Offset of the region id. */
    public static final int REGION_ID_OFFSET = 24;
    /** Offset of the broker epoch. */
    public static final int BROKER_EPOCH_OFFSET = 32;
    /** Offset of the window size. */
    public static final int WINDOW_SIZE_OFFSET = 40;
    /** Offset of the window count. */
    public static final int WINDOW_COUNT_OFFSET = 44;
    /** Offset of the descriptor table offset. */
    public static final int DESCRIPTOR_TABLE_OFFSET_OFFSET = 48;
    /** Offset of the windows offset. */
    public static final int WINDOWS_OFFSET_OFFSET = 56;
    /** Offset of the descriptor length. */
    public static final int DESCRIPTOR_LENGTH_OFFSET = 64;
    /** Offset of the share name length. */
    public static final int SHARE_NAME_LENGTH_OFFSET = 68;
    /** Offset of the share name bytes. */
    public static final int SHARE_NAME_OFFSET = 72;
    /** Maximum share name length in UTF-8 bytes. */
    public static final int MAX_SHARE_NAME_LENGTH = 64;
    /**
     * Offset of the newest tree version of the share (docs/versions.md): 1 for a plain directory, raised by the
     * broker, its only writer, at every good flip of a versioned share's link; agents read it without a request.
     */
    public static final int NEWEST_TREE_VERSION_OFFSET = SHARE_NAME_OFFSET + MAX_SHARE_NAME_LENGTH;

    /** Length of the superblock; the descriptor table starts here. */
    public static final int SUPERBLOCK_LENGTH = 4096;

    /** Smallest window: one page. */
    public static final int MIN_WINDOW_SIZE = 4096;

    /** Largest window: views are Agrona buffers with int capacity, and a window must fit a huge page multiple. */
    public static final int MAX_WINDOW_SIZE = 1 << 30;

    private DataRegionDescriptor()
    {
    }

    /**
     * Number of windows a region of this length holds.
     *
     * @param regionLength length of the region, a power of two.
     * @param windowSize   size of a window, a power of two.
     * @return window count, at least 1.
     * @throws IllegalArgumentException when the sizes are not powers of two or leave no room for one window.
     */
    public static int windowCount(final long regionLength, final int windowSize)
    {
        validateSizes(regionLength, windowSize);
        long count = regionLength / windowSize;
        while (count > 0 && windowsOffset(count, windowSize) + count * windowSize > regionLength)
        {
            count--;
        }
        if (count < 1)
        {
            throw new IllegalArgumentException(
                "region of " + regionLength + " bytes has no room for one window of " + windowSize + " bytes");
        }
        if (count > Integer.MAX_VALUE)
        {
            throw new IllegalArgumentException("too many windows: " + count);
        }
        return (int)count;
    }

    /**
     * Offset of the first window for a given window count.
     *
     * @param windowCount number of windows.
     * @param windowSize  size of a window.
     * @return offset of window 0, a multiple of the window size.
     */
    public static long windowsOffset(final long windowCount, final int windowSize)
    {
        final long tableEnd = SUPERBLOCK_LENGTH + windowCount * WindowDescriptor.LENGTH;
        return BitUtil.align(tableEnd, windowSize);
    }

    /**
     * Offset of a window in the region.
     *
     * @param windowsOffset offset of window 0.
     * @param windowSize    size of a window.
     * @param windowIndex   index of the window.
     * @return byte offset of the window.
     */
    public static long windowOffset(final long windowsOffset, final int windowSize, final int windowIndex)
    {
        return windowsOffset + (long)windowIndex * windowSize;
    }

    /**
     * Offset of a window's descriptor.
     *
     * @param windowIndex index of the window.
     * @return byte offset of its descriptor in the region.
     */
    public static int descriptorOffset(final int windowIndex)
    {
        return SUPERBLOCK_LENGTH + windowIndex * WindowDescriptor.LENGTH;
    }

    /**
     * Check region and window sizes.
     *
     * @param regionLength length of the region.
     * @param windowSize   size of a window.
     * @throws IllegalArgumentException naming the wrong size.
     */
    public static void validateSizes(final long regionLength, final int windowSize)
    {
        if (windowSize < MIN_WINDOW_SIZE || windowSize > MAX_WINDOW_SIZE || !BitUtil.isPowerOfTwo(windowSize))
        {
            throw new IllegalArgumentException(
                "window size must be a power of two between 4k and 1g: " + windowSize);
        }
        if (regionLength <= 0 || Long.bitCount(regionLength) != 1)
        {
            throw new IllegalArgumentException(
                "region size must be a power of two (ivshmem BARs are): " + regionLength);
        }
        if (regionLength < 2L * windowSize)
        {
            throw new IllegalArgumentException(
                "region size " + regionLength + " must hold the superblock and at least one window of " + windowSize);
        }
    }

    /**
     * Write the superblock, all but the magic. The caller zero-fills the region first and signals ready last.
     *
     * @param buffer       over at least the superblock and descriptor table.
     * @param regionLength length of the region.
     * @param regionId     random id of this region instance.
     * @param brokerEpoch  epoch of the broker that created it.
     * @param windowSize   size of a window.
     * @param shareName    name of the share.
     */
    public static void writeSuperblock(
        final AtomicBuffer buffer,
        final long regionLength,
        final long regionId,
        final long brokerEpoch,
        final int windowSize,
        final String shareName)
    {
        final int windowCount = windowCount(regionLength, windowSize);
        buffer.putInt(LAYOUT_VERSION_OFFSET, LayoutVersion.CURRENT);
        buffer.putInt(SUPERBLOCK_LENGTH_OFFSET, SUPERBLOCK_LENGTH);
        buffer.putLong(REGION_LENGTH_OFFSET, regionLength);
        buffer.putLong(REGION_ID_OFFSET, regionId);
        buffer.putLong(BROKER_EPOCH_OFFSET, brokerEpoch);
        buffer.putInt(WINDOW_SIZE_OFFSET, windowSize);
        buffer.putInt(WINDOW_COUNT_OFFSET, windowCount);
        buffer.putLong(DESCRIPTOR_TABLE_OFFSET_OFFSET, SUPERBLOCK_LENGTH);
        buffer.putLong(WINDOWS_OFFSET_OFFSET, windowsOffset(windowCount, windowSize));
        buffer.putInt(DESCRIPTOR_LENGTH_OFFSET, WindowDescriptor.LENGTH);
        RegionHeader.putName(buffer, SHARE_NAME_LENGTH_OFFSET, SHARE_NAME_OFFSET, MAX_SHARE_NAME_LENGTH, "share",
            shareName);
    }

    /**
     * Publish the region as ready: the magic is written last with release semantics, as Aeron signals a CnC file.
     *
     * @param buffer over the superblock.
     */
    public static void signalReady(final AtomicBuffer buffer)
    {
        RegionHeader.signalReady(buffer, MAGIC);
    }

    /**
     * Is this region ready and of a version this code reads?
     *
     * @param buffer over the superblock.
     * @return true when the magic is present and the major version matches.
     */
    public static boolean isReady(final AtomicBuffer buffer)
    {
        return RegionHeader.isReady(buffer, MAGIC);
    }

    /**
     * Share name stored in the superblock, bounded by {@link #MAX_SHARE_NAME_LENGTH}.
     *
     * @param buffer over the superblock.
     * @return the share name.
     */
    public static String shareName(final AtomicBuffer buffer)
    {
        return RegionHeader.getName(buffer, SHARE_NAME_LENGTH_OFFSET, SHARE_NAME_OFFSET, MAX_SHARE_NAME_LENGTH);
    }

    /**
     * The newest tree version the broker published.
     *
     * @param buffer over the superblock.
     * @return the version number, 0 before the broker published one.
     */
    public static long newestTreeVersion(final AtomicBuffer buffer)
    {
        return buffer.getLongVolatile(NEWEST_TREE_VERSION_OFFSET);
    }

    /**
     * Publish the newest tree version; broker only.
     *
     * @param buffer  over the superblock.
     * @param version the version number.
     */
    public static void newestTreeVersion(final AtomicBuffer buffer, final long version)
    {
        buffer.putLongOrdered(NEWEST_TREE_VERSION_OFFSET, version);
    }
}
