package dev.pcb.nativeshim;

import com.sun.jna.Native;

import static dev.pcb.nativeshim.Errno.EINTR;
import static dev.pcb.nativeshim.Errno.EINVAL;

/**
 * Fill memory from a file and leave no copy of that range in the host page cache, so the filled memory (a pcb
 * window) is the only copy the host keeps.
 */
public final class DirectReader
{
    /** Alignment O_DIRECT reads need for address, offset and length: the logical block size of common disks. */
    public static final int ALIGNMENT = 4096;

    private static final String PROC_SELF_FD = "/proc/self/fd/";

    private DirectReader()
    {
    }

    /**
     * Read {@code length} bytes at {@code fileOffset} into {@code address}, then drop the pages of that range from the
     * page cache with {@code posix_fadvise(POSIX_FADV_DONTNEED)}, widened to whole pages.
     * <p>
     * With {@code useODirect} the caller passes a descriptor opened with {@link Linux#O_DIRECT} and an address, offset
     * and length that are multiples of {@link #ALIGNMENT}; the data then never enters the page cache. The unaligned
     * tail of a file is read by the O_DIRECT read of its last block, which the kernel cuts short at end of file (and
     * may zero-fill up to the block end in the buffer). If the kernel refuses that (EINVAL), the rest is read through
     * the page cache on a second open of the same file and then dropped. DONTNEED cannot drop dirty pages or pages
     * another process has mapped, and does nothing on tmpfs, whose files are page cache.
     *
     * @param fd         readable descriptor, with O_DIRECT when {@code useODirect}.
     * @param address    native address of at least {@code length} writable bytes.
     * @param length     bytes wanted.
     * @param fileOffset file offset to read from.
     * @param useODirect whether {@code fd} is O_DIRECT and the arguments are aligned.
     * @return bytes read: {@code length}, or fewer only at end of file.
     * @throws ErrnoException from pread or posix_fadvise.
     * @throws IllegalArgumentException when {@code useODirect} and an argument is not aligned.
     */
    public static long readWithoutCaching(
        final int fd, final long address, final long length, final long fileOffset, final boolean useODirect)
        throws ErrnoException
    {
        final long read;
        if (useODirect)
        {
            if (((address | length | fileOffset) & (ALIGNMENT - 1)) != 0)
            {
                throw new IllegalArgumentException("O_DIRECT read not aligned to " + ALIGNMENT + ": address 0x" +
                    Long.toHexString(address) + ", length " + length + ", offset " + fileOffset);
            }
            read = preadDirect(fd, address, length, fileOffset);
        }
        else
        {
            read = Linux.preadFully(fd, address, length, fileOffset);
        }

        if (read > 0)
        {
            // DONTNEED keeps partial pages at either end, so widen to whole pages; 0 would mean "to end of file".
            final long pageMask = Linux.pageSize() - 1L;
            final long start = fileOffset & ~pageMask;
            final long end = (fileOffset + read + pageMask) & ~pageMask;
            Linux.posixFadvise(fd, start, end - start, Linux.POSIX_FADV_DONTNEED);
        }
        return read;
    }

    /**
     * Read through a second, buffered open of the file behind {@code fd} (via /proc/self/fd, so it works after rename
     * or unlink): what an O_DIRECT descriptor cannot read itself.
     */
    static long preadBuffered(final int fd, final long address, final long length, final long fileOffset)
        throws ErrnoException
    {
        final int buffered = Linux.openFile(PROC_SELF_FD + fd, Linux.O_RDONLY);
        try
        {
            return Linux.preadFully(buffered, address, length, fileOffset);
        }
        finally
        {
            Linux.closeQuietly(buffered);
        }
    }

    private static long preadDirect(final int fd, final long address, final long length, final long fileOffset)
        throws ErrnoException
    {
        long done = 0;
        while (done < length)
        {
            final long n = LibC.pread(fd, address + done, length - done, fileOffset + done);
            if (n > 0)
            {
                done += n;
                if ((done & (ALIGNMENT - 1)) != 0)
                {
                    break;  // direct I/O completes whole blocks, so a partial one is the end of the file
                }
            }
            else if (0 == n)
            {
                break;
            }
            else
            {
                final int errno = Native.getLastError();
                if (EINVAL == errno)
                {
                    return done + preadBuffered(fd, address + done, length - done, fileOffset + done);
                }
                if (EINTR != errno)
                {
                    throw new ErrnoException("pread", "fd " + fd + ", O_DIRECT, offset " + (fileOffset + done) +
                        ", length " + (length - done), errno);
                }
            }
        }
        return done;
    }
}
