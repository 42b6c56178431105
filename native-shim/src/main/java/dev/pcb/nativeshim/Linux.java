package dev.pcb.nativeshim;

import com.sun.jna.Memory;
import com.sun.jna.Native;
import com.sun.jna.Pointer;
import com.sun.jna.StringArray;

import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

import static dev.pcb.nativeshim.Errno.EAGAIN;
import static dev.pcb.nativeshim.Errno.EBADF;
import static dev.pcb.nativeshim.Errno.EBADMSG;
import static dev.pcb.nativeshim.Errno.EBUSY;
import static dev.pcb.nativeshim.Errno.EINTR;
import static dev.pcb.nativeshim.Errno.EINVAL;
import static dev.pcb.nativeshim.Errno.ELOOP;
import static dev.pcb.nativeshim.Errno.ENOENT;
import static dev.pcb.nativeshim.Errno.ENOSYS;
import static dev.pcb.nativeshim.Errno.ENOTDIR;
import static dev.pcb.nativeshim.Errno.EPERM;
import static dev.pcb.nativeshim.Errno.ESRCH;
import static dev.pcb.nativeshim.Errno.EXDEV;

/**
 * The Linux calls Java lacks, as static methods over direct-mapped JNA.
 * <p>
 * Every failing call throws an {@link ErrnoException} naming the call and the errno symbol. File descriptors are plain
 * {@code int}s opened with {@code O_CLOEXEC}; the caller owns them and must {@link #close(int)} them. Paths are encoded
 * as UTF-8 whatever the locale. Supports Linux on x86_64 and aarch64; loading this class elsewhere fails with
 * {@link UnsupportedOperationException}.
 */
public final class Linux
{
    /** Open for reading only. */
    public static final int O_RDONLY = 0;
    /** Open for writing only. */
    public static final int O_WRONLY = 01;
    /** Open for reading and writing. */
    public static final int O_RDWR = 02;
    /** Create the file if it does not exist, with mode 0600 unless a mode is given. */
    public static final int O_CREAT = 0100;
    /** With {@link #O_CREAT}: fail with EEXIST if the file exists. */
    public static final int O_EXCL = 0200;
    /** Truncate to length 0. */
    public static final int O_TRUNC = 01000;
    /** Fail with ENOTDIR unless the path names a directory. */
    public static final int O_DIRECTORY;
    /** Bypass the page cache; offsets, lengths and buffers must then be aligned to the logical block size. */
    public static final int O_DIRECT;
    /** Fail with ELOOP if the last component is a symbolic link. */
    public static final int O_NOFOLLOW;
    /** Close on exec; always added by this class. */
    public static final int O_CLOEXEC = 02000000;
    /** A descriptor that only locates a file (for *at calls and fstat); no read or write. */
    public static final int O_PATH = 010000000;
    /**
     * Never wait in open(2): a FIFO without a writer opens at once, and a file under a conflicting lease fails with
     * EAGAIN instead of blocking until the lease breaks. Reads of regular files ignore it.
     */
    public static final int O_NONBLOCK = 04000;
    /** Opening a terminal does not make it the controlling terminal of this process. */
    public static final int O_NOCTTY = 0400;

    /** posix_fadvise: no special treatment. */
    public static final int POSIX_FADV_NORMAL = 0;
    /** posix_fadvise: expect random access, disable readahead. */
    public static final int POSIX_FADV_RANDOM = 1;
    /** posix_fadvise: expect sequential access, double readahead. */
    public static final int POSIX_FADV_SEQUENTIAL = 2;
    /** posix_fadvise: start reading the range into the page cache now. */
    public static final int POSIX_FADV_WILLNEED = 3;
    /** posix_fadvise: drop the range's clean, unmapped pages from the page cache. */
    public static final int POSIX_FADV_DONTNEED = 4;
    /** posix_fadvise: data will be accessed once; a no-op on Linux. */
    public static final int POSIX_FADV_NOREUSE = 5;

    /** madvise: no special treatment. */
    public static final int MADV_NORMAL = 0;
    /** madvise: expect random access, disable readahead on faults. */
    public static final int MADV_RANDOM = 1;
    /** madvise: expect sequential access. */
    public static final int MADV_SEQUENTIAL = 2;
    /** madvise: fault the range in soon. */
    public static final int MADV_WILLNEED = 3;
    /** madvise: drop this process's page mappings; shared file data stays in the file. */
    public static final int MADV_DONTNEED = 4;
    /** madvise: free the range and its backing store (punches a hole in tmpfs/shmem). */
    public static final int MADV_REMOVE = 9;
    /** madvise: back the range with transparent huge pages where possible. */
    public static final int MADV_HUGEPAGE = 14;
    /** madvise: allocate and map the range writable now, without changing its contents (Linux 5.14). */
    public static final int MADV_POPULATE_WRITE = 23;

    /** fallocate: do not change the file size. */
    public static final int FALLOC_FL_KEEP_SIZE = 0x01;
    /** fallocate: deallocate the range (needs {@link #FALLOC_FL_KEEP_SIZE}). */
    public static final int FALLOC_FL_PUNCH_HOLE = 0x02;
    /** fallocate: zero the range, allocating it. */
    public static final int FALLOC_FL_ZERO_RANGE = 0x10;

    /** memfd_create: close on exec; always added by this class. */
    public static final int MFD_CLOEXEC = 0x01;
    /** memfd_create: allow F_ADD_SEALS. */
    public static final int MFD_ALLOW_SEALING = 0x02;
    /** memfd_create: back the file with huge pages from hugetlbfs. */
    public static final int MFD_HUGETLB = 0x04;

    static final int AT_FDCWD = -100;
    private static final int AT_SYMLINK_NOFOLLOW = 0x100;
    private static final int AT_EMPTY_PATH = 0x1000;
    private static final int STATX_BASIC_STATS = 0x7ff;
    // openat2 has the same number on every architecture, being newer than the unified syscall table.
    private static final long SYS_OPENAT2 = 437;
    private static final long RESOLVE_NO_MAGICLINKS = 0x02;
    private static final long RESOLVE_BENEATH = 0x08;
    private static final long OPEN_HOW_SIZE = 24;
    // openat2 answers EAGAIN when a concurrent rename might have let ".." escape; the kernel asks us to retry.
    private static final int OPENAT2_EAGAIN_RETRIES = 64;
    private static final int PROT_READ = 0x1;
    private static final int PROT_WRITE = 0x2;
    private static final int MAP_SHARED = 0x01;
    private static final long MAP_FAILED = -1L;
    private static final int SC_PAGESIZE = 30;
    private static final int CREATE_MODE = 0600;
    private static final int DIRECT_IO_ALIGNMENT = 4096;
    private static final int STATFS_SIZE = 256;
    private static final long TMPFS_MAGIC = 0x01021994L;
    private static final long RAMFS_MAGIC = 0x858458f6L;
    private static final long HUGETLBFS_MAGIC = 0x958458f6L;
    private static final byte[] EMPTY_PATH = {0};
    private static final byte[] ROOT_PATH = {'/', 0};
    private static final int PAGE_SIZE;

    // Set once the kernel (or a seccomp filter) refuses openat2; from then on openBeneath walks.
    private static volatile boolean openat2Missing;

    static
    {
        final String os = System.getProperty("os.name");
        final String arch = System.getProperty("os.arch");
        if (!"Linux".equals(os))
        {
            throw new UnsupportedOperationException("pcb native-shim needs Linux, not " + os);
        }
        switch (arch)
        {
            case "amd64":
            case "x86_64":
                O_DIRECT = 040000;
                O_DIRECTORY = 0200000;
                O_NOFOLLOW = 0400000;
                break;

            case "aarch64":
                O_DIRECTORY = 040000;
                O_NOFOLLOW = 0100000;
                O_DIRECT = 0200000;
                break;

            default:
                throw new UnsupportedOperationException("pcb native-shim supports x86_64 and aarch64, not " + arch);
        }
        PAGE_SIZE = (int)LibC.sysconf(SC_PAGESIZE);
    }

    private Linux()
    {
    }

    /**
     * Size of a memory page; mmap offsets and madvise/munmap/mlock addresses must be multiples of it.
     *
     * @return the page size in bytes (4096 on x86_64, 4096 or 65536 on aarch64).
     */
    public static int pageSize()
    {
        return PAGE_SIZE;
    }

    /**
     * Open a directory with {@code O_RDONLY | O_DIRECTORY | O_CLOEXEC}, typically a share root for
     * {@link #openBeneath(int, String, int)}.
     *
     * @param absolutePath path of the directory, starting with '/'.
     * @return the directory file descriptor.
     * @throws ErrnoException e.g. ENOENT, ENOTDIR, EACCES.
     */
    public static int openDirectory(final String absolutePath) throws ErrnoException
    {
        return openFile(absolutePath, O_RDONLY | O_DIRECTORY, 0);
    }

    /**
     * Open {@code relativePath} beneath {@code dirFd}, never outside it.
     * <p>
     * Uses openat2 with {@code RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS}: symbolic links are followed only while they
     * stay beneath {@code dirFd}. Before any system call the path is checked: absolute paths and any ".." component
     * fail with EXDEV, an empty path with ENOENT, empty components ("a//b", "a/") and NUL characters with EINVAL.
     * When the kernel lacks openat2 (ENOSYS, or EPERM from a seccomp filter), falls back to a component-by-component
     * walk that follows no symbolic link at all: any symlink on the path fails with ELOOP. {@code O_CLOEXEC} is always
     * added; {@code O_CREAT} creates with mode 0600.
     *
     * @param dirFd        directory descriptor the path must stay beneath.
     * @param relativePath path relative to {@code dirFd}, '/'-separated.
     * @param flags        open flags, e.g. {@link #O_RDONLY} or {@link #O_RDONLY} | {@link #O_DIRECTORY}.
     * @return the new file descriptor.
     * @throws ErrnoException EXDEV for a path leading out of {@code dirFd}, ELOOP for a symlink in fallback mode,
     *                        and whatever open(2) reports, e.g. ENOENT, EACCES, ENOTDIR.
     */
    public static int openBeneath(final int dirFd, final String relativePath, final int flags) throws ErrnoException
    {
        if (!openat2Missing)
        {
            checkBeneath("openat2", relativePath);
            final int result = openat2(dirFd, cString(relativePath), flags | O_CLOEXEC,
                RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS);
            if (result >= 0)
            {
                return result;
            }

            final int errno = -result;
            if ((ENOSYS != errno && EPERM != errno) || openat2Works())
            {
                throw new ErrnoException("openat2", relativePath, errno);
            }
            openat2Missing = true;
        }

        return openBeneathByWalk(dirFd, relativePath, flags);
    }

    /**
     * The fallback of {@link #openBeneath(int, String, int)}: openat one component at a time with
     * {@code O_NOFOLLOW}, intermediate directories as {@code O_PATH}, so no symlink is ever resolved.
     */
    static int openBeneathByWalk(final int dirFd, final String relativePath, final int flags) throws ErrnoException
    {
        checkBeneath("openat", relativePath);
        int current = dirFd;
        try
        {
            int start = 0;
            int slash;
            while ((slash = relativePath.indexOf('/', start)) >= 0)
            {
                final byte[] name = cString(relativePath.substring(start, slash));
                final int next = openat(current, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC, 0);
                if (next < 0)
                {
                    throw walkError(current, name, relativePath, -next);
                }
                if (current != dirFd)
                {
                    closeQuietly(current);
                }
                current = next;
                start = slash + 1;
            }

            final byte[] name = cString(relativePath.substring(start));
            final int fd = openat(current, name, flags | O_NOFOLLOW | O_CLOEXEC, createMode(flags));
            if (fd < 0)
            {
                throw walkError(current, name, relativePath, -fd);
            }
            // O_PATH | O_NOFOLLOW opens the symlink itself instead of failing.
            if ((flags & O_PATH) != 0 && isSymlink(fd, EMPTY_PATH, AT_EMPTY_PATH))
            {
                closeQuietly(fd);
                throw new ErrnoException("openat", relativePath, ELOOP);
            }
            return fd;
        }
        finally
        {
            if (current != dirFd)
            {
                closeQuietly(current);
            }
        }
    }

    /**
     * Close a file descriptor.
     * <p>
     * EINTR is ignored: Linux has released the descriptor anyway, and retrying could close one another thread just
     * opened.
     *
     * @param fd the descriptor.
     * @throws IllegalStateException       on EBADF: the descriptor was not open, a bug in the caller.
     * @throws java.io.UncheckedIOException on any other error, e.g. EIO from a network filesystem.
     */
    public static void close(final int fd)
    {
        if (0 == LibC.close(fd))
        {
            return;
        }

        final int errno = Native.getLastError();
        if (EINTR == errno)
        {
            return;
        }
        final ErrnoException ex = new ErrnoException("close", "fd " + fd, errno);
        if (EBADF == errno)
        {
            throw new IllegalStateException(ex.getMessage(), ex);
        }
        throw new UncheckedIOException(ex);
    }

    /**
     * Stat an open file: {@code statx(fd, "", AT_EMPTY_PATH, STATX_BASIC_STATS)}. Works on a deleted file.
     *
     * @param fd  the descriptor, which may be {@link #O_PATH}.
     * @param out receives the result.
     * @throws ErrnoException e.g. EBADF.
     */
    public static void fstat(final int fd, final StatxResult out) throws ErrnoException
    {
        if (0 != LibC.statx(fd, EMPTY_PATH, AT_EMPTY_PATH, STATX_BASIC_STATS, out.buffer))
        {
            throw new ErrnoException("statx", "fd " + fd, Native.getLastError());
        }
        out.decode();
    }

    /**
     * Stat an entry beneath a directory, confined exactly like {@link #openBeneath(int, String, int)}.
     * <p>
     * A single name with {@code followSymlinks == false} is one statx call; a longer path opens its parent with
     * openBeneath first, and {@code followSymlinks == true} opens the entry itself, so no symlink anywhere on the
     * path can reveal metadata of a file outside {@code dirFd}.
     *
     * @param dirFd          directory descriptor the path must stay beneath.
     * @param relativePath   path relative to {@code dirFd}.
     * @param followSymlinks whether a symlink as last component is followed (within {@code dirFd}) or reported.
     * @param out            receives the result.
     * @throws ErrnoException as {@link #openBeneath(int, String, int)}, e.g. ENOENT or EXDEV.
     */
    public static void statx(final int dirFd, final String relativePath, final boolean followSymlinks,
        final StatxResult out) throws ErrnoException
    {
        if (followSymlinks)
        {
            final int fd = openBeneath(dirFd, relativePath, O_PATH);
            try
            {
                fstat(fd, out);
            }
            finally
            {
                closeQuietly(fd);
            }
            return;
        }

        checkBeneath("statx", relativePath);
        final int slash = relativePath.lastIndexOf('/');
        if (slash < 0)
        {
            statxNoFollow(dirFd, relativePath, relativePath, out);
            return;
        }

        final int parentFd = openBeneath(dirFd, relativePath.substring(0, slash), O_PATH | O_DIRECTORY);
        try
        {
            statxNoFollow(parentFd, relativePath.substring(slash + 1), relativePath, out);
        }
        finally
        {
            closeQuietly(parentFd);
        }
    }

    /**
     * Read from {@code fd} into native memory at {@code address}, looping on EINTR and short reads.
     * Allocates nothing unless it throws.
     *
     * @param fd         a readable descriptor.
     * @param address    native address of at least {@code length} writable bytes.
     * @param length     number of bytes wanted.
     * @param fileOffset file offset to read from; the descriptor's own position is neither used nor moved.
     * @return bytes read: {@code length}, or fewer only when end of file was reached.
     * @throws ErrnoException e.g. EBADF, EISDIR, EFAULT for a bad address, EINVAL for misaligned O_DIRECT I/O.
     */
    public static long preadFully(final int fd, final long address, final long length, final long fileOffset)
        throws ErrnoException
    {
        long done = 0;
        while (done < length)
        {
            final long n = LibC.pread(fd, address + done, length - done, fileOffset + done);
            if (n > 0)
            {
                done += n;
            }
            else if (0 == n)
            {
                break;
            }
            else
            {
                final int errno = Native.getLastError();
                if (EINTR != errno)
                {
                    throw new ErrnoException("pread", "fd " + fd + ", offset " + (fileOffset + done) +
                        ", length " + (length - done), errno);
                }
            }
        }
        return done;
    }

    /**
     * Advise the kernel about a file range; {@link #POSIX_FADV_DONTNEED} drops its clean pages from the page cache.
     *
     * @param fd     the descriptor.
     * @param offset start of the range.
     * @param length length of the range; 0 means to end of file.
     * @param advice one of the {@code POSIX_FADV_*} constants.
     * @throws ErrnoException EBADF, EINVAL for unknown advice, ESPIPE for a pipe.
     */
    public static void posixFadvise(final int fd, final long offset, final long length, final int advice)
        throws ErrnoException
    {
        // posix_fadvise returns the error number instead of setting errno.
        final int errno = LibC.posix_fadvise(fd, offset, length, advice);
        if (0 != errno)
        {
            throw new ErrnoException("posix_fadvise", "fd " + fd + ", offset " + offset + ", length " + length +
                ", advice " + advice, errno);
        }
    }

    /**
     * Advise the kernel about a range of this process's memory.
     *
     * @param address page-aligned start address.
     * @param length  length in bytes.
     * @param advice  one of the {@code MADV_*} constants.
     * @throws ErrnoException EINVAL for unaligned address or unsupported advice (e.g. MADV_HUGEPAGE without THP),
     *                        ENOMEM for an unmapped range.
     */
    public static void madvise(final long address, final long length, final int advice) throws ErrnoException
    {
        if (0 != LibC.madvise(address, length, advice))
        {
            throw new ErrnoException("madvise", hex(address) + ", length " + length + ", advice " + advice,
                Native.getLastError());
        }
    }

    /**
     * Map a file range {@code MAP_SHARED}, with no 2 GiB limit.
     *
     * @param fd       descriptor opened for reading (and writing if {@code writable}).
     * @param length   length of the mapping in bytes.
     * @param writable map read-write instead of read-only.
     * @param offset   page-aligned file offset.
     * @return address of the mapping, to release with {@link #munmap(long, long)}.
     * @throws ErrnoException EACCES for a descriptor opened without the needed access, EINVAL, ENOMEM, ENODEV.
     */
    public static long mmap(final int fd, final long length, final boolean writable, final long offset)
        throws ErrnoException
    {
        final int prot = writable ? PROT_READ | PROT_WRITE : PROT_READ;
        final long address = LibC.mmap(0L, length, prot, MAP_SHARED, fd, offset);
        if (MAP_FAILED == address)
        {
            throw new ErrnoException("mmap", "fd " + fd + ", length " + length + ", offset " + offset +
                (writable ? ", read-write" : ", read-only"), Native.getLastError());
        }
        return address;
    }

    /**
     * Unmap a range mapped by {@link #mmap(int, long, boolean, long)}.
     *
     * @param address start of the mapping.
     * @param length  length of the mapping.
     * @throws ErrnoException EINVAL for an unaligned address.
     */
    public static void munmap(final long address, final long length) throws ErrnoException
    {
        if (0 != LibC.munmap(address, length))
        {
            throw new ErrnoException("munmap", hex(address) + ", length " + length, Native.getLastError());
        }
    }

    /**
     * Plain open(2) of an absolute path; {@code O_CLOEXEC} is added and {@code O_CREAT} creates with mode 0600.
     *
     * @param absolutePath path starting with '/'.
     * @param flags        open flags.
     * @return the new file descriptor.
     * @throws ErrnoException e.g. ENOENT, EACCES, EINVAL for O_DIRECT on a filesystem without it.
     */
    public static int openFile(final String absolutePath, final int flags) throws ErrnoException
    {
        return openFile(absolutePath, flags, CREATE_MODE);
    }

    /**
     * Plain open(2) of an absolute path with an explicit creation mode; {@code O_CLOEXEC} is added.
     *
     * @param absolutePath path starting with '/'.
     * @param flags        open flags.
     * @param mode         permission bits used when {@link #O_CREAT} creates the file (before umask).
     * @return the new file descriptor.
     * @throws ErrnoException e.g. ENOENT, EACCES, EEXIST.
     */
    public static int openFile(final String absolutePath, final int flags, final int mode) throws ErrnoException
    {
        if (!absolutePath.startsWith("/"))
        {
            throw new IllegalArgumentException("not an absolute path: " + absolutePath);
        }
        if (absolutePath.indexOf('\0') >= 0)
        {
            throw new ErrnoException("open", absolutePath, EINVAL);
        }

        final int fd = openat(AT_FDCWD, cString(absolutePath), flags | O_CLOEXEC, mode);
        if (fd < 0)
        {
            throw new ErrnoException("open", absolutePath, -fd);
        }
        return fd;
    }

    /**
     * Lock a range of memory in RAM so it is never swapped out.
     *
     * @param address page-aligned start.
     * @param length  length in bytes.
     * @throws ErrnoException ENOMEM or EPERM when over {@code RLIMIT_MEMLOCK}, EAGAIN.
     */
    public static void mlock(final long address, final long length) throws ErrnoException
    {
        if (0 != LibC.mlock(address, length))
        {
            throw new ErrnoException("mlock", hex(address) + ", length " + length, Native.getLastError());
        }
    }

    /**
     * Undo {@link #mlock(long, long)}.
     *
     * @param address page-aligned start.
     * @param length  length in bytes.
     * @throws ErrnoException ENOMEM for an unmapped range.
     */
    public static void munlock(final long address, final long length) throws ErrnoException
    {
        if (0 != LibC.munlock(address, length))
        {
            throw new ErrnoException("munlock", hex(address) + ", length " + length, Native.getLastError());
        }
    }

    /**
     * Allocate, zero or punch a hole in a file range; retried on EINTR.
     *
     * @param fd     descriptor opened for writing.
     * @param mode   0 to allocate (and extend), or {@code FALLOC_FL_*} flags.
     * @param offset start of the range.
     * @param length length of the range.
     * @throws ErrnoException EOPNOTSUPP where the filesystem lacks the mode, ENOSPC, EBADF.
     */
    public static void fallocate(final int fd, final int mode, final long offset, final long length)
        throws ErrnoException
    {
        while (0 != LibC.fallocate(fd, mode, offset, length))
        {
            final int errno = Native.getLastError();
            if (EINTR != errno)
            {
                throw new ErrnoException("fallocate", "fd " + fd + ", mode " + mode + ", offset " + offset +
                    ", length " + length, errno);
            }
        }
    }

    /**
     * Set a file's length, e.g. of a {@link #memfdCreate(String, int)} file; retried on EINTR.
     *
     * @param fd     descriptor opened for writing.
     * @param length new length; growing makes a sparse tail.
     * @throws ErrnoException EINVAL, EPERM for a sealed file, EFBIG.
     */
    public static void ftruncate(final int fd, final long length) throws ErrnoException
    {
        while (0 != LibC.ftruncate(fd, length))
        {
            final int errno = Native.getLastError();
            if (EINTR != errno)
            {
                throw new ErrnoException("ftruncate", "fd " + fd + ", length " + length, errno);
            }
        }
    }

    /**
     * Create an anonymous memory-backed file; {@link #MFD_CLOEXEC} is always added.
     *
     * @param name  name shown in /proc/self/fd as "memfd:name" (at most 249 bytes); not a path.
     * @param flags {@code MFD_*} flags.
     * @return the new file descriptor, of length 0.
     * @throws ErrnoException ENOSYS before Linux 3.17, EINVAL for a bad name or flags.
     */
    public static int memfdCreate(final String name, final int flags) throws ErrnoException
    {
        if (name.indexOf('\0') >= 0)
        {
            throw new ErrnoException("memfd_create", name, EINVAL);
        }
        final int fd = LibC.memfd_create(cString(name), flags | MFD_CLOEXEC);
        if (fd < 0)
        {
            throw new ErrnoException("memfd_create", name, Native.getLastError());
        }
        return fd;
    }

    /** fcntl command: take or drop a file lease. */
    static final int F_SETLEASE = 1024;
    /** Lease type: a read lease, broken when anyone opens the file for writing or truncates it. */
    static final int F_RDLCK = 0;
    /** Lease type: no lease. */
    static final int F_UNLCK = 2;
    /** SIGIO, which the kernel sends a lease holder when its lease is being broken. */
    public static final int SIGIO = 29;
    private static final long SIG_IGN = 1;

    /**
     * Take a read lease on a file opened read-only: while it is held, nobody has the file open for writing, and an
     * {@code open} for writing or a {@code truncate} blocks until the lease is dropped (or {@code lease-break-time}
     * passes). The broker holds one across a window fill, so no write can land in the middle of the copy.
     * <p>
     * Needs the file to be owned by this process's fs uid, or CAP_LEASE. The kernel signals a broken lease with
     * SIGIO, whose default action kills the process: call {@link #ignoreSignal(int)} for SIGIO first.
     *
     * @param fd descriptor opened O_RDONLY.
     * @return true when the lease is held; false when the file is open for writing somewhere (EAGAIN).
     * @throws ErrnoException EACCES or EPERM without ownership or CAP_LEASE, EINVAL where leases are unsupported.
     */
    public static boolean tryReadLease(final int fd) throws ErrnoException
    {
        if (0 == LibC.fcntl(fd, F_SETLEASE, F_RDLCK))
        {
            return true;
        }
        final int errno = Native.getLastError();
        if (EAGAIN == errno)
        {
            return false;
        }
        throw new ErrnoException("fcntl(F_SETLEASE, F_RDLCK)", "fd " + fd, errno);
    }

    /** Lease type: a write lease, broken when anyone else opens the file at all. */
    static final int F_WRLCK = 1;

    /**
     * Take a write lease, as a host program that wants to know of every other open does (Samba, for one): any other
     * open of the file then waits for the lease to break, or fails at once with EAGAIN when it asks for
     * {@link #O_NONBLOCK}. Kept for tests that play such a host program; the broker never takes one.
     *
     * @param fd descriptor opened for writing, the only open one of the file.
     * @return true when the lease is held; false when the file is open elsewhere (EAGAIN or EBUSY).
     * @throws ErrnoException EACCES or EPERM without ownership or CAP_LEASE, EINVAL where leases are unsupported.
     */
    public static boolean tryWriteLease(final int fd) throws ErrnoException
    {
        if (0 == LibC.fcntl(fd, F_SETLEASE, F_WRLCK))
        {
            return true;
        }
        final int errno = Native.getLastError();
        if (EAGAIN == errno || EBUSY == errno)
        {
            return false;
        }
        throw new ErrnoException("fcntl(F_SETLEASE, F_WRLCK)", "fd " + fd, errno);
    }

    /**
     * Drop a lease taken with {@link #tryReadLease(int)}; a writer blocked on it proceeds.
     *
     * @param fd descriptor holding the lease.
     * @throws ErrnoException EBADF or EINVAL.
     */
    public static void releaseLease(final int fd) throws ErrnoException
    {
        if (0 != LibC.fcntl(fd, F_SETLEASE, F_UNLCK))
        {
            throw new ErrnoException("fcntl(F_SETLEASE, F_UNLCK)", "fd " + fd, Native.getLastError());
        }
    }

    /**
     * Ignore a signal process-wide, e.g. SIGIO so a lease break does not kill the JVM.
     *
     * @param signal signal number.
     * @throws ErrnoException EINVAL for a signal that cannot be ignored.
     */
    public static void ignoreSignal(final int signal) throws ErrnoException
    {
        if (-1 == LibC.signal(signal, SIG_IGN))
        {
            throw new ErrnoException("signal", Integer.toString(signal), Native.getLastError());
        }
    }

    /** mount(2) flag: read-only. */
    public static final long MS_RDONLY = 1;
    /** mount(2) flag: ignore set-user-id and set-group-id bits. */
    public static final long MS_NOSUID = 2;
    /** mount(2) flag: no device files. */
    public static final long MS_NODEV = 4;
    /** umount2(2) flag: detach now, clean up when the last user is gone. */
    public static final int MNT_DETACH = 2;

    /**
     * mount(2).
     *
     * @param source     what is mounted, shown in /proc/mounts.
     * @param target     absolute mount point.
     * @param type       filesystem type, e.g. {@code fuse.pcb}.
     * @param flags      {@code MS_*} flags.
     * @param options    the filesystem's option string.
     * @throws ErrnoException e.g. EPERM when not root, ENOENT for a missing mount point, ENODEV for an unknown type.
     */
    public static void mount(final String source, final String target, final String type, final long flags,
        final String options) throws ErrnoException
    {
        if (0 != LibC.mount(cString(source), cString(target), cString(type), flags, cString(options)))
        {
            throw new ErrnoException("mount", target, Native.getLastError());
        }
    }

    /**
     * umount2(2).
     *
     * @param target mount point.
     * @param flags  0 or {@link #MNT_DETACH}.
     * @throws ErrnoException e.g. EBUSY while in use, EINVAL when not a mount point, EPERM when not root.
     */
    public static void umount2(final String target, final int flags) throws ErrnoException
    {
        if (0 != LibC.umount2(cString(target), flags))
        {
            throw new ErrnoException("umount2", target, Native.getLastError());
        }
    }

    /**
     * One read(2) into native memory, retried on EINTR; a short read is returned as it is (a device gives one
     * message per read).
     *
     * @param fd      a readable descriptor.
     * @param address native address of at least {@code length} writable bytes.
     * @param length  most bytes wanted.
     * @return bytes read; 0 at end of file.
     * @throws ErrnoException e.g. ENODEV from a FUSE device whose filesystem was unmounted.
     */
    public static long read(final int fd, final long address, final long length) throws ErrnoException
    {
        while (true)
        {
            final long n = LibC.read(fd, address, length);
            if (n >= 0)
            {
                return n;
            }
            final int errno = Native.getLastError();
            if (EINTR != errno)
            {
                throw new ErrnoException("read", "fd " + fd, errno);
            }
        }
    }

    /**
     * One writev(2), retried on EINTR. Allocates nothing on success.
     *
     * @param fd    a writable descriptor.
     * @param iov   pairs of (address, length), {@code count} of them.
     * @param count number of pairs used.
     * @return bytes written, or minus the errno: callers on a hot path turn errors into answers, not exceptions.
     */
    public static long writev(final int fd, final long[] iov, final int count)
    {
        while (true)
        {
            final long n = LibC.writev(fd, iov, count);
            if (n >= 0)
            {
                return n;
            }
            final int errno = Native.getLastError();
            if (EINTR != errno)
            {
                return -errno;
            }
        }
    }

    /**
     * Whether the kernel can pin the pages of a range of this process, the way it does to copy a FUSE reply or an
     * O_DIRECT buffer: {@code process_vm_readv} of the range from this process pins it. A PCI BAR mapping
     * ({@code VM_PFNMAP}) cannot be pinned.
     *
     * @param address start of the range.
     * @param length  bytes to try, at most 4096.
     * @return true when the range could be pinned and read.
     */
    public static boolean canPin(final long address, final int length)
    {
        final Memory local = new Memory(Math.max(1, length));
        final long[] localIov = {Pointer.nativeValue(local), length};
        final long[] remoteIov = {address, length};
        final long n = LibC.process_vm_readv(getpid(), localIov, 1, remoteIov, 1, 0);
        local.close();
        return n == length;
    }

    private static final int AF_UNIX = 1;
    private static final int SOCK_STREAM = 1;
    private static final int SOCK_CLOEXEC = O_CLOEXEC;
    private static final int F_DUPFD_CLOEXEC = 1030;
    private static final int WNOHANG = 1;
    private static final int MSG_NOSIGNAL = 0x4000;
    private static final int EXIT_BY_SIGNAL = 128;

    /**
     * socketpair(2) of two connected Unix stream sockets, both close-on-exec.
     *
     * @return the two descriptors; the caller closes both.
     * @throws ErrnoException e.g. EMFILE.
     */
    public static int[] socketPair() throws ErrnoException
    {
        final int[] fds = new int[2];
        if (0 != LibC.socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds))
        {
            throw new ErrnoException("socketpair", "AF_UNIX", Native.getLastError());
        }
        return fds;
    }

    /**
     * Pass a descriptor over a Unix socket: one data byte with one {@code SCM_RIGHTS} control message, as
     * fusermount3 sends the {@code /dev/fuse} descriptor. The receiver gets its own descriptor of the same open file;
     * the caller still owns {@code fd}.
     *
     * @param socket a connected Unix socket.
     * @param fd     the descriptor to pass.
     * @throws ErrnoException e.g. EPIPE when the peer is gone, EBADF.
     */
    public static void sendFd(final int socket, final int fd) throws ErrnoException
    {
        try (ScmRightsMessage message = new ScmRightsMessage())
        {
            message.putFd(fd);
            while (LibC.sendmsg(socket, message.address(), MSG_NOSIGNAL) < 0)
            {
                final int errno = Native.getLastError();
                if (EINTR != errno)
                {
                    throw new ErrnoException("sendmsg", "fd " + socket, errno);
                }
            }
        }
    }

    /**
     * Receive one descriptor sent as {@link #sendFd(int, int)} sends it (libfuse's {@code receive_fd}), waiting for
     * it; the new descriptor is close-on-exec ({@code MSG_CMSG_CLOEXEC}).
     *
     * @param socket a connected Unix socket.
     * @return the received descriptor, which the caller owns, or -1 when the peer closed its end without sending
     *         one (end of file: fusermount3 failed, and said why on its standard error).
     * @throws ErrnoException from recvmsg, or EBADMSG when a message arrived without a descriptor, or with more than
     *                        one (the extra ones are closed by the kernel).
     */
    public static int receiveFd(final int socket) throws ErrnoException
    {
        try (ScmRightsMessage message = new ScmRightsMessage())
        {
            long n;
            while ((n = LibC.recvmsg(socket, message.address(), ScmRightsMessage.MSG_CMSG_CLOEXEC)) < 0)
            {
                final int errno = Native.getLastError();
                if (EINTR != errno)
                {
                    throw new ErrnoException("recvmsg", "fd " + socket, errno);
                }
            }
            if (0 == n)
            {
                return -1;
            }
            final int fd = message.receivedFd();
            if ((message.flags() & ScmRightsMessage.MSG_CTRUNC) != 0)
            {
                if (fd >= 0)
                {
                    closeQuietly(fd);
                }
                throw new ErrnoException("recvmsg", "fd " + socket + ": more than one descriptor", EBADMSG);
            }
            if (fd < 0)
            {
                throw new ErrnoException("recvmsg", "fd " + socket + ": no descriptor in the message", EBADMSG);
            }
            return fd;
        }
    }

    /**
     * Start a program with exactly the descriptors given: {@code posix_spawn} (a vfork-style clone, safe in a JVM,
     * unlike fork) where {@code childFds[i]} becomes descriptor {@code i} of the child and every descriptor from
     * {@code childFds.length} up is closed. {@link ProcessBuilder} cannot do this: it passes only 0, 1 and 2. The
     * child is not reaped by the JVM: {@link #waitpid(int, boolean)} it. Needs glibc 2.34
     * ({@code posix_spawn_file_actions_addclosefrom_np}).
     *
     * @param path     absolute path of the program (no PATH search).
     * @param argv     its arguments, {@code argv[0]} first.
     * @param env      its whole environment, {@code NAME=value} each.
     * @param childFds descriptors of this process, one for each descriptor the child gets, from 0 up.
     * @return the child's pid.
     * @throws ErrnoException from posix_spawn, e.g. ENOENT or EACCES for the program, EBADF for a descriptor.
     */
    public static int spawn(final String path, final String[] argv, final String[] env, final int[] childFds)
        throws ErrnoException
    {
        // The sources are first copied above every target, so no dup2 below overwrites a source a later one reads.
        final int[] sources = new int[childFds.length];
        Arrays.fill(sources, -1);
        try (Memory actions = new Memory(LibSpawn.FILE_ACTIONS_SIZE);
            StringArray argvArray = new StringArray(argv, StandardCharsets.UTF_8.name());
            StringArray envArray = new StringArray(env, StandardCharsets.UTF_8.name()))
        {
            for (int i = 0; i < childFds.length; i++)
            {
                sources[i] = LibC.fcntl(childFds[i], F_DUPFD_CLOEXEC, childFds.length);
                if (sources[i] < 0)
                {
                    throw new ErrnoException("fcntl(F_DUPFD_CLOEXEC)", "fd " + childFds[i], Native.getLastError());
                }
            }
            final long fileActions = Pointer.nativeValue(actions);
            check("posix_spawn_file_actions_init", path, LibSpawn.posix_spawn_file_actions_init(fileActions));
            try
            {
                for (int i = 0; i < childFds.length; i++)
                {
                    check("posix_spawn_file_actions_adddup2", path,
                        LibSpawn.posix_spawn_file_actions_adddup2(fileActions, sources[i], i));
                }
                check("posix_spawn_file_actions_addclosefrom_np", path,
                    LibSpawn.posix_spawn_file_actions_addclosefrom_np(fileActions, childFds.length));
                final int[] pid = new int[1];
                check("posix_spawn", path, LibSpawn.posix_spawn(pid, cString(path), fileActions, 0L,
                    Pointer.nativeValue(argvArray), Pointer.nativeValue(envArray)));
                return pid[0];
            }
            finally
            {
                LibSpawn.posix_spawn_file_actions_destroy(fileActions);
            }
        }
        finally
        {
            for (final int source : sources)
            {
                if (source >= 0)
                {
                    closeQuietly(source);
                }
            }
        }
    }

    /**
     * waitpid(2) for a child started with {@link #spawn}, retried on EINTR.
     *
     * @param pid  the child.
     * @param wait block until it exits; else answer at once.
     * @return its exit status (0 to 255), 128 + the signal that killed it, or -1 when {@code wait} is false and it
     *         is still running.
     * @throws ErrnoException ECHILD when it is not a child of this process (or was reaped already).
     */
    public static int waitpid(final int pid, final boolean wait) throws ErrnoException
    {
        final int[] status = new int[1];
        while (true)
        {
            final int result = LibC.waitpid(pid, status, wait ? 0 : WNOHANG);
            if (result == pid)
            {
                final int signal = status[0] & 0x7f;
                return 0 == signal ? (status[0] >> 8) & 0xff : EXIT_BY_SIGNAL + signal;
            }
            if (0 == result)
            {
                return -1;
            }
            final int errno = Native.getLastError();
            if (EINTR != errno)
            {
                throw new ErrnoException("waitpid", Integer.toString(pid), errno);
            }
        }
    }

    private static void check(final String call, final String path, final int error) throws ErrnoException
    {
        if (0 != error)
        {
            throw new ErrnoException(call, path, error);
        }
    }

    /**
     * readlinkat(2) of one name in a directory: the symlink's target as stored, never resolved.
     *
     * @param dirFd directory descriptor (may be {@link #O_PATH}).
     * @param name  a name in it, no slash.
     * @return the target.
     * @throws ErrnoException EINVAL when the name is not a symlink, ENOENT when it does not exist.
     */
    public static String readlinkat(final int dirFd, final String name) throws ErrnoException
    {
        final byte[] target = new byte[4096];
        final long n = LibC.readlinkat(dirFd, cString(name), target, target.length);
        if (n < 0)
        {
            throw new ErrnoException("readlinkat", name, Native.getLastError());
        }
        return new String(target, 0, (int)n, StandardCharsets.UTF_8);
    }

    /**
     * Real user id of this process.
     *
     * @return the uid; 0 for root.
     */
    public static int getuid()
    {
        return LibC.getuid();
    }

    /**
     * Give a signal its default disposition again, e.g. SIGHUP inherited as ignored from {@code nohup}, before the JVM
     * is asked to handle it (it does not install a handler for a shutdown signal that is ignored).
     *
     * @param signal signal number.
     * @throws ErrnoException EINVAL for an invalid signal.
     */
    public static void restoreDefaultSignal(final int signal) throws ErrnoException
    {
        if (-1 == LibC.signal(signal, 0))
        {
            throw new ErrnoException("signal", Integer.toString(signal), Native.getLastError());
        }
    }

    /** SIGHUP: asks a {@code pcb mount} to advance its tree version. */
    public static final int SIGHUP = 1;

    /**
     * kill(2): send a signal to a process.
     *
     * @param pid    process id.
     * @param signal signal number.
     * @throws ErrnoException ESRCH when there is no such process, EPERM when it is not ours to signal.
     */
    public static void kill(final int pid, final int signal) throws ErrnoException
    {
        if (0 != LibC.kill(pid, signal))
        {
            throw new ErrnoException("kill", Integer.toString(pid), Native.getLastError());
        }
    }

    /**
     * Id of this process.
     *
     * @return the pid.
     */
    public static int getpid()
    {
        return LibC.getpid();
    }

    /**
     * Effective user id of this process: the owner of the files it creates, and who it trusts with its run directory.
     *
     * @return the euid.
     */
    public static int geteuid()
    {
        return LibC.geteuid();
    }

    /**
     * Whether a process exists: {@code kill(pid, 0)} succeeds or fails with anything but ESRCH. An exited but
     * unreaped child (a zombie) still exists.
     *
     * @param pid process id, greater than 0.
     * @return false only when no such process exists.
     */
    public static boolean processExists(final int pid)
    {
        if (pid <= 0)
        {
            throw new IllegalArgumentException("pid must be > 0: " + pid);
        }
        return 0 == LibC.kill(pid, 0) || ESRCH != Native.getLastError();
    }

    /**
     * Whether reading with O_DIRECT in {@code directory} bypasses a page cache: creates a temporary file there with
     * O_DIRECT, writes and reads one aligned 4096-byte block, and removes it. False where the open or the I/O is
     * refused, and on tmpfs, ramfs and hugetlbfs: their files are page cache (Linux 6.6+ accepts O_DIRECT on tmpfs
     * but it changes nothing).
     *
     * @param directory absolute path of a writable directory.
     * @return true when O_DIRECT works there and avoids the page cache.
     */
    public static boolean supportsODirect(final String directory)
    {
        final String probe = directory + "/.pcb-odirect-probe-" + getpid() + '-' + System.nanoTime();
        final byte[] path = cString(probe);
        final int fd = openat(AT_FDCWD, path, O_RDWR | O_CREAT | O_EXCL | O_DIRECT | O_CLOEXEC, CREATE_MODE);
        if (fd < 0)
        {
            return false;
        }

        try (Memory memory = new Memory(2L * DIRECT_IO_ALIGNMENT))
        {
            LibC.unlinkat(AT_FDCWD, path, 0);
            if (isMemoryFilesystem(fd))
            {
                return false;
            }
            final Pointer block = memory.align(DIRECT_IO_ALIGNMENT);
            block.setMemory(0, DIRECT_IO_ALIGNMENT, (byte)0x5A);
            final long address = Pointer.nativeValue(block);
            return DIRECT_IO_ALIGNMENT == LibC.pwrite(fd, address, DIRECT_IO_ALIGNMENT, 0) &&
                DIRECT_IO_ALIGNMENT == LibC.pread(fd, address, DIRECT_IO_ALIGNMENT, 0);
        }
        finally
        {
            closeQuietly(fd);
        }
    }

    /**
     * Probe whether openat2 is usable at all, to tell a missing or filtered syscall from a real ENOSYS/EPERM.
     */
    static boolean openat2Works()
    {
        final int fd = openat2(AT_FDCWD, ROOT_PATH, O_PATH | O_CLOEXEC, 0);
        if (fd >= 0)
        {
            closeQuietly(fd);
            return true;
        }
        return -ENOSYS != fd && -EPERM != fd;
    }

    /**
     * Whether {@link #openBeneath(int, String, int)} uses openat2, false once it has fallen back to the walk.
     */
    static boolean usesOpenat2()
    {
        return !openat2Missing && openat2Works();
    }

    static void closeQuietly(final int fd)
    {
        LibC.close(fd);
    }

    static int mincore(final long address, final long length, final byte[] vector)
    {
        return 0 == LibC.mincore(address, length, vector) ? 0 : Native.getLastError();
    }

    /**
     * Check a path for openBeneath-style confinement before any system call.
     */
    static void checkBeneath(final String call, final String relativePath) throws ErrnoException
    {
        final int errno = beneathErrno(relativePath);
        if (0 != errno)
        {
            throw new ErrnoException(call, relativePath, errno);
        }
    }

    static int beneathErrno(final String relativePath)
    {
        if (relativePath.isEmpty())
        {
            return ENOENT;
        }
        if ('/' == relativePath.charAt(0))
        {
            return EXDEV;
        }

        int errno = relativePath.indexOf('\0') >= 0 ? EINVAL : 0;
        int start = 0;
        while (true)
        {
            final int slash = relativePath.indexOf('/', start);
            final int end = slash < 0 ? relativePath.length() : slash;
            if (end == start)
            {
                errno = EINVAL;
            }
            else if (end - start == 2 && '.' == relativePath.charAt(start) && '.' == relativePath.charAt(start + 1))
            {
                return EXDEV;  // an escape attempt outranks a malformed path
            }
            if (slash < 0)
            {
                return errno;
            }
            start = slash + 1;
        }
    }

    private static int openat2(final int dirFd, final byte[] path, final int flags, final long resolve)
    {
        final long[] how = {Integer.toUnsignedLong(flags), createMode(flags), resolve};
        int retries = 0;
        while (true)
        {
            final long fd = LibC.syscall(SYS_OPENAT2, dirFd, path, how, OPEN_HOW_SIZE);
            if (fd >= 0)
            {
                return (int)fd;
            }
            final int errno = Native.getLastError();
            if (EINTR != errno && (EAGAIN != errno || ++retries > OPENAT2_EAGAIN_RETRIES))
            {
                return -errno;
            }
        }
    }

    private static int openat(final int dirFd, final byte[] path, final int flags, final int mode)
    {
        while (true)
        {
            final int fd = LibC.openat(dirFd, path, flags, mode);
            if (fd >= 0)
            {
                return fd;
            }
            final int errno = Native.getLastError();
            if (EINTR != errno)
            {
                return -errno;
            }
        }
    }

    private static int createMode(final int flags)
    {
        // openat2 rejects a non-zero mode without O_CREAT.
        return (flags & O_CREAT) != 0 ? CREATE_MODE : 0;
    }

    private static void statxNoFollow(final int dirFd, final String name, final String relativePath,
        final StatxResult out) throws ErrnoException
    {
        if (0 != LibC.statx(dirFd, cString(name), AT_SYMLINK_NOFOLLOW, STATX_BASIC_STATS, out.buffer))
        {
            throw new ErrnoException("statx", relativePath, Native.getLastError());
        }
        out.decode();
    }

    private static ErrnoException walkError(
        final int dirFd, final byte[] name, final String relativePath, final int errno)
    {
        // O_NOFOLLOW | O_DIRECTORY answers ENOTDIR for a symlink; report it as the symlink it is.
        final boolean symlink = ENOTDIR == errno && isSymlink(dirFd, name, AT_SYMLINK_NOFOLLOW);
        return new ErrnoException("openat", relativePath, symlink ? ELOOP : errno);
    }

    private static boolean isSymlink(final int dirFd, final byte[] path, final int flags)
    {
        final StatxResult stat = new StatxResult();
        if (0 != LibC.statx(dirFd, path, flags | AT_SYMLINK_NOFOLLOW, STATX_BASIC_STATS, stat.buffer))
        {
            return false;
        }
        stat.decode();
        return stat.isSymlink();
    }

    private static boolean isMemoryFilesystem(final int fd)
    {
        final byte[] statfs = new byte[STATFS_SIZE];
        if (0 != LibC.fstatfs(fd, statfs))
        {
            return false;
        }
        // f_type is the first field, a long on both supported architectures; magics are 32-bit.
        final long type = ByteBuffer.wrap(statfs).order(ByteOrder.nativeOrder()).getLong(0) & 0xFFFF_FFFFL;
        return TMPFS_MAGIC == type || RAMFS_MAGIC == type || HUGETLBFS_MAGIC == type;
    }

    private static byte[] cString(final String s)
    {
        final byte[] utf8 = s.getBytes(StandardCharsets.UTF_8);
        return Arrays.copyOf(utf8, utf8.length + 1);
    }

    private static String hex(final long address)
    {
        return "0x" + Long.toHexString(address);
    }
}
