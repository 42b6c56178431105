package dev.pcb.fs;

/**
 * Layout of {@code struct fuse_read_in}, the argument of READ, READDIR and READDIRPLUS.
 * <pre>
 *  +-------------------------------+-------------------------------+
 *  | fh                                                          0 |
 *  | offset                                                      8 |
 *  | size                       16 | read_flags                 20 |
 *  | lock_owner                                                 24 |
 *  | flags                      32 | padding                    36 |
 *  +-------------------------------+-------------------------------+
 * </pre>
 * For a directory the offset is the cookie of the last entry returned, here the index of the next entry.
 */
public final class FuseRead
{
    /** Offset of the handle. */
    public static final int FH_OFFSET = 0;
    /** Offset of the file offset, or directory cookie. */
    public static final int OFFSET_OFFSET = 8;
    /** Offset of the most bytes wanted. */
    public static final int SIZE_OFFSET = 16;
    /** Length of fuse_read_in. */
    public static final int LENGTH = 40;

    private FuseRead()
    {
    }
}
