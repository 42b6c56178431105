package dev.pcb.broker;

import dev.pcb.nativeshim.ErrnoException;
import dev.pcb.nativeshim.Linux;
import dev.pcb.nativeshim.StatxResult;
import dev.pcb.protocol.ErrorCode;
import dev.pcb.protocol.FileAttributes;
import dev.pcb.protocol.FileType;

import java.util.HashMap;
import java.util.Map;
import java.util.function.LongSupplier;

/**
 * The file versions of one share the broker knows: opened now, or cached because their windows still hold bytes.
 * <p>
 * A version is found again by {@link FileAttributes#sameVersionAs}, the one version rule (identity and content
 * version; not ctime: see docs/coherence.md). Memory is bounded by open handles plus windows, never by the size of the tree.
 */
final class Catalog
{
    private final Share share;
    private final LongSupplier versionIds;
    private final Map<VersionKey, FileVersion> byKey = new HashMap<>();
    private final Map<String, FileVersion> byPath = new HashMap<>();
    private final StatxResult stat = new StatxResult();
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
     *
     * @param stat filled with the file's attributes.
     * @return the open descriptor; {@link #register} takes it over.
     */
    static int resolve(final Share share, final int rootFd, final String path, final StatxResult stat)
        throws RequestException
    {
        final String shown = share.name() + "/" + path;
        PathCheck.validate(path, shown);
        final int fd;
        try
        {
            fd = Linux.openBeneath(rootFd, path, Linux.O_RDONLY | Linux.O_CLOEXEC);
        }
        catch (final ErrnoException ex)
        {
            throw PathCheck.toRequestException(shown, ex);
        }

        try
        {
            Linux.fstat(fd, stat);
        }
        catch (final ErrnoException ex)
        {
            Linux.close(fd);
            throw new RequestException(ErrorCode.IO_ERROR, shown + ": " + ex.getMessage());
        }
        if (stat.isDirectory())
        {
            Linux.close(fd);
            throw new RequestException(ErrorCode.IS_A_DIRECTORY, shown + ": is a directory");
        }
        if (!stat.isRegularFile())
        {
            Linux.close(fd);
            throw new RequestException(ErrorCode.NOT_REGULAR_FILE, shown + ": not a regular file");
        }
        return fd;
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
            version = new FileVersion(versionIds.getAsLong(), share, path, fd, attributes);
            // Keyed by the version's own attributes: the fields the rule compares never change for a version.
            byKey.put(new VersionKey(version.attributes()), version);
        }

        final FileVersion previous = byPath.put(path, version);
        if (null != previous && previous != version)
        {
            previous.markSuperseded();
            share.reclaim(previous);
        }
        return version;
    }

    /**
     * Called when the last handle of a version is about to close: a deleted file can never be opened again.
     */
    void lastHandleClosing(final FileVersion version)
    {
        if (version.hasFd())
        {
            try
            {
                Linux.fstat(version.fd(), stat);
                if (0 == stat.nlink())
                {
                    version.markSuperseded();
                }
            }
            catch (final ErrnoException ignore)
            {
                version.markSuperseded();
            }
        }
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
