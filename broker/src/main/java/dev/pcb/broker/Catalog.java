package dev.pcb.broker;

import dev.pcb.nativeshim.Errno;
import dev.pcb.nativeshim.ErrnoException;
import dev.pcb.nativeshim.Linux;
import dev.pcb.nativeshim.StatxResult;
import dev.pcb.protocol.ErrorCode;
import dev.pcb.protocol.FileAttributes;
import dev.pcb.protocol.FileType;
import org.agrona.concurrent.ManyToOneConcurrentArrayQueue;

import java.util.HashMap;
import java.util.Map;
import java.util.function.LongSupplier;

/**
 * The file versions of one share the broker knows: opened now, or cached because their windows still hold bytes.
 * <p>
 * A version is found again by {@link FileAttributes#sameVersionAs}, the one version rule (identity and content
 * version; not ctime: see docs/coherence.md). Memory is bounded by open handles plus windows, never by the size of the
 * tree or by how many spellings guests use: a path is kept in one canonical spelling ({@link #canonicalPath(String)}),
 * and only under the spelling that made its version, so there is at most one path entry per version.
 */
final class Catalog
{
    private static final int OPEN_FLAGS = Linux.O_RDONLY | Linux.O_NONBLOCK | Linux.O_NOCTTY | Linux.O_CLOEXEC;
    private static final int S_IFMT = 0xF000;
    private static final int RESOLVE_ATTEMPTS = 8;
    private static final int UNLINKED_CAPACITY = 1024;

    private final Share share;
    private final LongSupplier versionIds;
    private final Map<VersionKey, FileVersion> byKey = new HashMap<>();
    private final Map<String, FileVersion> byPath = new HashMap<>();
    private final ManyToOneConcurrentArrayQueue<FileVersion> unlinked =
        new ManyToOneConcurrentArrayQueue<>(UNLINKED_CAPACITY);
    private final FileAttributes attributes = new FileAttributes();

    Catalog(final Share share, final LongSupplier versionIds)
    {
        this.share = share;
        this.versionIds = versionIds;
    }

    /**
     * The blocking half of OPEN: open a path beneath the session's tree version ({@code rootFd}) and check that it
     * is a regular file. It reads no
     * catalog state, so it runs off the conductor, on a metadata worker.
     * <p>
     * It opens without waiting and without side effects on anything else: the type is checked on an {@code O_PATH}
     * descriptor first (which opens no FIFO, device or socket), then the file is opened {@code O_NONBLOCK | O_NOCTTY}
     * and checked again, in case the path was swapped in between. A file under a conflicting lease fails at once
     * instead of stalling until the lease breaks.
     *
     * @param stat filled with the file's attributes.
     * @return the open descriptor; {@link #register} takes it over.
     */
    static int resolve(final Share share, final int rootFd, final String path, final StatxResult stat)
        throws RequestException
    {
        final String shown = share.name() + "/" + path;
        PathCheck.validate(path, shown);
        final String canonical = canonicalPath(path);
        // A rename over the path between the two looks is an ordinary host publish: look again, on this worker,
        // rather than hand the reader an error for a file that is there.
        for (int attempt = 1; ; attempt++)
        {
            final int fd = resolveOnce(rootFd, canonical, shown, stat);
            if (fd >= 0 || attempt == RESOLVE_ATTEMPTS)
            {
                if (fd < 0)
                {
                    throw new RequestException(ErrorCode.IO_ERROR,
                        shown + ": replaced on the host " + RESOLVE_ATTEMPTS + " times while opening; try again");
                }
                return fd;
            }
        }
    }

    /**
     * @return the descriptor, or -1 when the path named another file by the time it was opened.
     */
    private static int resolveOnce(
        final int rootFd, final String canonical, final String shown, final StatxResult stat)
        throws RequestException
    {
        final long device;
        final long inode;
        try
        {
            Linux.statx(rootFd, canonical, true, stat);
            requireRegularFile(stat, shown);
            device = stat.device();
            inode = stat.inode();
        }
        catch (final ErrnoException ex)
        {
            throw PathCheck.toRequestException(shown, ex);
        }

        final int fd;
        try
        {
            fd = Linux.openBeneath(rootFd, canonical, OPEN_FLAGS);
        }
        catch (final ErrnoException ex)
        {
            if (Errno.EAGAIN == ex.errno())
            {
                throw new RequestException(ErrorCode.IO_ERROR,
                    shown + ": busy on the host (a lease held by another process); try again");
            }
            throw PathCheck.toRequestException(shown, ex);
        }

        try
        {
            Linux.fstat(fd, stat);
            if (stat.device() != device || stat.inode() != inode)
            {
                Linux.close(fd);
                return -1;
            }
            requireRegularFile(stat, shown);
            return fd;
        }
        catch (final ErrnoException ex)
        {
            Linux.close(fd);
            throw new RequestException(ErrorCode.IO_ERROR, shown + ": " + ex.getMessage());
        }
        catch (final RequestException ex)
        {
            Linux.close(fd);
            throw ex;
        }
    }

    private static void requireRegularFile(final StatxResult stat, final String shown) throws RequestException
    {
        if (stat.isDirectory())
        {
            throw new RequestException(ErrorCode.IS_A_DIRECTORY, shown + ": is a directory");
        }
        if (!stat.isRegularFile())
        {
            throw new RequestException(ErrorCode.NOT_REGULAR_FILE,
                shown + ": not a regular file or directory (" + kind(stat.mode()) + ")");
        }
    }

    /**
     * The conductor's half of OPEN: the version of a file {@link #resolve} opened, found again by the version rule
     * or new.
     *
     * @param fd     from {@link #resolve}; the catalog owns it from now on.
     * @param opened as {@link #resolve} filled it.
     * @return the version, with its descriptor open; the caller adds the handle.
     */
    FileVersion register(final String path, final int fd, final StatxResult opened)
    {
        final String canonical = canonicalPath(path);
        toAttributes(opened, attributes);
        FileVersion version = byKey.get(new VersionKey(attributes));
        if (null != version && !version.isStale())
        {
            version.reopen(fd);
            // Same bytes; mode, links and ctime may differ (chmod, link): answer with what the host has now.
            version.attributes().copyFrom(attributes);
        }
        else
        {
            version = new FileVersion(versionIds.getAsLong(), share, canonical, fd, attributes);
            // Keyed by the version's own attributes: the fields the rule compares never change for a version.
            byKey.put(new VersionKey(version.attributes()), version);
        }

        final FileVersion previous = byPath.get(canonical);
        if (null != previous && previous != version)
        {
            byPath.remove(canonical);
            previous.markSuperseded();
            share.reclaim(previous);
        }
        // Another name of the same file (a hard link, a symlink inside the share) finds the version by key; recording
        // that name too would keep an entry per name for as long as the version is cached.
        if (canonical.equals(version.path()))
        {
            byPath.put(canonical, version);
        }
        return version;
    }

    /**
     * What a file that is neither regular nor a directory is, in the words of {@code ls} and {@code stat}.
     *
     * @param mode st_mode bits.
     * @return for example "fifo" or "character device".
     */
    static String kind(final int mode)
    {
        switch (mode & S_IFMT)
        {
            case 0x1000: return "fifo";
            case 0x2000: return "character device";
            case 0x6000: return "block device";
            case 0xA000: return "symlink";
            case 0xC000: return "socket";
            default: return "type " + Integer.toOctalString(mode & S_IFMT);
        }
    }

    /**
     * The one spelling of a path the catalog keeps: "." and empty components dropped, so {@code ./a//b/.} is
     * {@code a/b}; the share root itself is ".". Validated paths only (no "..", not absolute).
     *
     * @param path a guest's path relative to the share root.
     * @return the canonical spelling, the same string when it already is.
     */
    static String canonicalPath(final String path)
    {
        if (path.isEmpty() || isCanonical(path))
        {
            return path;
        }
        final StringBuilder sb = new StringBuilder(path.length());
        int start = 0;
        while (start <= path.length())
        {
            int end = path.indexOf('/', start);
            if (end < 0)
            {
                end = path.length();
            }
            final boolean dot = end - start == 1 && '.' == path.charAt(start);
            if (end > start && !dot)
            {
                if (sb.length() > 0)
                {
                    sb.append('/');
                }
                sb.append(path, start, end);
            }
            start = end + 1;
        }
        return sb.length() == 0 ? "." : sb.toString();
    }

    /**
     * Called when the last handle of a version is about to close: a deleted file can never be opened again, so its
     * windows are garbage. Looked at on the share's closer, ahead of the descriptor's close, since {@code fstat} may
     * wait on a hung filesystem; {@link #drainUnlinked} applies what it finds.
     */
    void lastHandleClosing(final FileVersion version)
    {
        if (version.hasFd())
        {
            final int fd = version.fd();
            share.closer().execute(() ->
            {
                boolean unlinkedOnHost;
                try
                {
                    final StatxResult now = new StatxResult();
                    Linux.fstat(fd, now);
                    unlinkedOnHost = 0 == now.nlink();
                }
                catch (final ErrnoException ignore)
                {
                    unlinkedOnHost = true;
                }
                if (unlinkedOnHost)
                {
                    // When full, the version stays cached until its windows are evicted: memory, never wrong bytes.
                    unlinked.offer(version);
                }
            });
        }
    }

    /**
     * Mark superseded the versions whose files the closer found deleted, and free their windows if no handle came
     * back meanwhile; conductor thread.
     *
     * @return versions marked.
     */
    int drainUnlinked()
    {
        int drained = 0;
        FileVersion version;
        while (null != (version = unlinked.poll()))
        {
            version.markSuperseded();
            share.reclaim(version);
            drained++;
        }
        return drained;
    }

    /**
     * Forget a version nothing refers to any more.
     */
    void forgetIfUnused(final FileVersion version)
    {
        if (version.isUnused())
        {
            byKey.remove(new VersionKey(version.attributes()), version);
            byPath.remove(version.path(), version);
        }
    }

    int versionCount()
    {
        return byKey.size();
    }

    /**
     * Paths by which new opens find a version to supersede; never more than {@link #versionCount()}.
     */
    int pathCount()
    {
        return byPath.size();
    }

    private static boolean isCanonical(final String path)
    {
        int start = 0;
        while (true)
        {
            final int slash = path.indexOf('/', start);
            final int end = slash < 0 ? path.length() : slash;
            if (end == start || (end - start == 1 && '.' == path.charAt(start)))
            {
                return false;
            }
            if (slash < 0)
            {
                return true;
            }
            start = slash + 1;
        }
    }

    Iterable<FileVersion> versions()
    {
        return byKey.values();
    }

    static FileAttributes toAttributes(final StatxResult stat, final FileAttributes out)
    {
        return out.set(
            FileType.fromMode(stat.mode()),
            stat.mode(),
            stat.size(),
            stat.mtimeNanos(),
            stat.ctimeNanos(),
            stat.inode(),
            stat.device(),
            stat.nlink());
    }

    /**
     * A map key equal for attributes of the same version, by {@link FileAttributes#sameVersionAs}.
     */
    private record VersionKey(FileAttributes attributes)
    {
        public boolean equals(final Object other)
        {
            return other instanceof VersionKey key && attributes.sameVersionAs(key.attributes);
        }

        public int hashCode()
        {
            return attributes.versionHashCode();
        }
    }
}
