package dev.pcb.fs;

/**
 * FUSE request opcodes ({@code enum fuse_opcode} of {@code linux/fuse.h}, protocol 7.38) and how this read-only
 * filesystem treats each: served, answered EROFS because it would write, or ENOSYS.
 */
public final class FuseOpcode
{
    /** Look a name up in a directory: fuse_entry_out. */
    public static final int LOOKUP = 1;
    /** Drop lookups of a node: no reply. */
    public static final int FORGET = 2;
    /** Attributes of a node: fuse_attr_out. */
    public static final int GETATTR = 3;
    /** Change attributes: EROFS. */
    public static final int SETATTR = 4;
    /** Target of a symlink: the bytes. */
    public static final int READLINK = 5;
    /** Create a symlink: EROFS. */
    public static final int SYMLINK = 6;
    /** Create a device node: EROFS. */
    public static final int MKNOD = 8;
    /** Create a directory: EROFS. */
    public static final int MKDIR = 9;
    /** Remove a file: EROFS. */
    public static final int UNLINK = 10;
    /** Remove a directory: EROFS. */
    public static final int RMDIR = 11;
    /** Rename: EROFS. */
    public static final int RENAME = 12;
    /** Hard link: EROFS. */
    public static final int LINK = 13;
    /** Open a file: one pcb OPEN, fuse_open_out. */
    public static final int OPEN = 14;
    /** Read an open file: the bytes, from pcb windows. */
    public static final int READ = 15;
    /** Write: EROFS. */
    public static final int WRITE = 16;
    /** Filesystem statistics: fuse_statfs_out. */
    public static final int STATFS = 17;
    /** Last close of an open file: the pcb handle is closed. */
    public static final int RELEASE = 18;
    /** fsync: nothing to flush, 0. */
    public static final int FSYNC = 20;
    /** Set an extended attribute: EROFS. */
    public static final int SETXATTR = 21;
    /** Get an extended attribute: ENODATA, there are none. */
    public static final int GETXATTR = 22;
    /** List extended attributes: empty. */
    public static final int LISTXATTR = 23;
    /** Remove an extended attribute: EROFS. */
    public static final int REMOVEXATTR = 24;
    /** close(2) of a descriptor: nothing to flush, 0. */
    public static final int FLUSH = 25;
    /** Protocol negotiation: fuse_init_out. */
    public static final int INIT = 26;
    /** Open a directory: a listing snapshot. */
    public static final int OPENDIR = 27;
    /** Read a directory: fuse_dirent records. */
    public static final int READDIR = 28;
    /** Close a directory. */
    public static final int RELEASEDIR = 29;
    /** fsync of a directory: 0. */
    public static final int FSYNCDIR = 30;
    /** access(2): EROFS for W_OK, else 0. */
    public static final int ACCESS = 34;
    /** Create and open: EROFS. */
    public static final int CREATE = 35;
    /** Interrupt a request: no reply. */
    public static final int INTERRUPT = 36;
    /** The filesystem goes away: 0. */
    public static final int DESTROY = 38;
    /** Drop lookups of many nodes: no reply. */
    public static final int BATCH_FORGET = 42;
    /** Preallocate: EROFS. */
    public static final int FALLOCATE = 43;
    /** Read a directory with attributes: fuse_direntplus records. */
    public static final int READDIRPLUS = 44;
    /** Rename with flags: EROFS. */
    public static final int RENAME2 = 45;
    /** Copy between files: EROFS. */
    public static final int COPY_FILE_RANGE = 47;
    /** Create an unnamed file: EROFS. */
    public static final int TMPFILE = 51;

    private FuseOpcode()
    {
    }

    /**
     * Whether an opcode would change the filesystem, so a read-only one answers EROFS.
     *
     * @param opcode a request opcode.
     * @return true for the write-type opcodes.
     */
    public static boolean writes(final int opcode)
    {
        switch (opcode)
        {
            case SETATTR:
            case SYMLINK:
            case MKNOD:
            case MKDIR:
            case UNLINK:
            case RMDIR:
            case RENAME:
            case LINK:
            case WRITE:
            case SETXATTR:
            case REMOVEXATTR:
            case CREATE:
            case FALLOCATE:
            case RENAME2:
            case COPY_FILE_RANGE:
            case TMPFILE:
                return true;
            default:
                return false;
        }
    }
}
