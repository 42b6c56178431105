package dev.pcb.agent;

import dev.pcb.nativeshim.Linux;
import dev.pcb.nativeshim.MappedRegion;
import dev.pcb.protocol.AttachedResponse;
import dev.pcb.protocol.ErrorCode;
import dev.pcb.protocol.FileAttributes;
import dev.pcb.protocol.ListResponse;
import dev.pcb.protocol.MessageType;
import dev.pcb.protocol.OpenedResponse;
import dev.pcb.protocol.PathRequest;
import dev.pcb.protocol.StatResponse;
import dev.pcb.protocol.TreeIdentity;
import org.agrona.CloseHelper;
import org.agrona.concurrent.NanoClock;
import org.agrona.concurrent.SystemNanoClock;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The pcb agent API: attach to the broker, then list, stat and open files of the shares this guest was given, and
 * read them zero-copy. Paths are {@code SHARE/relative/path}.
 * <p>
 * One agent per process is enough: it is safe to use from many threads, which share its one client slot.
 * <pre>{@code
 * try (PcbAgent agent = PcbAgent.attach(new AgentConfig().runDir(runDir).guest("vm1"));
 *      PcbFile file = agent.open("data/model.bin");
 *      WindowView view = file.acquire(0))
 * {
 *     long first = view.buffer().getLong(0);
 * }
 * }</pre>
 */
public final class PcbAgent implements AutoCloseable
{
    /** How many times a request is asked again when the broker restarted while it was in flight. */
    static final int RESTART_RETRIES = 3;

    private final AgentConfig config;
    private final ClientChannel channel;
    private final List<ShareRegion> shares;
    private final Set<PcbFile> openFiles = ConcurrentHashMap.newKeySet();
    private final AtomicLong viewsHeld = new AtomicLong();
    private final RetainedWindows retained;
    private volatile boolean closed;

    private PcbAgent(final AgentConfig config, final ClientChannel channel, final List<ShareRegion> shares)
    {
        this.config = config;
        this.channel = channel;
        this.shares = shares;
        this.retained = new RetainedWindows(channel.retainedWindowsTable(), config.retainedWindows());
    }

    /**
     * Find the regions, claim a client slot and attach, waiting up to the connect timeout for the broker.
     *
     * @param config where the broker is.
     * @return an attached agent.
     * @throws IOException when the broker is not there in time, or every client slot is held by a live process.
     */
    public static PcbAgent attach(final AgentConfig config) throws IOException
    {
        return attach(config, SystemNanoClock.INSTANCE);
    }

    /**
     * {@link #attach(AgentConfig)} with the clock every deadline and heartbeat silence is measured on.
     */
    static PcbAgent attach(final AgentConfig config, final NanoClock clock) throws IOException
    {
        final RegionLocator locator = new RegionLocator(config);
        final MappedRegion control = locator.control();
        // In a guest whose control region is an ivshmem-doorbell device: bind it to vfio-pci if need be, ring and wait.
        final DoorbellInterrupts bell =
            config.isHostLocal() ? null : DoorbellInterrupts.forControlRegion(control.path());
        final ClientChannel channel;
        try
        {
            channel = new ClientChannel(control, config, clock, bell);
        }
        catch (final IOException | RuntimeException ex)
        {
            CloseHelper.quietClose(control);
            CloseHelper.quietClose(bell);
            throw ex;
        }

        final List<ShareRegion> shares = new ArrayList<>();
        try
        {
            final Call call = channel.prepare();
            for (final AttachedResponse.ShareInfo info : attachCall(channel, call))
            {
                shares.add(new ShareRegion(info.shareId(), info.name(), locator.data(info.name(), info.regionId()),
                    info.treeVersion(), info.identity()));
            }
            final PcbAgent agent = new PcbAgent(config, channel, Collections.unmodifiableList(shares));
            channel.recovery(agent::reattach);
            return agent;
        }
        catch (final IOException | RuntimeException ex)
        {
            shares.forEach((s) -> CloseHelper.quietClose(s.mapping()));
            CloseHelper.quietClose(channel);
            throw ex;
        }
    }

    private static List<AttachedResponse.ShareInfo> attachCall(final ClientChannel channel, final Call call)
        throws PcbException
    {
        final int type = channel.call(call, MessageType.ATTACH, channel.proxy().attach(call, Linux.getpid()));
        throwIfError(call, type, MessageType.ATTACHED);
        final AttachedResponse attached = new AttachedResponse();
        attached.wrap(call.response, 0);
        final List<AttachedResponse.ShareInfo> infos = new ArrayList<>();
        int at = AttachedResponse.SHARES_OFFSET;
        for (int i = 0, n = attached.shareCount(); i < n; i++)
        {
            final AttachedResponse.ShareInfo info = new AttachedResponse.ShareInfo();
            at = attached.getShare(at, call.responseLength, info);
            infos.add(info);
        }
        try
        {
            for (final AttachedResponse.ShareInfo info : infos)
            {
                at = attached.getIdentity(at, call.responseLength, info);
            }
        }
        catch (final IllegalArgumentException ex)
        {
            throw new PcbException(ErrorCode.MALFORMED, "ATTACHED: " + ex.getMessage());
        }
        return infos;
    }

    /**
     * After a broker restart: attach again (share ids may have changed), go back to the tree version each share was
     * read at, then let each open file claim its held windows and re-open itself beneath it.
     */
    private void reattach(final Call call) throws PcbException
    {
        // Before any OPEN: the new broker numbers handles afresh, and an old entry must never name a new handle.
        retained.dropAll();
        for (final AttachedResponse.ShareInfo info : attachCall(channel, call))
        {
            for (final ShareRegion share : shares)
            {
                if (share.name().equals(info.name()))
                {
                    final TreeIdentity held = share.treeIdentity();
                    share.shareId(info.shareId());
                    // The new broker attaches the session to its current version; RESUME asks for the one held. The
                    // held identity is kept until an answer replaces it, so a second restart meanwhile asks again.
                    if (!held.isPresent() || held.equals(info.identity()) || !resume(call, share, held))
                    {
                        share.treeVersion(info.treeVersion(), info.identity());
                    }
                }
            }
        }
        for (final PcbFile file : openFiles)
        {
            file.recover(call);
        }
    }

    /**
     * RESUME one share. The broker answers with the version the session is on now: the one held if its directory
     * is still there, else the current one, beneath which open files are re-opened (and answer STALE if they
     * changed). A broker that does not know RESUME (layout 3.1) answers an error: the current version, likewise.
     *
     * @return false when the broker answered an error: the session is on the version ATTACHED named.
     */
    private boolean resume(final Call call, final ShareRegion share, final TreeIdentity held) throws PcbException
    {
        final int type = channel.call(call, MessageType.RESUME, channel.proxy().resume(call, share.shareId(), held));
        if (MessageType.ADVANCED != type)
        {
            return false;
        }
        call.advance.wrap(call.response, 0);
        share.treeVersion(call.advance.treeVersion(), identity(call));
        return true;
    }

    private static TreeIdentity identity(final Call call) throws PcbException
    {
        try
        {
            return call.advance.identity(call.responseLength);
        }
        catch (final IllegalArgumentException ex)
        {
            throw new PcbException(ErrorCode.MALFORMED, "ADVANCED: " + ex.getMessage());
        }
    }

    /** @return the shares this guest may read. */
    public List<ShareRegion> shares()
    {
        return shares;
    }

    /** @return the client slot this process holds. */
    public int slotIndex()
    {
        return channel.slotIndex();
    }

    /**
     * Open the current version of a file.
     *
     * @param path {@code SHARE/relative/path}.
     * @return the open file; close it when done.
     * @throws PcbException naming the problem: NO_SUCH_FILE, IS_A_DIRECTORY, PATH_OUTSIDE_SHARE, UNKNOWN_SHARE...
     */
    public PcbFile open(final String path) throws PcbException
    {
        final Target target = target(path);
        final Call call = callRetryingRestarts(target, MessageType.OPEN, 0, 0, MessageType.OPENED);
        final OpenedResponse opened = new OpenedResponse();
        opened.wrap(call.response, 0);
        final FileAttributes attributes = opened.getAttributes(new FileAttributes());
        final PcbFile file = new PcbFile(this, channel, target.share, displayPath(target), target.relative,
            opened.handleId(),
            opened.versionId(), attributes, opened.windowSize());
        openFiles.add(file);
        return file;
    }

    /**
     * Attributes of a path, not following a final symlink.
     *
     * @param path {@code SHARE/relative/path}; {@code SHARE} alone is the share root.
     * @return the attributes.
     * @throws PcbException naming the problem.
     */
    public FileAttributes stat(final String path) throws PcbException
    {
        final Target target = target(path);
        final Call call = callRetryingRestarts(target, MessageType.STAT, 0, 0, MessageType.STAT_RESULT);
        final StatResponse response = new StatResponse();
        response.wrap(call.response, 0);
        return response.getAttributes(new FileAttributes());
    }

    /**
     * The target of a symlink as stored on the host, never resolved: it may point outside the share, where a
     * reader resolving it on its own side never reaches host files.
     *
     * @param path {@code SHARE/relative/link}.
     * @return the target.
     * @throws PcbException naming the problem; NOT_REGULAR_FILE when the path is not a symlink.
     */
    public String readlink(final String path) throws PcbException
    {
        final Target target = target(path);
        final Call call = callRetryingRestarts(target, MessageType.READLINK, 0, 0, MessageType.READLINK_RESULT);
        // Read the length once, check it, and decode with the checked value only, as the broker does.
        final int length = PathRequest.checkedPathLength(call.response, 0, call.responseLength);
        if (length < 0)
        {
            throw new PcbException(ErrorCode.MALFORMED, path + ": malformed READLINK_RESULT");
        }
        final PathRequest result = new PathRequest();
        result.wrap(call.response, 0);
        return result.path(new byte[length], length);
    }

    /**
     * One page of a directory.
     *
     * @param path       {@code SHARE/relative/dir}; {@code SHARE} alone is the share root.
     * @param cookie     0 for the first page, then {@link DirectoryPage#nextCookie()}.
     * @param maxEntries most entries wanted; the broker may send fewer to fit its ring.
     * @return the page.
     * @throws PcbException naming the problem, NOT_A_DIRECTORY among them.
     */
    public DirectoryPage list(final String path, final long cookie, final int maxEntries) throws PcbException
    {
        final Target target = target(path);
        final Call call = callRetryingRestarts(target, MessageType.LIST, cookie, maxEntries, MessageType.LIST_RESULT);
        final ListResponse response = new ListResponse();
        response.wrap(call.response, 0);
        final int count = response.count();
        final List<DirEntry> entries = new ArrayList<>(Math.max(0, Math.min(count, 4096)));
        final ListResponse.Entry entry = new ListResponse.Entry();
        int at = ListResponse.ENTRIES_OFFSET;
        for (int i = 0; i < count; i++)
        {
            at = response.getEntry(at, call.responseLength, entry);
            final FileAttributes attributes = entry.hasAttributes() ?
                new FileAttributes().copyFrom(entry.attributes()) : null;
            entries.add(new DirEntry(entry.name(), entry.type(), entry.size(), attributes));
        }
        return new DirectoryPage(entries, response.nextCookie());
    }

    /**
     * A whole directory, page by page, sorted by name.
     *
     * @param path {@code SHARE/relative/dir}.
     * @return every entry.
     * @throws PcbException naming the problem.
     */
    public List<DirEntry> list(final String path) throws PcbException
    {
        final List<DirEntry> all = new ArrayList<>();
        long cookie = 0;
        do
        {
            final DirectoryPage page = list(path, cookie, 0);
            all.addAll(page.entries());
            cookie = page.nextCookie();
        }
        while (cookie >= 0);
        all.sort((a, b) -> a.name().compareTo(b.name()));
        return all;
    }

    /**
     * The tree version this session reads a share at (docs/versions.md).
     *
     * @param share a share name.
     * @return the version number; 1 for a plain directory share.
     * @throws PcbException UNKNOWN_SHARE.
     */
    public long treeVersion(final String share) throws PcbException
    {
        return target(share).share.treeVersion();
    }

    /**
     * The newest tree version of a share the broker published, read from shared memory without a request.
     *
     * @param share a share name.
     * @return the version number; different from {@link #treeVersion} when {@link #advance} would move this session
     * (see {@link ShareRegion#newestTreeVersion()}).
     * @throws PcbException UNKNOWN_SHARE.
     */
    public long newestTreeVersion(final String share) throws PcbException
    {
        return target(share).share.newestTreeVersion();
    }

    /**
     * Move this session to the newest tree version of a share: every OPEN, STAT and LIST from now on resolves
     * beneath it, all paths at once; files already open keep reading the versions they opened.
     *
     * @param share a share name.
     * @return the version the session is on now.
     * @throws PcbException naming the problem.
     */
    public long advance(final String share) throws PcbException
    {
        final ShareRegion region = target(share).share;
        for (int attempt = 1; ; attempt++)
        {
            try
            {
                final Call call = channel.prepare();
                final int type = channel.call(call, MessageType.ADVANCE, channel.proxy().advance(call, region.shareId()));
                throwIfError(call, type, MessageType.ADVANCED);
                call.advance.wrap(call.response, 0);
                final long version = call.advance.treeVersion();
                region.treeVersion(version, identity(call));
                return version;
            }
            catch (final BrokerRestartedException ex)
            {
                if (attempt == RESTART_RETRIES)
                {
                    throw ex;
                }
            }
        }
    }

    /**
     * Detach: the broker drops every handle and pin of this process. Region mappings stay while views are held,
     * so a forgotten view never faults.
     */
    public void close()
    {
        if (closed)
        {
            return;
        }
        closed = true;
        // DETACH drops these pins at the broker; a retained view must not be read again after the unmap below.
        retained.dropAll();
        // Not waited for while the broker is silent: the slot given back below makes it release everything of
        // this client as soon as it runs again, so closing never hangs on a paused broker.
        if (null == channel.brokerFailure() && !channel.isBrokerSilent())
        {
            try
            {
                final Call call = channel.prepare();
                channel.call(call, MessageType.DETACH, channel.proxy().detach(call));
            }
            catch (final PcbException ignore)
            {
                // The broker is gone or slow: it frees this client when it sees the slot given back.
            }
        }
        CloseHelper.quietClose(channel);
        if (0 == viewsHeld.get())
        {
            for (final ShareRegion share : shares)
            {
                CloseHelper.quietClose(share.mapping());
            }
        }
    }

    ClientChannel channel()
    {
        return channel;
    }

    RetainedWindows retained()
    {
        return retained;
    }

    void viewAcquired()
    {
        viewsHeld.incrementAndGet();
    }

    void viewReleased()
    {
        viewsHeld.decrementAndGet();
    }

    void fileClosed(final PcbFile file)
    {
        openFiles.remove(file);
    }

    /** @return files opened and not closed. */
    public int openFileCount()
    {
        return openFiles.size();
    }

    /** @return the configuration. */
    public AgentConfig config()
    {
        return config;
    }

    private Target target(final String path) throws PcbException
    {
        if (closed)
        {
            throw new PcbException(ErrorCode.SHUTTING_DOWN, "agent is closed");
        }
        String p = path;
        while (p.startsWith("/"))
        {
            p = p.substring(1);
        }
        final int slash = p.indexOf('/');
        final String shareName = slash < 0 ? p : p.substring(0, slash);
        final String relative = slash < 0 ? "" : p.substring(slash + 1);
        for (final ShareRegion share : shares)
        {
            if (share.name().equals(shareName))
            {
                return new Target(share, relative);
            }
        }
        final List<String> names = new ArrayList<>();
        shares.forEach((s) -> names.add(s.name()));
        throw new PcbException(ErrorCode.UNKNOWN_SHARE,
            path + ": no share named \"" + shareName + "\" (this guest has: " + String.join(", ", names) + ")");
    }

    private Call callRetryingRestarts(
        final Target target, final int typeId, final long cookie, final int maxEntries, final int expected)
        throws PcbException
    {
        for (int attempt = 1; ; attempt++)
        {
            try
            {
                // Prepared again on each attempt: a retry after a restart must carry the new broker's share id.
                final Call call = channel.prepare();
                final int type = channel.call(call, typeId,
                    channel.proxy().path(call, target.share.shareId(), target.relative, cookie, maxEntries));
                throwIfError(call, type, expected);
                return call;
            }
            catch (final BrokerRestartedException ex)
            {
                if (attempt == RESTART_RETRIES)
                {
                    throw ex;
                }
            }
        }
    }

    private static String displayPath(final Target target)
    {
        return target.relative.isEmpty() ? target.share.name() : target.share.name() + "/" + target.relative;
    }

    static void throwIfError(final Call call, final int type, final int expected) throws PcbException
    {
        if (MessageType.ERROR == type)
        {
            throw PcbException.of(call.error.code(), call.error.message(call.responseLength));
        }
        if (expected != type)
        {
            throw new PcbException(ErrorCode.MALFORMED,
                "expected " + MessageType.name(expected) + ", broker answered " + MessageType.name(type));
        }
    }

    private record Target(ShareRegion share, String relative)
    {
    }
}
