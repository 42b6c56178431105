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
 * A version is found again by identity and content version: (device, inode, size, mtime). ctime is left out on
 * purpose: {@code rm}, {@code mv} and {@code chmod} change it without changing a byte, and a reader holding the
 * file must not see those as changes. Memory is bounded by open handles plus windows, never by the size of the tree.
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
     * Open the current version of a path, confined to the share root.
     *
     * @return the version, with its descriptor open; the caller adds the handle.
     */
    FileVersion open(final String path) throws RequestException
    {
        final String shown = share.name() + "/" + path;
        PathCheck.validate(path, shown);
        final int fd;
        try
        {
            fd = Linux.openBeneath(share.rootFd(), path, Linux.O_RDONLY | Linux.O_CLOEXEC);
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

        toAttributes(stat, attributes);
        final VersionKey key = new VersionKey(stat.device(), stat.inode(), stat.size(), stat.mtimeNanos());
        FileVersion version = byKey.get(key);
        if (null != version && !version.isStale())
        {
            version.reopen(fd);
            // Same bytes; mode, links and ctime may differ (chmod, link): answer with what the host has now.
            version.attributes().copyFrom(attributes);
        }
        else
        {
            if (null != version)
            {
                byKey.remove(key);
            }
            version = new FileVersion(versionIds.getAsLong(), share, path, fd, attributes);
            byKey.put(key, version);
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
            final FileAttributes a = version.attributes();
            byKey.remove(new VersionKey(a.device(), a.inode(), a.size(), a.mtimeNanos()), version);
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
     * Identity and content version of a file.
     */
    record VersionKey(long device, long inode, long size, long mtimeNanos)
    {
    }
}
