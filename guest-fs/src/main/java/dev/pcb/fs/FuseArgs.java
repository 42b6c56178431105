package dev.pcb.fs;

import org.agrona.MutableDirectBuffer;

/**
 * Layouts of the small requests and replies: FORGET, BATCH_FORGET, INTERRUPT, ACCESS, GETXATTR/LISTXATTR, and the
 * STATFS reply.
 * <pre>
 *  fuse_forget_in:       nlookup 0 (8 bytes)
 *  fuse_batch_forget_in: count 0 | dummy 4, then count x fuse_forget_one { nodeid 0 (8) | nlookup 8 (8) }
 *  fuse_interrupt_in:    unique 0 (8 bytes)
 *  fuse_access_in:       mask 0 | padding 4
 *  fuse_getxattr_in:     size 0 | padding 4, then (GETXATTR) the NUL-terminated name
 *  fuse_getxattr_out:    size 0 | padding 4                     (the reply when the asked size is 0)
 *  fuse_statfs_out (fuse_kstatfs, 80 bytes):
 *   blocks 0 | bfree 8 | bavail 16 | files 24 | ffree 32 | bsize 40 | namelen 44 | frsize 48 | padding 52
 *   | spare[6] 56
 * </pre>
 */
public final class FuseArgs
{
    /** Offset of nlookup in fuse_forget_in. */
    public static final int FORGET_NLOOKUP_OFFSET = 0;
    /** Offset of the count in fuse_batch_forget_in. */
    public static final int BATCH_FORGET_COUNT_OFFSET = 0;
    /** Length of fuse_batch_forget_in, before the entries. */
    public static final int BATCH_FORGET_LENGTH = 8;
    /** Length of one fuse_forget_one. */
    public static final int FORGET_ONE_LENGTH = 16;
    /** Offset of the node id in fuse_forget_one. */
    public static final int FORGET_ONE_NODEID_OFFSET = 0;
    /** Offset of nlookup in fuse_forget_one. */
    public static final int FORGET_ONE_NLOOKUP_OFFSET = 8;
    /** Offset of the mask in fuse_access_in. */
    public static final int ACCESS_MASK_OFFSET = 0;
    /** access(2) W_OK. */
    public static final int W_OK = 2;
    /** Offset of the size in fuse_getxattr_in and fuse_getxattr_out. */
    public static final int XATTR_SIZE_OFFSET = 0;
    /** Length of fuse_getxattr_out. */
    public static final int XATTR_OUT_LENGTH = 8;
    /** Length of fuse_statfs_out. */
    public static final int STATFS_LENGTH = 80;
    /** Offset of bsize in fuse_kstatfs. */
    public static final int STATFS_BSIZE_OFFSET = 40;
    /** Offset of namelen in fuse_kstatfs. */
    public static final int STATFS_NAMELEN_OFFSET = 44;
    /** Offset of frsize in fuse_kstatfs. */
    public static final int STATFS_FRSIZE_OFFSET = 48;
    /** Longest name a host filesystem takes. */
    public static final int NAME_MAX = 255;

    private FuseArgs()
    {
    }

    /**
     * Encode a STATFS reply: a read-only view with no free space and no counts pcb could report truthfully.
     *
     * @param buffer reply buffer.
     * @param at     offset of fuse_statfs_out.
     * @return bytes written.
     */
    public static int encodeStatfs(final MutableDirectBuffer buffer, final int at)
    {
        buffer.setMemory(at, STATFS_LENGTH, (byte)0);
        buffer.putInt(at + STATFS_BSIZE_OFFSET, 4096);
        buffer.putInt(at + STATFS_NAMELEN_OFFSET, NAME_MAX);
        buffer.putInt(at + STATFS_FRSIZE_OFFSET, 4096);
        return STATFS_LENGTH;
    }
}
