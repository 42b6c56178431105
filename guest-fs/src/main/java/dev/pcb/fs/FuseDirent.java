package dev.pcb.fs;

import dev.pcb.protocol.FileType;
import org.agrona.MutableDirectBuffer;

/**
 * Layouts of directory records: {@code struct fuse_dirent} (READDIR) and {@code struct fuse_direntplus}
 * (READDIRPLUS: a fuse_entry_out, then the dirent). Each record is padded to 8 bytes.
 * <pre>
 *  fuse_dirent:
 *  +-------------------------------+-------------------------------+
 *  | ino                                                         0 |
 *  | off (cookie of the next entry)                              8 |
 *  | namelen                    16 | type (DT_*)                20 |
 *  | name bytes, no NUL ...                                     24 |
 *  +-------------------------------+-------------------------------+
 *  fuse_direntplus: fuse_entry_out (128 bytes) | fuse_dirent
 * </pre>
 */
public final class FuseDirent
{
    /** Offset of the inode number. */
    public static final int INO_OFFSET = 0;
    /** Offset of the next entry's cookie. */
    public static final int OFF_OFFSET = 8;
    /** Offset of the name length. */
    public static final int NAMELEN_OFFSET = 16;
    /** Offset of the type. */
    public static final int TYPE_OFFSET = 20;
    /** Offset of the name. */
    public static final int NAME_OFFSET = 24;
    /** Offset of the dirent inside a direntplus. */
    public static final int PLUS_DIRENT_OFFSET = FuseAttr.ENTRY_LENGTH;

    /** DT_DIR. */
    public static final int DT_DIR = 4;
    /** DT_REG. */
    public static final int DT_REG = 8;
    /** DT_LNK. */
    public static final int DT_LNK = 10;
    /** DT_UNKNOWN. */
    public static final int DT_UNKNOWN = 0;

    private FuseDirent()
    {
    }

    /**
     * Bytes a record takes.
     *
     * @param nameLength name bytes.
     * @param plus       a direntplus record.
     * @return the padded record length.
     */
    public static int recordLength(final int nameLength, final boolean plus)
    {
        return (plus ? PLUS_DIRENT_OFFSET : 0) + ((NAME_OFFSET + nameLength + 7) & ~7);
    }

    /**
     * Encode a fuse_dirent.
     *
     * @param buffer reply buffer.
     * @param at     offset of the record.
     * @param ino    inode number shown.
     * @param next   cookie of the next entry.
     * @param type   DT_* type.
     * @param name   name bytes.
     * @return the padded record length.
     */
    public static int encode(final MutableDirectBuffer buffer, final int at, final long ino, final long next,
        final int type, final byte[] name)
    {
        final int length = recordLength(name.length, false);
        buffer.putLong(at + INO_OFFSET, ino);
        buffer.putLong(at + OFF_OFFSET, next);
        buffer.putInt(at + NAMELEN_OFFSET, name.length);
        buffer.putInt(at + TYPE_OFFSET, type);
        buffer.putBytes(at + NAME_OFFSET, name);
        buffer.setMemory(at + NAME_OFFSET + name.length, length - NAME_OFFSET - name.length, (byte)0);
        return length;
    }

    /**
     * DT_* type of a pcb file type.
     *
     * @param fileType a {@link FileType}.
     * @return the DT_* constant.
     */
    public static int dtType(final int fileType)
    {
        switch (fileType)
        {
            case FileType.DIRECTORY: return DT_DIR;
            case FileType.REGULAR: return DT_REG;
            case FileType.SYMLINK: return DT_LNK;
            default: return DT_UNKNOWN;
        }
    }
}
