package dev.pcb.broker;

import dev.pcb.nativeshim.DirectoryReader;
import dev.pcb.nativeshim.Errno;
import dev.pcb.nativeshim.ErrnoException;
import dev.pcb.nativeshim.Linux;
import dev.pcb.nativeshim.StatxResult;
import dev.pcb.protocol.ErrorCode;
import dev.pcb.protocol.FileAttributes;
import dev.pcb.protocol.FileType;
import dev.pcb.protocol.ListResponse;
import org.agrona.MutableDirectBuffer;

import java.nio.charset.StandardCharsets;

/**
 * The filesystem side of STAT, LIST and READLINK: stat-ing a path beneath a share root, reading a directory page,
 * reading a link (OPEN's is {@link Catalog#resolve}).
 * <p>
 * Each reads only the root descriptor of the session's tree version and this object's scratch, and returns its
 * result (attributes, an encoded page, a link target) instead of sending it: each {@link MetadataTask} has its own instance and runs them on a metadata
 * worker, and the conductor sends the result.
 */
final class MetadataRequests
{
    /** Entries of a LIST page when the client asks for none in particular. */
    static final int DEFAULT_LIST_PAGE = 1000;

    private final StatxResult stat = new StatxResult();
    private final DirectoryReader directoryReader = new DirectoryReader();
    private final DirectoryReader.EntryConsumer listEntryConsumer = this::onListEntry;
    private final ListResponse listResponse = new ListResponse();
    private final FileAttributes listed = new FileAttributes();
    private int listAt;
    private int listCount;
    private int listLimit;
    private int listMax;
    private int listFd;
    private int parentFd = -1;

    /**
     * Attributes of a path, not following a final symlink (STAT).
     *
     * @return {@code out}, filled.
     */
    FileAttributes stat(final Share share, final int rootFd, final String path, final FileAttributes out)
        throws RequestException
    {
        final String shown = share.name() + "/" + path;
        final String name = openParent(rootFd, path, shown);
        try
        {
            Linux.statx(parentFd, name, false, stat);
        }
        catch (final ErrnoException ex)
        {
            throw PathCheck.toRequestException(shown, ex);
        }
        finally
        {
            closeParent();
        }
        return Catalog.toAttributes(stat, out);
    }

    /**
     * The target of a symlink beneath a share root, as stored, never resolved (READLINK).
     *
     * @return the target.
     */
    String readlink(final Share share, final int rootFd, final String path) throws RequestException
    {
        final String shown = share.name() + "/" + path;
        final String name = openParent(rootFd, path, shown);
        try
        {
            return Linux.readlinkat(parentFd, name);
        }
        catch (final ErrnoException ex)
        {
            if (Errno.EINVAL == ex.errno())
            {
                throw new RequestException(ErrorCode.NOT_REGULAR_FILE, shown + ": not a symlink");
            }
            throw PathCheck.toRequestException(shown, ex);
        }
        finally
        {
            closeParent();
        }
    }

    /**
     * Open the parent directory of a path {@code O_PATH} beneath a tree version's root, into {@link #parentFd}, so the last
     * name is looked at without following it; {@link #closeParent} closes it.
     *
     * @return the last name of the path.
     */
    private String openParent(final int rootFd, final String path, final String shown) throws RequestException
    {
        PathCheck.validate(path, shown);
        final String dir = PathCheck.directoryPath(path);
        final int slash = dir.lastIndexOf('/');
        final String parent = slash < 0 ? "." : dir.substring(0, slash);
        try
        {
            parentFd = Linux.openBeneath(rootFd, parent, Linux.O_PATH | Linux.O_DIRECTORY | Linux.O_CLOEXEC);
        }
        catch (final ErrnoException ex)
        {
            throw PathCheck.toRequestException(shown, ex);
        }
        return slash < 0 ? dir : dir.substring(slash + 1);
    }

    private void closeParent()
    {
        Linux.close(parentFd);
        parentFd = -1;
    }

    /**
     * One page of a directory listing (LIST), encoded as a LIST_RESULT in {@code page} from offset 0.
     *
     * @param cookie     0, or the next cookie of the previous page.
     * @param maxEntries entries wanted; 0 or less for {@link #DEFAULT_LIST_PAGE}.
     * @param limit      longest answer the client's response ring takes.
     * @return the encoded length.
     */
    int listPage(
        final Share share, final int rootFd, final String path, final long correlationId, final long cookie,
        final int maxEntries,
        final int limit, final MutableDirectBuffer page) throws RequestException
    {
        final String shown = share.name() + "/" + path;
        PathCheck.validate(path, shown);
        if (cookie < 0)
        {
            throw new RequestException(ErrorCode.MALFORMED, "negative LIST cookie");
        }
        final int fd;
        try
        {
            fd = Linux.openBeneath(rootFd, PathCheck.directoryPath(path),
                Linux.O_RDONLY | Linux.O_DIRECTORY | Linux.O_CLOEXEC);
        }
        catch (final ErrnoException ex)
        {
            throw PathCheck.toRequestException(shown, ex);
        }

        listResponse.wrap(page, 0);
        listResponse.correlationId(correlationId);
        listAt = ListResponse.ENTRIES_OFFSET;
        listCount = 0;
        listLimit = Math.min(limit, page.capacity());
        listMax = maxEntries <= 0 ? DEFAULT_LIST_PAGE : maxEntries;
        listFd = fd;
        final long next;
        // getdents64 resumes at the kernel's own cookie: each page costs the same, and nothing about the pages
        // already sent is kept.
        try
        {
            next = directoryReader.read(fd, cookie, listEntryConsumer);
        }
        catch (final ErrnoException ex)
        {
            throw PathCheck.toRequestException(shown, ex);
        }
        finally
        {
            Linux.close(fd);
        }
        listResponse.nextCookie(next).count(listCount);
        return listAt;
    }

    private boolean onListEntry(final byte[] name, final int type)
    {
        if (listCount == listMax || listAt + ListResponse.entryLength(name.length) > listLimit)
        {
            return false;
        }
        try
        {
            Linux.statx(listFd, new String(name, StandardCharsets.UTF_8), false, stat);
            Catalog.toAttributes(stat, listed);
        }
        catch (final ErrnoException ignore)
        {
            // Removed between getdents and stat: list it as it was seen, with no attributes (mode 0).
            listed.set(FileType.OTHER, 0, 0, 0, 0, 0, 0, 0);
        }
        listAt = listResponse.putEntry(listAt, listed, name);
        listCount++;
        return true;
    }
}
