package dev.pcb.layout;

import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class DescriptorsTest
{
    @Test
    void windowsAreAlignedToTheWindowSizeAndFitTheRegion()
    {
        final long region = 256L << 20;
        final int window = 2 << 20;
        final int count = DataRegionDescriptor.windowCount(region, window);
        final long first = DataRegionDescriptor.windowsOffset(count, window);
        assertEquals(0, first % window);
        assertTrue(first >= DataRegionDescriptor.SUPERBLOCK_LENGTH + (long)count * WindowDescriptor.LENGTH);
        assertTrue(first + (long)count * window <= region);
        assertEquals(127, count, "one window goes to the superblock and descriptor table");
        assertEquals(2, DataRegionDescriptor.windowCount(16384, 4096));
        assertThrows(IllegalArgumentException.class, () -> DataRegionDescriptor.windowCount(8192, 4096),
            "the superblock and table take the first page, leaving no aligned room");
    }

    @Test
    void sizesMustBePowersOfTwoAndHoldAWindow()
    {
        assertThrows(IllegalArgumentException.class, () -> DataRegionDescriptor.validateSizes(3L << 20, 1 << 20));
        assertThrows(IllegalArgumentException.class, () -> DataRegionDescriptor.validateSizes(1L << 20, 3000));
        assertThrows(IllegalArgumentException.class, () -> DataRegionDescriptor.validateSizes(1L << 20, 1 << 20));
        DataRegionDescriptor.validateSizes(4L << 20, 1 << 20);
    }

    @Test
    void aRegionIsReadyOnlyOnceItsMagicIsWrittenLast()
    {
        final UnsafeBuffer header = new UnsafeBuffer(ByteBuffer.allocateDirect(DataRegionDescriptor.SUPERBLOCK_LENGTH));
        DataRegionDescriptor.writeSuperblock(header, 64L << 20, 7, 9, 1 << 20, "usr");
        assertFalse(DataRegionDescriptor.isReady(header));
        DataRegionDescriptor.signalReady(header);
        assertTrue(DataRegionDescriptor.isReady(header));
        assertFalse(ControlRegionDescriptor.isReady(header), "a data region is not a control region");
        assertEquals("usr", DataRegionDescriptor.shareName(header));
        assertEquals(7, header.getLong(DataRegionDescriptor.REGION_ID_OFFSET));

        header.putInt(DataRegionDescriptor.LAYOUT_VERSION_OFFSET, (LayoutVersion.MAJOR + 1) << 16);
        assertFalse(DataRegionDescriptor.isReady(header), "another major layout version is refused");
    }

    @Test
    void controlRegionGeometryIsAPowerOfTwoWithPageAlignedSlots()
    {
        final int slot = ControlRegionDescriptor.slotLength(64 * 1024, 256 * 1024);
        assertEquals(0, slot % 4096);
        final long region = ControlRegionDescriptor.regionLength(8, slot);
        assertEquals(1, Long.bitCount(region));
        assertTrue(region >= ControlRegionDescriptor.HEADER_LENGTH + 8L * slot);
        assertEquals(0, ControlRegionDescriptor.slotOffset(slot, 3) % 8, "rings must be 8-byte aligned");
    }

    @Test
    void namesAreBoundedBothWays()
    {
        final UnsafeBuffer header = new UnsafeBuffer(ByteBuffer.allocateDirect(ControlRegionDescriptor.HEADER_LENGTH));
        assertThrows(IllegalArgumentException.class, () -> ControlRegionDescriptor.writeHeader(header, 1 << 22, 1, 1,
            8, 65536, 262144, "x".repeat(65), 3000, 5000));
        ControlRegionDescriptor.writeHeader(header, 1 << 22, 1, 1, 8, 65536, 262144, "vm1", 3000, 5000);
        assertEquals("vm1", ControlRegionDescriptor.guestName(header));
        header.putInt(ControlRegionDescriptor.GUEST_NAME_LENGTH_OFFSET, 1_000_000);
        assertEquals(ControlRegionDescriptor.MAX_GUEST_NAME_LENGTH, ControlRegionDescriptor.guestName(header).length(),
            "a corrupt length reads no further than the field");
    }
}
