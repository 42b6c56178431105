package dev.pcb.nativeshim;

import com.sun.jna.Native;
import com.sun.jna.Pointer;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Reads a directory a page at a time with {@code getdents64}, resuming at the kernel's own position cookie
 * ({@code d_off}), so serving page N of a directory costs the same as page 1 and holds no state between pages:
 * what NFS and FUSE do for readdir.
 * <p>
 * Not thread-safe: one reader per thread (the broker's conductor keeps one).
 */
public final class DirectoryReader
{
    /** Cookie of the first entry. */
    public static final long START = 0;

    private static final int SEEK_SET = 0;
    private static final int BUFFER_SIZE = 32 * 1024;

    private final ByteBuffer buffer = ByteBuffer.allocateDirect(BUFFER_SIZE).order(ByteOrder.nativeOrder());
    private final long address = Pointer.nativeValue(Native.getDirectBufferPointer(buffer));

    /**
     * Receives directory entries; "." and ".." are never passed.
     */
    @FunctionalInterface
    public interface EntryConsumer
    {
        /**
         * One entry.
         *
         * @param name  entry name, UTF-8 bytes.
         * @param type  {@code d_type} (DT_REG 8, DT_DIR 4, DT_LNK 10, DT_UNKNOWN 0...).
         * @return false to stop before this entry: it will be the first of the next page.
         */
        boolean accept(byte[] name, int type);
    }

    /**
     * Read entries from a cookie until the consumer stops or the directory ends.
     *
     * @param dirFd    a directory opened for reading.
     * @param cookie   {@link #START} or a cookie this method returned.
     * @param consumer receives entries.
     * @return the cookie of the first entry not consumed, or -1 at the end of the directory.
     * @throws ErrnoException when the directory cannot be read or the cookie is not valid for it.
     */
    public long read(final int dirFd, final long cookie, final EntryConsumer consumer) throws ErrnoException
    {
        if (LibC.lseek(dirFd, cookie, SEEK_SET) < 0)
        {
            throw new ErrnoException("lseek", "directory fd " + dirFd + ", cookie " + cookie, Native.getLastError());
        }
        long position = cookie;
        while (true)
        {
            final long n = LibC.getdents64(dirFd, address, BUFFER_SIZE);
            if (n < 0)
            {
                throw new ErrnoException("getdents64", "directory fd " + dirFd, Native.getLastError());
            }
            if (0 == n)
            {
                return -1;
            }
            int at = 0;
            while (at < n)
            {
                // struct linux_dirent64: d_ino (8), d_off (8), d_reclen (2), d_type (1), d_name (NUL-terminated)
                final long next = buffer.getLong(at + 8);
                final int reclen = buffer.getShort(at + 16) & 0xFFFF;
                final int type = buffer.get(at + 18) & 0xFF;
                int end = at + 19;
                while (buffer.get(end) != 0)
                {
                    end++;
                }
                final byte[] name = new byte[end - at - 19];
                buffer.get(at + 19, name);
                if (!isDotOrDotDot(name) && !consumer.accept(name, type))
                {
                    return position;
                }
                position = next;
                at += reclen;
            }
        }
    }

    private static boolean isDotOrDotDot(final byte[] name)
    {
        return (name.length == 1 && name[0] == '.') || (name.length == 2 && name[0] == '.' && name[1] == '.');
    }
}
