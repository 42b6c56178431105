package dev.pcb.fs;

import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;

/**
 * Layouts of the INIT exchange, {@code struct fuse_init_in} and {@code struct fuse_init_out}, and the flags this
 * filesystem negotiates.
 * <pre>
 *  fuse_init_in (after the in header), 64 bytes:
 *  +-------------------------------+-------------------------------+
 *  | major                       0 | minor                       4 |
 *  | max_readahead               8 | flags                      12 |
 *  | flags2 (7.36+, with INIT_EXT) 16 | unused[11]             20.. |
 *  +-------------------------------+-------------------------------+
 *  fuse_init_out (after the out header), 64 bytes:
 *  +-------------------------------+-------------------------------+
 *  | major                       0 | minor                       4 |
 *  | max_readahead               8 | flags                      12 |
 *  | max_background 16 | congestion_threshold 18 | max_write    20 |
 *  | time_gran                  24 | max_pages 28 | map_alignment 30 |
 *  | flags2                     32 | unused[7]                  36.. |
 *  +-------------------------------+-------------------------------+
 * </pre>
 * The reply is the kernel's flags masked by {@link #WANTED_FLAGS}: a flag the kernel did not offer is never set.
 */
public final class FuseInit
{
    /** Offset of the major version. */
    public static final int MAJOR_OFFSET = 0;
    /** Offset of the minor version. */
    public static final int MINOR_OFFSET = 4;
    /** Offset of the readahead limit. */
    public static final int MAX_READAHEAD_OFFSET = 8;
    /** Offset of the low 32 flag bits. */
    public static final int FLAGS_OFFSET = 12;
    /** Offset of the high 32 flag bits in fuse_init_in. */
    public static final int IN_FLAGS2_OFFSET = 16;
    /** Offset of max_background in fuse_init_out. */
    public static final int MAX_BACKGROUND_OFFSET = 16;
    /** Offset of congestion_threshold in fuse_init_out. */
    public static final int CONGESTION_THRESHOLD_OFFSET = 18;
    /** Offset of max_write in fuse_init_out. */
    public static final int MAX_WRITE_OFFSET = 20;
    /** Offset of time_gran in fuse_init_out. */
    public static final int TIME_GRAN_OFFSET = 24;
    /** Offset of max_pages in fuse_init_out. */
    public static final int MAX_PAGES_OFFSET = 28;
    /** Offset of the high 32 flag bits in fuse_init_out. */
    public static final int OUT_FLAGS2_OFFSET = 32;
    /** Length of fuse_init_out. */
    public static final int OUT_LENGTH = 64;

    /** The protocol major version spoken. */
    public static final int KERNEL_MAJOR = 7;
    /** The protocol minor version this code was written against ({@code linux/fuse.h} of Debian 12). */
    public static final int KERNEL_MINOR = 38;

    /** Reads of a file may be in flight together (readahead, several threads). */
    public static final long ASYNC_READ = 1L;
    /** READDIRPLUS is used: a listing carries attributes, saving a LOOKUP per entry. */
    public static final long DO_READDIRPLUS = 1L << 13;
    /** The kernel picks READDIRPLUS or READDIR by how the listing is used. */
    public static final long READDIRPLUS_AUTO = 1L << 14;
    /** Lookups and listings of one directory run in parallel. */
    public static final long PARALLEL_DIROPS = 1L << 18;
    /** {@code max_pages} in the reply is honoured (reads up to 256 pages). */
    public static final long MAX_PAGES = 1L << 22;
    /** Symlink targets are cached in the page cache; a node's target never changes. */
    public static final long CACHE_SYMLINKS = 1L << 23;
    /** flags2 is valid. */
    public static final long INIT_EXT = 1L << 30;
    /** Kernel 6.6+ (7.39): FOPEN_DIRECT_IO files may still be mapped MAP_SHARED (read-only here). */
    public static final long DIRECT_IO_ALLOW_MMAP = 1L << 36;
    /** Every flag asked for. */
    public static final long WANTED_FLAGS = ASYNC_READ | DO_READDIRPLUS | READDIRPLUS_AUTO | PARALLEL_DIROPS |
        MAX_PAGES | CACHE_SYMLINKS | INIT_EXT | DIRECT_IO_ALLOW_MMAP;

    /** Pages per request asked for: 256 pages = 1 MiB reads. */
    public static final int MAX_PAGES_WANTED = 256;
    /** Largest write accepted; nothing is ever written, so one page. */
    public static final int MAX_WRITE = 4096;
    /** Background requests (readahead) in flight at once. */
    public static final int MAX_BACKGROUND = 64;

    private FuseInit()
    {
    }

    /**
     * The kernel's offered flags.
     *
     * @param buffer request buffer.
     * @param at     offset of fuse_init_in.
     * @return all 64 flag bits (flags2 only when INIT_EXT is offered).
     */
    public static long offeredFlags(final DirectBuffer buffer, final int at)
    {
        final long low = buffer.getInt(at + FLAGS_OFFSET) & 0xFFFF_FFFFL;
        final long high = 0 != (low & INIT_EXT) ? buffer.getInt(at + IN_FLAGS2_OFFSET) & 0xFFFF_FFFFL : 0;
        return low | high << 32;
    }

    /**
     * Encode the reply.
     *
     * @param buffer       reply buffer.
     * @param at           offset of fuse_init_out.
     * @param minor        minor version answered.
     * @param maxReadahead readahead answered.
     * @param flags        flags answered.
     * @return bytes written.
     */
    public static int encodeReply(
        final MutableDirectBuffer buffer, final int at, final int minor, final int maxReadahead, final long flags)
    {
        buffer.setMemory(at, OUT_LENGTH, (byte)0);
        buffer.putInt(at + MAJOR_OFFSET, KERNEL_MAJOR);
        buffer.putInt(at + MINOR_OFFSET, minor);
        buffer.putInt(at + MAX_READAHEAD_OFFSET, maxReadahead);
        buffer.putInt(at + FLAGS_OFFSET, (int)flags);
        buffer.putShort(at + MAX_BACKGROUND_OFFSET, (short)MAX_BACKGROUND);
        buffer.putShort(at + CONGESTION_THRESHOLD_OFFSET, (short)(MAX_BACKGROUND * 3 / 4));
        buffer.putInt(at + MAX_WRITE_OFFSET, MAX_WRITE);
        buffer.putInt(at + TIME_GRAN_OFFSET, 1);
        buffer.putShort(at + MAX_PAGES_OFFSET, (short)MAX_PAGES_WANTED);
        buffer.putInt(at + OUT_FLAGS2_OFFSET, (int)(flags >>> 32));
        return OUT_LENGTH;
    }
}
