package dev.pcb.nativeshim;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;

/**
 * Mutable, reusable result of {@link Linux#statx} and {@link Linux#fstat}.
 * <p>
 * Holds its own 256-byte {@code struct statx} buffer so a caller that keeps one instance per thread
 * stats without allocating. Not thread safe.
 */
public final class StatxResult
{
    /** Size of {@code struct statx} in bytes, fixed by the kernel ABI. */
    static final int STRUCT_SIZE = 256;

    private static final int S_IFMT = 0170000;
    private static final int S_IFREG = 0100000;
    private static final int S_IFDIR = 0040000;
    private static final int S_IFLNK = 0120000;

    // Offsets in struct statx (include/uapi/linux/stat.h); identical on every 64-bit architecture.
    private static final int NLINK_OFFSET = 16;
    private static final int MODE_OFFSET = 28;
    private static final int INO_OFFSET = 32;
    private static final int SIZE_OFFSET = 40;
    private static final int BLOCKS_OFFSET = 48;
    private static final int CTIME_OFFSET = 96;
    private static final int MTIME_OFFSET = 112;
    private static final int DEV_MAJOR_OFFSET = 136;
    private static final int DEV_MINOR_OFFSET = 140;
    private static final int TIMESTAMP_NSEC_OFFSET = 8;
    private static final long NANOS_PER_SECOND = 1_000_000_000L;

    private static final VarHandle SHORT = MethodHandles.byteArrayViewVarHandle(short[].class, ByteOrder.nativeOrder());
    private static final VarHandle INT = MethodHandles.byteArrayViewVarHandle(int[].class, ByteOrder.nativeOrder());
    private static final VarHandle LONG = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.nativeOrder());

    final byte[] buffer = new byte[STRUCT_SIZE];

    private long device;
    private long inode;
    private int mode;
    private long size;
    private long blocks;
    private int nlink;
    private long mtimeNanos;
    private long ctimeNanos;

    /**
     * Device the file lives on, as {@code (major << 32) | minor}; with {@link #inode()} a stable identity.
     *
     * @return the device id.
     */
    public long device()
    {
        return device;
    }

    /**
     * Inode number; with {@link #device()} a stable identity that survives rename and unlink.
     *
     * @return the inode number.
     */
    public long inode()
    {
        return inode;
    }

    /**
     * File type and permission bits, as in {@code st_mode}.
     *
     * @return the mode.
     */
    public int mode()
    {
        return mode;
    }

    /**
     * Size in bytes.
     *
     * @return the size.
     */
    public long size()
    {
        return size;
    }

    /**
     * Allocated space in 512-byte units; less than {@code size / 512} for a sparse file.
     *
     * @return the number of 512-byte blocks.
     */
    public long blocks()
    {
        return blocks;
    }

    /**
     * Number of hard links; 0 for a file deleted while still open.
     *
     * @return the link count.
     */
    public int nlink()
    {
        return nlink;
    }

    /**
     * Last modification time of the contents.
     *
     * @return seconds * 1e9 + nanoseconds since the epoch.
     */
    public long mtimeNanos()
    {
        return mtimeNanos;
    }

    /**
     * Last status change time: changes on every write, truncate, chmod, link and rename.
     *
     * @return seconds * 1e9 + nanoseconds since the epoch.
     */
    public long ctimeNanos()
    {
        return ctimeNanos;
    }

    /**
     * Whether this is a regular file.
     *
     * @return true for a regular file.
     */
    public boolean isRegularFile()
    {
        return (mode & S_IFMT) == S_IFREG;
    }

    /**
     * Whether this is a directory.
     *
     * @return true for a directory.
     */
    public boolean isDirectory()
    {
        return (mode & S_IFMT) == S_IFDIR;
    }

    /**
     * Whether this is a symbolic link; only possible when the link was not followed.
     *
     * @return true for a symbolic link.
     */
    public boolean isSymlink()
    {
        return (mode & S_IFMT) == S_IFLNK;
    }

    /**
     * Fields in the form of a debugging string.
     *
     * @return a description of the fields.
     */
    @Override
    public String toString()
    {
        return "StatxResult{device=" + (device >>> 32) + ':' + (device & 0xFFFF_FFFFL) +
            ", inode=" + inode +
            ", mode=0" + Integer.toOctalString(mode) +
            ", size=" + size +
            ", blocks=" + blocks +
            ", nlink=" + nlink +
            ", mtimeNanos=" + mtimeNanos +
            ", ctimeNanos=" + ctimeNanos +
            '}';
    }

    void decode()
    {
        final byte[] b = buffer;
        nlink = (int)INT.get(b, NLINK_OFFSET);
        mode = Short.toUnsignedInt((short)SHORT.get(b, MODE_OFFSET));
        inode = (long)LONG.get(b, INO_OFFSET);
        size = (long)LONG.get(b, SIZE_OFFSET);
        blocks = (long)LONG.get(b, BLOCKS_OFFSET);
        ctimeNanos = timestamp(b, CTIME_OFFSET);
        mtimeNanos = timestamp(b, MTIME_OFFSET);
        device = (Integer.toUnsignedLong((int)INT.get(b, DEV_MAJOR_OFFSET)) << 32) |
            Integer.toUnsignedLong((int)INT.get(b, DEV_MINOR_OFFSET));
    }

    private static long timestamp(final byte[] b, final int offset)
    {
        final long seconds = (long)LONG.get(b, offset);
        final long nanos = Integer.toUnsignedLong((int)INT.get(b, offset + TIMESTAMP_NSEC_OFFSET));
        return seconds * NANOS_PER_SECOND + nanos;
    }
}
