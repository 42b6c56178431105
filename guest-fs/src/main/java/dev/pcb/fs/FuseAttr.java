package dev.pcb.fs;

import dev.pcb.protocol.FileAttributes;
import dev.pcb.protocol.FileType;
import org.agrona.MutableDirectBuffer;

/**
 * Layout of {@code struct fuse_attr}, 88 bytes, and of the replies that carry it: {@code fuse_entry_out} (LOOKUP,
 * each READDIRPLUS entry) and {@code fuse_attr_out} (GETATTR).
 * <pre>
 *  fuse_attr:
 *  +-------------------------------+-------------------------------+
 *  | ino                                                         0 |
 *  | size                                                        8 |
 *  | blocks (512 B)                                             16 |
 *  | atime (s)                                                  24 |
 *  | mtime (s)                                                  32 |
 *  | ctime (s)                                                  40 |
 *  | atimensec                  48 | mtimensec                  52 |
 *  | ctimensec                  56 | mode                       60 |
 *  | nlink                      64 | uid                        68 |
 *  | gid                        72 | rdev                       76 |
 *  | blksize                    80 | flags                      84 |
 *  +-------------------------------+-------------------------------+
 *  fuse_entry_out: nodeid 0 | generation 8 | entry_valid 16 | attr_valid 24 |
 *                  entry_valid_nsec 32 | attr_valid_nsec 36 | fuse_attr 40    (128 bytes)
 *  fuse_attr_out:  attr_valid 0 | attr_valid_nsec 8 | dummy 12 | fuse_attr 16  (104 bytes)
 * </pre>
 */
public final class FuseAttr
{
    /** Length of fuse_attr. */
    public static final int LENGTH = 88;
    /** Offset of the inode number. */
    public static final int INO_OFFSET = 0;
    /** Offset of the size. */
    public static final int SIZE_OFFSET = 8;
    /** Offset of the 512-byte block count. */
    public static final int BLOCKS_OFFSET = 16;
    /** Offset of atime seconds. */
    public static final int ATIME_OFFSET = 24;
    /** Offset of mtime seconds. */
    public static final int MTIME_OFFSET = 32;
    /** Offset of ctime seconds. */
    public static final int CTIME_OFFSET = 40;
    /** Offset of atime nanoseconds. */
    public static final int ATIMENSEC_OFFSET = 48;
    /** Offset of mtime nanoseconds. */
    public static final int MTIMENSEC_OFFSET = 52;
    /** Offset of ctime nanoseconds. */
    public static final int CTIMENSEC_OFFSET = 56;
    /** Offset of st_mode. */
    public static final int MODE_OFFSET = 60;
    /** Offset of the link count. */
    public static final int NLINK_OFFSET = 64;
    /** Offset of the owner. */
    public static final int UID_OFFSET = 68;
    /** Offset of the group. */
    public static final int GID_OFFSET = 72;
    /** Offset of the device number of a device file. */
    public static final int RDEV_OFFSET = 76;
    /** Offset of the preferred I/O size. */
    public static final int BLKSIZE_OFFSET = 80;
    /** Offset of the attribute flags. */
    public static final int FLAGS_OFFSET = 84;

    /** Offset of the node id in fuse_entry_out. */
    public static final int ENTRY_NODEID_OFFSET = 0;
    /** Offset of the generation in fuse_entry_out. */
    public static final int ENTRY_GENERATION_OFFSET = 8;
    /** Offset of the name timeout in fuse_entry_out. */
    public static final int ENTRY_VALID_OFFSET = 16;
    /** Offset of the attribute timeout in fuse_entry_out. */
    public static final int ENTRY_ATTR_VALID_OFFSET = 24;
    /** Offset of the name timeout nanoseconds in fuse_entry_out. */
    public static final int ENTRY_VALID_NSEC_OFFSET = 32;
    /** Offset of the attribute timeout nanoseconds in fuse_entry_out. */
    public static final int ENTRY_ATTR_VALID_NSEC_OFFSET = 36;
    /** Offset of the attributes in fuse_entry_out. */
    public static final int ENTRY_ATTR_OFFSET = 40;
    /** Length of fuse_entry_out. */
    public static final int ENTRY_LENGTH = ENTRY_ATTR_OFFSET + LENGTH;

    /** Offset of the attribute timeout in fuse_attr_out. */
    public static final int ATTR_OUT_VALID_OFFSET = 0;
    /** Offset of the attribute timeout nanoseconds in fuse_attr_out. */
    public static final int ATTR_OUT_VALID_NSEC_OFFSET = 8;
    /** Offset of the attributes in fuse_attr_out. */
    public static final int ATTR_OUT_ATTR_OFFSET = 16;
    /** Length of fuse_attr_out. */
    public static final int ATTR_OUT_LENGTH = ATTR_OUT_ATTR_OFFSET + LENGTH;

    /** st_blksize reported: one full-size request, so {@code cat} and {@code cp} read 1 MiB at a time. */
    public static final int BLKSIZE = FuseInit.MAX_PAGES_WANTED * 4096;

    private static final int S_IFMT = 0170000;

    private FuseAttr()
    {
    }

    /**
     * Encode a node's attributes. Owner and group are root: pcb does not carry host owners.
     *
     * @param buffer reply buffer.
     * @param at     offset of the fuse_attr.
     * @param node   the node.
     */
    public static void encode(final MutableDirectBuffer buffer, final int at, final Node node)
    {
        final FileAttributes a = node.attributes();
        final long mtime = a.mtimeNanos();
        final long ctime = a.ctimeNanos();
        buffer.putLong(at + INO_OFFSET, node.id());
        buffer.putLong(at + SIZE_OFFSET, a.size());
        buffer.putLong(at + BLOCKS_OFFSET, (a.size() + 511) / 512);
        buffer.putLong(at + ATIME_OFFSET, Math.floorDiv(mtime, 1_000_000_000L));
        buffer.putLong(at + MTIME_OFFSET, Math.floorDiv(mtime, 1_000_000_000L));
        buffer.putLong(at + CTIME_OFFSET, Math.floorDiv(ctime, 1_000_000_000L));
        buffer.putInt(at + ATIMENSEC_OFFSET, (int)Math.floorMod(mtime, 1_000_000_000L));
        buffer.putInt(at + MTIMENSEC_OFFSET, (int)Math.floorMod(mtime, 1_000_000_000L));
        buffer.putInt(at + CTIMENSEC_OFFSET, (int)Math.floorMod(ctime, 1_000_000_000L));
        buffer.putInt(at + MODE_OFFSET, mode(a.type(), a.mode()));
        buffer.putInt(at + NLINK_OFFSET, Math.max(1, a.linkCount()));
        buffer.putInt(at + UID_OFFSET, 0);
        buffer.putInt(at + GID_OFFSET, 0);
        buffer.putInt(at + RDEV_OFFSET, 0);
        buffer.putInt(at + BLKSIZE_OFFSET, BLKSIZE);
        buffer.putInt(at + FLAGS_OFFSET, 0);
    }

    /**
     * Encode a fuse_entry_out.
     *
     * @param buffer       reply buffer.
     * @param at           offset of the fuse_entry_out.
     * @param node         the node found.
     * @param timeoutNanos name and attribute timeout.
     * @return bytes written.
     */
    public static int encodeEntry(final MutableDirectBuffer buffer, final int at, final Node node,
        final long timeoutNanos)
    {
        buffer.putLong(at + ENTRY_NODEID_OFFSET, node.id());
        buffer.putLong(at + ENTRY_GENERATION_OFFSET, 0);
        buffer.putLong(at + ENTRY_VALID_OFFSET, timeoutNanos / 1_000_000_000L);
        buffer.putLong(at + ENTRY_ATTR_VALID_OFFSET, timeoutNanos / 1_000_000_000L);
        buffer.putInt(at + ENTRY_VALID_NSEC_OFFSET, (int)(timeoutNanos % 1_000_000_000L));
        buffer.putInt(at + ENTRY_ATTR_VALID_NSEC_OFFSET, (int)(timeoutNanos % 1_000_000_000L));
        encode(buffer, at + ENTRY_ATTR_OFFSET, node);
        return ENTRY_LENGTH;
    }

    /**
     * Encode a fuse_attr_out.
     *
     * @param buffer       reply buffer.
     * @param at           offset of the fuse_attr_out.
     * @param node         the node.
     * @param timeoutNanos attribute timeout.
     * @return bytes written.
     */
    public static int encodeAttrOut(final MutableDirectBuffer buffer, final int at, final Node node,
        final long timeoutNanos)
    {
        buffer.putLong(at + ATTR_OUT_VALID_OFFSET, timeoutNanos / 1_000_000_000L);
        buffer.putInt(at + ATTR_OUT_VALID_NSEC_OFFSET, (int)(timeoutNanos % 1_000_000_000L));
        buffer.putInt(at + ATTR_OUT_VALID_NSEC_OFFSET + 4, 0);
        encode(buffer, at + ATTR_OUT_ATTR_OFFSET, node);
        return ATTR_OUT_LENGTH;
    }

    /**
     * st_mode with its type bits, from pcb's type when the host mode lacks them.
     *
     * @param type a {@link FileType}.
     * @param mode the host's mode.
     * @return a full st_mode.
     */
    static int mode(final int type, final int mode)
    {
        if (0 != (mode & S_IFMT))
        {
            return mode;
        }
        switch (type)
        {
            case FileType.DIRECTORY: return mode | 0040000;
            case FileType.SYMLINK: return mode | 0120000;
            default: return mode | 0100000;
        }
    }
}
