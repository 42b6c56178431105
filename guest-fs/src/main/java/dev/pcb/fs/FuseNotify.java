package dev.pcb.fs;

import org.agrona.MutableDirectBuffer;

import java.nio.charset.StandardCharsets;

/**
 * Encoder of the notifications a server writes to /dev/fuse unasked: a {@code fuse_out_header} with {@code unique}
 * 0 and the notification code in {@code error}, then the notification's body (linux/fuse.h, 7.12+).
 * <pre>
 *   FUSE_NOTIFY_INVAL_ENTRY (3): forget the kernel's dentry parent/name (and, below a directory, what it caches)
 *   0                   1                   2                   3
 *   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *  +---------------------------------------------------------------+
 *  |            fuse_out_header: len, error = 3, unique = 0        |  0
 *  +---------------------------------------------------------------+
 *  |                    parent node id (8 bytes)                   | 16
 *  |                    namelen                                    | 24
 *  |                    flags (0: unhash, not only expire)         | 28
 *  |                    name bytes ... NUL                         | 32
 *  +---------------------------------------------------------------+
 *
 *   FUSE_NOTIFY_INVAL_INODE (2): forget a node's cached attributes (off &lt; 0: and no page-cache range)
 *  +---------------------------------------------------------------+
 *  |            fuse_out_header: len, error = 2, unique = 0        |  0
 *  +---------------------------------------------------------------+
 *  |                    node id (8 bytes)                          | 16
 *  |                    off (8 bytes, signed)                      | 24
 *  |                    len (8 bytes, signed)                      | 32
 *  +---------------------------------------------------------------+
 * </pre>
 * The kernel checks that an INVAL_ENTRY is exactly header + 16 + namelen + 1 bytes long.
 */
public final class FuseNotify
{
    /** {@code FUSE_NOTIFY_INVAL_INODE}. */
    public static final int INVAL_INODE = 2;
    /** {@code FUSE_NOTIFY_INVAL_ENTRY}. */
    public static final int INVAL_ENTRY = 3;
    /** Offset of the node id in {@code fuse_notify_inval_inode_out}, after the header. */
    public static final int INODE_INO_OFFSET = 0;
    /** Offset of the page-cache offset. */
    public static final int INODE_OFF_OFFSET = 8;
    /** Offset of the page-cache length. */
    public static final int INODE_LEN_OFFSET = 16;
    /** {@code sizeof(struct fuse_notify_inval_inode_out)}. */
    public static final int INODE_LENGTH = 24;
    /** Offset of the parent in {@code fuse_notify_inval_entry_out}, after the header. */
    public static final int ENTRY_PARENT_OFFSET = 0;
    /** Offset of the name length. */
    public static final int ENTRY_NAMELEN_OFFSET = 8;
    /** Offset of the flags. */
    public static final int ENTRY_FLAGS_OFFSET = 12;
    /** {@code sizeof(struct fuse_notify_inval_entry_out)}; the name and its NUL follow. */
    public static final int ENTRY_LENGTH = 16;

    private FuseNotify()
    {
    }

    /**
     * Encode an INVAL_ENTRY for {@code parent/name} at offset 0.
     *
     * @param buffer at least {@code 16 + 16 + NAME_MAX + 1} bytes.
     * @param parent parent node id.
     * @param name   entry name, at most {@link FuseArgs#NAME_MAX} bytes in UTF-8.
     * @return the whole message length, or -1 when the name is too long.
     */
    public static int invalEntry(final MutableDirectBuffer buffer, final long parent, final String name)
    {
        final byte[] bytes = name.getBytes(StandardCharsets.UTF_8);
        if (bytes.length > FuseArgs.NAME_MAX)
        {
            return -1;
        }
        final int body = FuseOutHeader.LENGTH;
        final int length = body + ENTRY_LENGTH + bytes.length + 1;
        header(buffer, length, INVAL_ENTRY);
        buffer.putLong(body + ENTRY_PARENT_OFFSET, parent);
        buffer.putInt(body + ENTRY_NAMELEN_OFFSET, bytes.length);
        buffer.putInt(body + ENTRY_FLAGS_OFFSET, 0);
        buffer.putBytes(body + ENTRY_LENGTH, bytes);
        buffer.putByte(body + ENTRY_LENGTH + bytes.length, (byte)0);
        return length;
    }

    /**
     * Encode an INVAL_INODE of a node's attributes only (off -1: no page-cache range) at offset 0.
     *
     * @param buffer at least 40 bytes.
     * @param node   node id.
     * @return the whole message length.
     */
    public static int invalAttributes(final MutableDirectBuffer buffer, final long node)
    {
        final int body = FuseOutHeader.LENGTH;
        final int length = body + INODE_LENGTH;
        header(buffer, length, INVAL_INODE);
        buffer.putLong(body + INODE_INO_OFFSET, node);
        buffer.putLong(body + INODE_OFF_OFFSET, -1);
        buffer.putLong(body + INODE_LEN_OFFSET, 0);
        return length;
    }

    private static void header(final MutableDirectBuffer buffer, final int length, final int code)
    {
        // A notification is a reply to no request: unique 0, the code where an error would be (not negated).
        buffer.putInt(FuseOutHeader.LEN_OFFSET, length);
        buffer.putInt(FuseOutHeader.ERROR_OFFSET, code);
        buffer.putLong(FuseOutHeader.UNIQUE_OFFSET, 0);
    }
}
