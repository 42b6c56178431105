package dev.pcb.fs;

import dev.pcb.agent.DirEntry;
import dev.pcb.agent.PcbAgent;
import dev.pcb.agent.PcbException;
import dev.pcb.agent.PcbFile;
import dev.pcb.agent.StaleFileException;
import dev.pcb.agent.WindowView;
import dev.pcb.nativeshim.Errno;
import dev.pcb.protocol.ErrorCode;
import dev.pcb.protocol.FileAttributes;
import dev.pcb.protocol.FileType;
import org.agrona.MutableDirectBuffer;
import org.agrona.concurrent.NanoClock;
import org.agrona.concurrent.SystemNanoClock;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.logging.Logger;

/**
 * The filesystem's state and policy: nodes, open files and directories, and what each operation answers. Every
 * operation returns the length of the reply body it wrote, or minus an errno; every pcb failure becomes an errno
 * in {@link #errno(PcbException)}. Called from several {@link FuseWorker} threads at once.
 * <p>
 * The mount is one agent session, so every path resolves in the one tree version that session is on
 * (docs/versions.md). {@link #advanceTree} moves it to the newest version and starts a new <b>generation</b>: what
 * the mount keeps from the older tree (listings, open directory snapshots) stops answering for new lookups; open
 * files keep their versions. {@link FuseServer#advance} then has the kernel drop what it caches.
 */
public final class PcbFileSystem
{
    /** Most files open through the mount at once; the broker's per-guest handle quota is the real bound. */
    public static final int MAX_OPEN_FILES = 16384;
    /** Most directories open at once. */
    public static final int MAX_OPEN_DIRECTORIES = 4096;


    private static final Logger LOG = Logger.getLogger(PcbFileSystem.class.getName());
    private static final byte[] DOT = {'.'};
    private static final byte[] DOT_DOT = {'.', '.'};

    private final PcbAgent agent;
    private final NodeTable nodes;
    private final HandleTable<OpenFile> files = new HandleTable<>(MAX_OPEN_FILES);
    private final HandleTable<OpenDirectory> directories = new HandleTable<>(MAX_OPEN_DIRECTORIES);
    private final long timeoutNanos;
    private final CacheMode cacheMode;
    private final ListingCache listings;
    private final NanoClock clock;
    private final String share;
    private volatile long generation = 1;
    private volatile long lastOpenOrCloseNanos;

    /**
     * A filesystem over one share directory.
     *
     * @param agent        an attached agent.
     * @param rootPath     {@code SHARE} or {@code SHARE/SUBDIR}: the mount's root.
     * @param timeoutNanos how long the kernel may trust a name or attributes before asking again.
     * @param cacheMode    page-cache policy.
     * @throws PcbException when the root is not a directory of a share this guest has.
     */
    public PcbFileSystem(final PcbAgent agent, final String rootPath, final long timeoutNanos,
        final CacheMode cacheMode) throws PcbException
    {
        this(agent, rootPath, timeoutNanos, cacheMode, SystemNanoClock.INSTANCE);
    }

    /**
     * A filesystem over one share directory, with its own clock.
     *
     * @param agent        an attached agent.
     * @param rootPath     {@code SHARE} or {@code SHARE/SUBDIR}: the mount's root.
     * @param timeoutNanos how long the kernel (and the mount's listing cache) may trust a name or attributes.
     * @param cacheMode    page-cache policy.
     * @param clock        time source for the listing cache.
     * @throws PcbException when the root is not a directory of a share this guest has.
     */
    public PcbFileSystem(final PcbAgent agent, final String rootPath, final long timeoutNanos,
        final CacheMode cacheMode, final NanoClock clock) throws PcbException
    {
        this.agent = agent;
        this.timeoutNanos = timeoutNanos;
        this.cacheMode = cacheMode;
        this.listings = new ListingCache(timeoutNanos, clock);
        this.clock = clock;
        this.share = rootPath.contains("/") ? rootPath.substring(0, rootPath.indexOf('/')) : rootPath;
        this.lastOpenOrCloseNanos = clock.nanoTime();
        final FileAttributes root = agent.stat(rootPath);
        if (!root.isDirectory())
        {
            throw new PcbException(ErrorCode.NOT_A_DIRECTORY, rootPath + ": not a directory");
        }
        this.nodes = new NodeTable(rootPath, root);
    }

    /** @return the nodes. */
    public NodeTable nodes()
    {
        return nodes;
    }

    /** @return files open through the mount now. */
    public int openFiles()
    {
        return files.size();
    }

    /** @return directories open now. */
    public int openDirectories()
    {
        return directories.size();
    }

    /** @return the clock time of the last open or close of a file or directory through the mount. */
    public long lastOpenOrCloseNanos()
    {
        return lastOpenOrCloseNanos;
    }

    /** @return the share the mount serves. */
    public String share()
    {
        return share;
    }

    /**
     * @return the tree version of the share the mount's session is on.
     * @throws PcbException never for the mount's own share.
     */
    public long treeVersion() throws PcbException
    {
        return agent.treeVersion(share);
    }

    /**
     * @return the newest tree version the broker published (shared memory, no request).
     * @throws PcbException never for the mount's own share.
     */
    public long newestTreeVersion() throws PcbException
    {
        return agent.newestTreeVersion(share);
    }

    /** @return the mount's generation: 1, then one more per advance that changed the tree version. */
    public long generation()
    {
        return generation;
    }

    /**
     * Move the mount's session to the newest tree version (one ADVANCE: all paths at once) and, when that changed
     * the version, start a new generation: every listing kept is forgotten and open directory snapshots stop
     * handing out nodes. Requests already running may still answer from the older tree; {@link FuseServer#advance}
     * waits for them before it invalidates the kernel's caches.
     *
     * @return the version the mount is on now.
     * @throws PcbException when the broker refused or did not answer: the mount stays where it was.
     */
    synchronized long advanceTree() throws PcbException
    {
        final long before = agent.treeVersion(share);
        final long version = agent.advance(share);
        if (version != before)
        {
            // The broker already resolves on the new tree: from here on nothing older may answer.
            final long next = generation + 1;
            listings.advance(next);
            generation = next;
        }
        return version;
    }

    int lookup(final long parentId, final String name, final MutableDirectBuffer body, final int at)
    {
        final Node parent = nodes.get(parentId);
        if (null == parent)
        {
            return -Errno.ENOENT;
        }
        if (!parent.isDirectory())
        {
            return -Errno.ENOTDIR;
        }
        if (name.isEmpty() || name.indexOf('/') >= 0 || ".".equals(name) || "..".equals(name))
        {
            // "." and ".." are resolved by the kernel; asked here only through NFS export, which is not offered.
            return -Errno.ENOENT;
        }
        if (name.length() > FuseArgs.NAME_MAX)
        {
            return -Errno.ENAMETOOLONG;
        }
        try
        {
            final String path = parent.path() + "/" + name;
            // A name listed within the timeout needs no round trip: the kernel may trust that listing as long.
            final FileAttributes listed = listings.find(parent.path(), name);
            final Node node = nodes.lookup(parent, name, null != listed ? listed : agent.stat(path));
            return FuseAttr.encodeEntry(body, at, node, timeoutNanos);
        }
        catch (final PcbException ex)
        {
            return -errno(ex);
        }
    }

    void forget(final long nodeId, final long nlookup)
    {
        nodes.forget(nodeId, nlookup);
    }

    int getattr(final long nodeId, final MutableDirectBuffer body, final int at)
    {
        final Node node = nodes.get(nodeId);
        if (null == node)
        {
            return -Errno.ENOENT;
        }
        if (node.isDirectory())
        {
            // A directory node outlives changes to its entries: show its current link count and times, as its
            // parent's listing had them within the timeout, else as the broker has them now.
            try
            {
                final FileAttributes listed = listings.findPath(node.path());
                node.attributes().copyFrom(null != listed ? listed : agent.stat(node.path()));
            }
            catch (final PcbException ex)
            {
                return -errno(ex);
            }
        }
        return FuseAttr.encodeAttrOut(body, at, node, timeoutNanos);
    }

    int open(final long nodeId, final int flags, final MutableDirectBuffer body, final int at)
    {
        final Node node = nodes.get(nodeId);
        if (null == node)
        {
            return -Errno.ENOENT;
        }
        if (0 != (flags & FuseOpen.O_ACCMODE))
        {
            return -Errno.EROFS;
        }
        if (node.isDirectory())
        {
            return -Errno.EISDIR;
        }
        final PcbFile file;
        try
        {
            file = agent.open(node.path());
        }
        catch (final PcbException ex)
        {
            return -errno(ex);
        }
        final FileAttributes opened = file.attributes();
        final FileAttributes expected = node.attributes();
        if (opened.device() != expected.device() || opened.inode() != expected.inode() ||
            opened.size() != expected.size() || opened.mtimeNanos() != expected.mtimeNanos())
        {
            // The path now names another version: the kernel looks the name up again and opens the new node, so
            // that lookup must not be answered from an older listing.
            file.close();
            listings.invalidateParentOf(node.path());
            return -Errno.ESTALE;
        }
        final long fh = files.add(new OpenFile(file));
        if (fh < 0)
        {
            file.close();
            return -Errno.ENFILE;
        }
        lastOpenOrCloseNanos = clock.nanoTime();
        body.putLong(at + FuseOpen.FH_OFFSET, fh);
        body.putInt(at + FuseOpen.OUT_OPEN_FLAGS_OFFSET, openFlags(node, flags));
        body.putInt(at + FuseOpen.OUT_PADDING_OFFSET, 0);
        return FuseOpen.OUT_LENGTH;
    }

    private int openFlags(final Node node, final int flags)
    {
        switch (cacheMode)
        {
            case ALL:
                return FuseOpen.FOPEN_KEEP_CACHE;
            case EXEC:
                final String path = node.path();
                final boolean mapped = 0 != (flags & FuseOpen.FMODE_EXEC) ||
                    0 != (node.attributes().mode() & 0111) || path.endsWith(".so") || path.contains(".so.");
                return mapped ? FuseOpen.FOPEN_KEEP_CACHE : FuseOpen.FOPEN_DIRECT_IO;
            default:
                return FuseOpen.FOPEN_DIRECT_IO;
        }
    }

    /**
     * Serve a READ. A range of up to {@link FuseWorker#MAX_GATHER_WINDOWS} windows is pinned whole and replied
     * from in place; a longer one (small windows, 1 MiB reads) is copied window by window, so one read never pins
     * more than a few windows of a small region.
     */
    void read(final FuseWorker worker, final long unique, final long fh, final long offset, final int size)
    {
        final OpenFile open = files.get(fh);
        if (null == open)
        {
            worker.replyError(unique, Errno.EBADF);
            return;
        }
        final PcbFile file = open.file;
        final long end = Math.min(file.size(), offset + Math.max(0, size));
        if (end <= offset)
        {
            worker.replyData(unique, offset, offset, 0);
            return;
        }
        final int windowSize = file.windowSize();
        final long windows = (end - 1) / windowSize - offset / windowSize + 1;
        final WindowView[] views = worker.views();
        int count = 0;
        try
        {
            if (windows <= FuseWorker.MAX_GATHER_WINDOWS)
            {
                for (long w = offset / windowSize; w * windowSize < end; w++)
                {
                    final WindowView view = file.acquire(w);
                    views[count++] = view;
                }
                worker.replyData(unique, offset, end, count);
            }
            else
            {
                int at = 0;
                for (long w = offset / windowSize; w * windowSize < end; w++)
                {
                    try (WindowView view = file.acquire(w))
                    {
                        at += worker.copyPart(view, offset, end, at);
                    }
                }
                worker.replyCopied(unique, at);
            }
        }
        catch (final PcbException ex)
        {
            if (ex instanceof StaleFileException && open.noteStale())
            {
                LOG.warning(file.path() + ": changed in place on the host while open; reads of parts not in " +
                    "memory answer ESTALE (" + ex.getMessage() + ")");
            }
            worker.replyError(unique, errno(ex));
        }
        finally
        {
            for (int i = 0; i < count; i++)
            {
                views[i].close();
                views[i] = null;
            }
        }
    }

    int release(final long fh)
    {
        final OpenFile open = files.remove(fh);
        if (null != open)
        {
            open.file.close();
            lastOpenOrCloseNanos = clock.nanoTime();
        }
        return 0;
    }

    int opendir(final long nodeId, final MutableDirectBuffer body, final int at)
    {
        final Node node = nodes.get(nodeId);
        if (null == node)
        {
            return -Errno.ENOENT;
        }
        if (!node.isDirectory())
        {
            return -Errno.ENOTDIR;
        }
        // Read before the listing is asked: a generation begins only once the broker resolves on its tree.
        final long listedIn = generation;
        // A listing taken within the timeout is reused: find, ls and tar open each directory again.
        List<DirEntry> entries = listings.entries(node.path());
        if (null == entries)
        {
            try
            {
                entries = agent.list(node.path());
            }
            catch (final PcbException ex)
            {
                return -errno(ex);
            }
            listings.put(node.path(), entries, listedIn);
        }
        final long fh = directories.add(new OpenDirectory(node, entries, listedIn));
        if (fh < 0)
        {
            return -Errno.ENFILE;
        }
        lastOpenOrCloseNanos = clock.nanoTime();
        body.putLong(at + FuseOpen.FH_OFFSET, fh);
        body.putInt(at + FuseOpen.OUT_OPEN_FLAGS_OFFSET, 0);
        body.putInt(at + FuseOpen.OUT_PADDING_OFFSET, 0);
        return FuseOpen.OUT_LENGTH;
    }

    /**
     * Entries from a cookie on, as many as fit. Cookie i means "entry i is next": 0 and 1 are "." and "..".
     */
    int readdir(final long fh, final long cookie, final int size, final boolean plus,
        final MutableDirectBuffer body, final int at)
    {
        final OpenDirectory dir = directories.get(fh);
        if (null == dir)
        {
            return -Errno.EBADF;
        }
        int written = 0;
        // A snapshot of an older tree still lists its names, but hands out no nodes: the kernel would keep
        // dentries of the older tree after the advance invalidated what it had.
        final boolean current = dir.generation == generation;
        final int total = dir.entries.size() + 2;
        for (long i = Math.max(0, cookie); i < total; i++)
        {
            final byte[] name = 0 == i ? DOT : 1 == i ? DOT_DOT : dir.name((int)i - 2);
            final int length = FuseDirent.recordLength(name.length, plus);
            if (written + length > size)
            {
                break;
            }
            final int record = at + written;
            if (i < 2)
            {
                final long ino = 0 == i ? dir.node.id() : NodeTable.ROOT_ID;
                if (plus)
                {
                    // "." and ".." carry no entry: the kernel skips them before reading it.
                    body.setMemory(record, FuseDirent.PLUS_DIRENT_OFFSET, (byte)0);
                }
                FuseDirent.encode(body, record + (plus ? FuseDirent.PLUS_DIRENT_OFFSET : 0), ino, i + 1,
                    FuseDirent.DT_DIR, name);
                written += length;
                continue;
            }
            final DirEntry entry = dir.entries.get((int)i - 2);
            if (plus)
            {
                if (null == entry.attributes())
                {
                    // Removed on the host while the broker listed it: a listing never shows what it cannot stat.
                    continue;
                }
                if (current)
                {
                    // The attributes came with the listing: no STAT per entry.
                    final Node node = nodes.lookup(dir.node, entry.name(), entry.attributes());
                    FuseAttr.encodeEntry(body, record, node, timeoutNanos);
                    FuseDirent.encode(body, record + FuseDirent.PLUS_DIRENT_OFFSET, node.id(), i + 1,
                        FuseDirent.dtType(node.attributes().type()), name);
                }
                else
                {
                    // Node id 0: the kernel makes no dentry of it and looks the name up when it is used.
                    body.setMemory(record, FuseDirent.PLUS_DIRENT_OFFSET, (byte)0);
                    FuseDirent.encode(body, record + FuseDirent.PLUS_DIRENT_OFFSET, 0xFFFF_FFFFL, i + 1,
                        FuseDirent.dtType(entry.type()), name);
                }
            }
            else
            {
                // The inode is shown only; the kernel asks LOOKUP for the real node.
                FuseDirent.encode(body, record, 0xFFFF_FFFFL, i + 1, FuseDirent.dtType(entry.type()), name);
            }
            written += length;
        }
        return written;
    }

    int releasedir(final long fh)
    {
        if (null != directories.remove(fh))
        {
            lastOpenOrCloseNanos = clock.nanoTime();
        }
        return 0;
    }

    int readlink(final long nodeId, final MutableDirectBuffer body, final int at)
    {
        final Node node = nodes.get(nodeId);
        if (null == node)
        {
            return -Errno.ENOENT;
        }
        if (FileType.SYMLINK != node.attributes().type())
        {
            return -Errno.EINVAL;
        }
        String target = node.symlinkTarget();
        if (null == target)
        {
            try
            {
                target = agent.readlink(node.path());
            }
            catch (final PcbException ex)
            {
                return -errno(ex);
            }
            // A node's version never changes, so neither does its target.
            node.symlinkTarget(target);
        }
        final byte[] bytes = target.getBytes(StandardCharsets.UTF_8);
        body.putBytes(at, bytes);
        return bytes.length;
    }

    int access(final long nodeId, final int mask)
    {
        if (null == nodes.get(nodeId))
        {
            return -Errno.ENOENT;
        }
        return 0 != (mask & FuseArgs.W_OK) ? -Errno.EROFS : 0;
    }

    /**
     * Close every open file and directory: the mount is going away.
     */
    public void releaseAll()
    {
        files.drain((open) -> open.file.close());
        directories.drain((dir) ->
        {
            // A listing snapshot holds nothing at the broker.
        });
    }

    /**
     * The errno a pcb failure answers; the choices are explained in docs/fuse.md.
     *
     * @param ex the failure.
     * @return a positive errno.
     */
    static int errno(final PcbException ex)
    {
        switch (ex.code())
        {
            case NO_SUCH_FILE:
            case UNKNOWN_SHARE:
                return Errno.ENOENT;
            case PATH_OUTSIDE_SHARE:
                return Errno.EXDEV;
            case NOT_A_DIRECTORY:
                return Errno.ENOTDIR;
            case IS_A_DIRECTORY:
                return Errno.EISDIR;
            case ACCESS_DENIED:
                return Errno.EACCES;
            case STALE:
                return Errno.ESTALE;
            case QUOTA_EXCEEDED:
                return Errno.EMFILE;
            case NOT_REGULAR_FILE:
                return Errno.ENXIO;
            case MALFORMED:
                return Errno.EINVAL;
            default:
                LOG.warning("answered EIO: " + ex.getMessage());
                return Errno.EIO;
        }
    }

    /** An open file and whether its in-place change was logged. */
    private static final class OpenFile
    {
        final PcbFile file;
        private volatile boolean staleNoted;

        OpenFile(final PcbFile file)
        {
            this.file = file;
        }

        boolean noteStale()
        {
            if (staleNoted)
            {
                return false;
            }
            staleNoted = true;
            return true;
        }
    }

    /** A directory listing taken at OPENDIR: READDIR pages through it, so a listing is one consistent snapshot. */
    private static final class OpenDirectory
    {
        final Node node;
        final List<DirEntry> entries;
        final long generation;
        private final List<byte[]> names;

        OpenDirectory(final Node node, final List<DirEntry> entries, final long generation)
        {
            this.node = node;
            this.entries = entries;
            this.generation = generation;
            this.names = new ArrayList<>(entries.size());
            for (final DirEntry entry : entries)
            {
                names.add(entry.name().getBytes(StandardCharsets.UTF_8));
            }
        }

        byte[] name(final int index)
        {
            return names.get(index);
        }
    }
}
