package dev.pcb.protocol;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class FileAttributesTest
{
    private static final int MODE = 0100644;

    private static FileAttributes attributes(
        final int mode, final long size, final long mtime, final long ctime, final long inode, final long device,
        final int links)
    {
        return new FileAttributes().set(FileType.REGULAR, mode, size, mtime, ctime, inode, device, links);
    }

    @Test
    void chmodLinkAndRenameKeepTheVersion()
    {
        final FileAttributes opened = attributes(MODE, 4096, 1_000, 2_000, 77, 5, 1);
        // What rm, mv, ln and chmod change: ctime, mode, link count (docs/coherence.md rule 4).
        final FileAttributes later = attributes(0100600, 4096, 1_000, 9_000, 77, 5, 2);
        assertTrue(opened.sameVersionAs(later));
        assertTrue(later.sameVersionAs(opened));
        assertEquals(opened.versionHashCode(), later.versionHashCode());
    }

    @Test
    void sizeMtimeInodeOrDeviceMakeAnotherVersion()
    {
        final FileAttributes opened = attributes(MODE, 4096, 1_000, 2_000, 77, 5, 1);
        assertFalse(opened.sameVersionAs(attributes(MODE, 4097, 1_000, 2_000, 77, 5, 1)), "size");
        assertFalse(opened.sameVersionAs(attributes(MODE, 4096, 1_001, 2_000, 77, 5, 1)), "mtime");
        assertFalse(opened.sameVersionAs(attributes(MODE, 4096, 1_000, 2_000, 78, 5, 1)), "inode");
        assertFalse(opened.sameVersionAs(attributes(MODE, 4096, 1_000, 2_000, 77, 6, 1)), "device");
    }
}
