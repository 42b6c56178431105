package dev.pcb.fs;

/**
 * Layouts of OPEN/OPENDIR, their reply, and the requests naming an open handle (RELEASE, RELEASEDIR, FLUSH).
 * <pre>
 *  fuse_open_in:    flags (open(2) flags) 0 | open_flags 4                             (8 bytes)
 *  fuse_open_out:   fh 0 (8 bytes) | open_flags (FOPEN_*) 8 | padding 12               (16 bytes)
 *  fuse_release_in: fh 0 (8 bytes) | flags 8 | release_flags 12 | lock_owner 16        (24 bytes)
 *  fuse_flush_in:   fh 0 (8 bytes) | unused 8 | padding 12 | lock_owner 16             (24 bytes)
 * </pre>
 */
public final class FuseOpen
{
    /** Offset of the open(2) flags in fuse_open_in. */
    public static final int IN_FLAGS_OFFSET = 0;
    /** Offset of the handle in fuse_open_out, fuse_release_in and fuse_flush_in. */
    public static final int FH_OFFSET = 0;
    /** Offset of the FOPEN_* flags in fuse_open_out. */
    public static final int OUT_OPEN_FLAGS_OFFSET = 8;
    /** Offset of the padding in fuse_open_out. */
    public static final int OUT_PADDING_OFFSET = 12;
    /** Length of fuse_open_out. */
    public static final int OUT_LENGTH = 16;

    /** Bypass the page cache: every read comes to the server, so the guest keeps no copy. */
    public static final int FOPEN_DIRECT_IO = 1;
    /** Keep cached pages of the node from earlier opens: they are of the same version. */
    public static final int FOPEN_KEEP_CACHE = 1 << 1;
    /** Directory listings may be cached. */
    public static final int FOPEN_CACHE_DIR = 1 << 3;

    /** Access mode bits of open(2) flags. */
    public static final int O_ACCMODE = 03;
    /** open(2) flag the kernel sets for execve and uselib opens. */
    public static final int FMODE_EXEC = 040;

    private FuseOpen()
    {
    }
}
