package dev.pcb.broker;

import dev.pcb.layout.ClientSlotDescriptor;
import dev.pcb.layout.LayoutVersion;
import dev.pcb.layout.RetainedWindowsDescriptor;
import dev.pcb.layout.RunDirectory;
import dev.pcb.layout.WindowDescriptor;
import dev.pcb.nativeshim.DirectoryReader;
import dev.pcb.nativeshim.ErrnoException;
import dev.pcb.nativeshim.Linux;
import dev.pcb.nativeshim.StatxResult;
import dev.pcb.protocol.AcquiredResponse;
import dev.pcb.protocol.AttachRequest;
import dev.pcb.protocol.AttachedResponse;
import dev.pcb.protocol.ErrorCode;
import dev.pcb.protocol.ErrorResponse;
import dev.pcb.protocol.FileAttributes;
import dev.pcb.protocol.FileType;
import dev.pcb.protocol.HoldRequest;
import dev.pcb.protocol.ListResponse;
import dev.pcb.protocol.MessageType;
import dev.pcb.protocol.OpenedResponse;
import dev.pcb.protocol.PathRequest;
import dev.pcb.protocol.SimpleMessage;
import dev.pcb.protocol.StatResponse;
import dev.pcb.protocol.WindowRequest;
import org.agrona.BufferUtil;
import org.agrona.MutableDirectBuffer;
import org.agrona.collections.Long2LongHashMap;
import org.agrona.concurrent.Agent;
import org.agrona.concurrent.EpochClock;
import org.agrona.concurrent.ManyToOneConcurrentArrayQueue;
import org.agrona.concurrent.MessageHandler;
import org.agrona.concurrent.UnsafeBuffer;
import org.agrona.concurrent.ringbuffer.OneToOneRingBuffer;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Executor;

import static java.lang.System.Logger.Level.INFO;
import static java.lang.System.Logger.Level.WARNING;

/**
 * The broker's one serving thread: claims of client slots, every request of every guest, fill completions, leases.
 * <p>
 * All broker state but window contents is owned by this thread, so none of it needs a lock. Misses never block it:
 * fills run on filler threads and come back through a queue, and the requests of other clients keep being answered
 * meanwhile. Each slot is read at most {@link #REQUESTS_PER_SLOT} records per duty cycle so one busy guest cannot
 * starve the others.
 */
final class BrokerConductor implements Agent
{
    static final int REQUESTS_PER_SLOT = 32;
    static final long HOUSEKEEPING_INTERVAL_MS = 100;
    static final int DEFAULT_LIST_PAGE = 1000;

    private static final System.Logger LOG = System.getLogger("pcb.broker");

    private final BrokerConfig config;
    private final long epoch;
    private final List<Share> shares;
    private final GuestControl[] guests;
    private final Executor fillers;
    private final ManyToOneConcurrentArrayQueue<FillTask> completions;
    private final EpochClock clock;
    private final BrokerCounters counters;
    private final ErrorLog errorLog = new ErrorLog();
    private final UnsafeBuffer out = new UnsafeBuffer(BufferUtil.allocateDirectAligned(64 * 1024, 64));
    private final AttachRequest attachRequest = new AttachRequest();
    private final AttachedResponse attached = new AttachedResponse();
    private final PathRequest pathRequest = new PathRequest();
    private final WindowRequest windowRequest = new WindowRequest();
    private final HoldRequest holdRequest = new HoldRequest();
    private final OpenedResponse opened = new OpenedResponse();
    private final StatResponse statResponse = new StatResponse();
    private final ListResponse listResponse = new ListResponse();
    private final AcquiredResponse acquired = new AcquiredResponse();
    private final SimpleMessage simple = new SimpleMessage();
    private final ErrorResponse error = new ErrorResponse();
    private final FileAttributes attributes = new FileAttributes();
    private final StatxResult stat = new StatxResult();
    // Handlers held in fields: a method reference at the call site would allocate on every poll.
    private final MessageHandler requestHandler = this::onRequest;
    private final java.util.function.Consumer<FillTask> fillCompletionHandler = this::onFillComplete;
    private final DirectoryReader directoryReader = new DirectoryReader();
    private final DirectoryReader.EntryConsumer listEntryConsumer = this::onListEntry;
    private int listAt;
    private int listCount;
    private int listLimit;
    private int listMax;
    private int listFd;
    private ClientSession current;
    private long nextSessionId;
    private long lastHousekeepingMs;
    private long lastClaimScanMs;
    private ClientSession[] active = new ClientSession[0];
    private boolean activeChanged;
    private long quarantineDeadlineMs;
    private boolean quarantineEnded;
    private int readAheadInFlight;
    // High bits of every handle id, random per broker: an id a client kept from a previous broker (in its retained
    // windows table, say) never names a handle of this one.
    private final long handleIdBase = (long)java.util.concurrent.ThreadLocalRandom.current().nextInt(1, 1 << 30) << 32;
    // ACQUIREs waiting for read-ahead fills to end because no window was free; rare, so a plain list.
    private final List<Deferred> deferred = new java.util.ArrayList<>();

    private record Deferred(FillTask.Waiter waiter, long fileWindow)
    {
    }

    BrokerConductor(
        final BrokerConfig config,
        final long epoch,
        final List<Share> shares,
        final GuestControl[] guests,
        final Executor fillers,
        final EpochClock clock,
        final BrokerCounters counters)
    {
        this.config = config;
        this.epoch = epoch;
        this.shares = shares;
        this.guests = guests;
        this.fillers = fillers;
        this.clock = clock;
        this.counters = counters;
        this.completions = new ManyToOneConcurrentArrayQueue<>(4096);
    }

    /** {@inheritDoc} */
    public String roleName()
    {
        return "pcb-broker-conductor";
    }

    /** {@inheritDoc} */
    public void onStart()
    {
        final long now = clock.time();
        lastHousekeepingMs = now;
        // Clients of a previous broker get one lease (plus the time to notice the restart) to claim their windows.
        quarantineDeadlineMs = now + config.clientLeaseMs() + config.brokerLeaseMs();
        for (final GuestControl guest : guests)
        {
            guest.heartbeat();
        }
        counters.sample(now);
    }

    /** {@inheritDoc} */
    public int doWork()
    {
        int work = drainCompletions();
        final long now = clock.time();
        // Attached clients are polled every cycle; free slots only for new claims, at most once a millisecond, so
        // the cost of a cycle follows the clients attached, not the guests configured.
        final ClientSession[] attached = active;
        for (final ClientSession session : attached)
        {
            work += pollSlot(session, now);
        }
        if (now != lastClaimScanMs)
        {
            lastClaimScanMs = now;
            for (final GuestControl guest : guests)
            {
                for (final ClientSession session : guest.sessions())
                {
                    if (!session.isActive())
                    {
                        work += pollSlot(session, now);
                    }
                }
            }
        }
        if (activeChanged)
        {
            activeChanged = false;
            rebuildActive();
        }
        if (now - lastHousekeepingMs >= HOUSEKEEPING_INTERVAL_MS)
        {
            lastHousekeepingMs = now;
            work += housekeeping(now);
        }
        return work;
    }

    /** {@inheritDoc} */
    public void onClose()
    {
        for (final GuestControl guest : guests)
        {
            guest.signalShutdown();
        }
    }

    private void rebuildActive()
    {
        final List<ClientSession> sessions = new java.util.ArrayList<>();
        for (final GuestControl guest : guests)
        {
            for (final ClientSession session : guest.sessions())
            {
                if (session.isActive())
                {
                    sessions.add(session);
                }
            }
        }
        active = sessions.toArray(new ClientSession[0]);
    }

    private int pollSlot(final ClientSession session, final long now)
    {
        final long ownerId = session.slot().getLongVolatile(ClientSlotDescriptor.OWNER_ID_OFFSET);
        if (ownerId != session.ownerId())
        {
            activeChanged = true;
            if (session.isActive())
            {
                LOG.log(INFO, () -> session.describe() + " released: " +
                    (0 == ownerId ? "client detached" : "slot taken over by a new process"));
                releaseAll(session);
                session.reset(false);
            }
            if (0 != ownerId)
            {
                session.accept(ownerId, ++nextSessionId, now);
                counters.clientAttached();
            }
            return 1;
        }
        if (!session.isActive())
        {
            return 0;
        }

        current = session;
        try
        {
            return session.requests().read(requestHandler, REQUESTS_PER_SLOT);
        }
        catch (final RuntimeException ex)
        {
            detach(session, "corrupt request ring (" + ex + ")");
            return 1;
        }
    }

    private void onRequest(final int typeId, final MutableDirectBuffer buffer, final int index, final int length)
    {
        final ClientSession session = current;
        if (!session.isActive())
        {
            return;
        }
        session.countRequest();
        counters.request(session.guest());
        final long correlationId = length >= 8 ? buffer.getLong(index) : 0;
        try
        {
            if (MessageType.ATTACH != typeId && !session.isAttached())
            {
                throw new RequestException(ErrorCode.NOT_ATTACHED, "ATTACH first");
            }
            if (config.maxRequestsPerSecondPerGuest() > 0 && isRateLimited(typeId) &&
                !session.guest().tryRequest(System.nanoTime(), config.maxRequestsPerSecondPerGuest()))
            {
                throw new RequestException(ErrorCode.QUOTA_EXCEEDED, "guest " + session.guest().name() +
                    " is over its rate of " + config.maxRequestsPerSecondPerGuest() + " requests per second");
            }
            switch (typeId)
            {
                case MessageType.ATTACH: onAttach(session, buffer, index, length); break;
                case MessageType.OPEN: onOpen(session, buffer, index, length); break;
                case MessageType.STAT: onStat(session, buffer, index, length); break;
                case MessageType.LIST: onList(session, buffer, index, length); break;
                case MessageType.ACQUIRE: onAcquire(session, buffer, index, length); break;
                case MessageType.RELEASE: onRelease(session, buffer, index, length); break;
                case MessageType.CLOSE: onClose(session, buffer, index, length); break;
                case MessageType.DETACH: onDetach(session, correlationId); break;
                case MessageType.HOLD: onHold(session, buffer, index, length); break;
                default:
                    throw new RequestException(ErrorCode.MALFORMED, "unknown request type " + typeId);
            }
        }
        catch (final RequestException ex)
        {
            sendError(session, correlationId, typeId, ex.code(), ex.getMessage());
        }
    }

    private static boolean isRateLimited(final int typeId)
    {
        return MessageType.OPEN == typeId || MessageType.STAT == typeId || MessageType.LIST == typeId ||
            MessageType.ACQUIRE == typeId;
    }

    private void onAttach(final ClientSession session, final MutableDirectBuffer buffer, final int index, final int length)
        throws RequestException
    {
        requireLength(length, AttachRequest.LENGTH, "ATTACH");
        attachRequest.wrap(buffer, index);
        final int version = attachRequest.layoutVersion();
        if (!LayoutVersion.isCompatible(version))
        {
            throw new RequestException(ErrorCode.UNSUPPORTED_VERSION, "agent speaks layout " +
                LayoutVersion.toString(version) + ", broker speaks " + LayoutVersion.toString(LayoutVersion.CURRENT));
        }
        session.attached(attachRequest.pid());
        LOG.log(INFO, () -> session.describe() + " attached");

        attached.wrap(out, 0);
        attached.correlationId(attachRequest.correlationId());
        attached.brokerEpoch(epoch).slotIndex(session.slotIndex());
        final List<Share> given = session.guest().shares();
        attached.shareCount(given.size());
        int at = AttachedResponse.SHARES_OFFSET;
        for (final Share share : given)
        {
            at = attached.putShare(at, share.id(), share.region().windowSize(), share.region().regionLength(),
                share.region().regionId(), share.name());
        }
        send(session, MessageType.ATTACHED, at);
    }

    private void onOpen(final ClientSession session, final MutableDirectBuffer buffer, final int index, final int length)
        throws RequestException
    {
        final Share share = pathRequest(session, buffer, index, length);
        if (session.guest().handles() >= config.maxHandlesPerGuest())
        {
            throw new RequestException(ErrorCode.QUOTA_EXCEEDED, "guest " + session.guest().name() +
                " reached its quota of " + config.maxHandlesPerGuest() + " open files");
        }
        final String path = pathRequest.path();
        final FileVersion version = share.catalog().open(path);
        version.addHandle();
        final Handle handle = new Handle(handleIdBase | session.nextHandleId(), version);
        session.addHandle(handle);
        counters.opened();

        opened.wrap(out, 0);
        opened.correlationId(pathRequest.correlationId());
        opened.handleId(handle.id()).versionId(version.id()).windowSize(share.region().windowSize()).shareId(share.id());
        opened.putAttributes(version.attributes());
        send(session, MessageType.OPENED, OpenedResponse.LENGTH);
    }

    private void onStat(final ClientSession session, final MutableDirectBuffer buffer, final int index, final int length)
        throws RequestException
    {
        final Share share = pathRequest(session, buffer, index, length);
        final String path = pathRequest.path();
        final String shown = share.name() + "/" + path;
        PathCheck.validate(path, shown);
        final String dir = PathCheck.directoryPath(path);
        final int slash = dir.lastIndexOf('/');
        final String parent = slash < 0 ? "." : dir.substring(0, slash);
        final String name = slash < 0 ? dir : dir.substring(slash + 1);
        int parentFd = -1;
        try
        {
            parentFd = Linux.openBeneath(share.rootFd(), parent, Linux.O_PATH | Linux.O_DIRECTORY | Linux.O_CLOEXEC);
            Linux.statx(parentFd, name, false, stat);
        }
        catch (final ErrnoException ex)
        {
            throw PathCheck.toRequestException(shown, ex);
        }
        finally
        {
            if (parentFd >= 0)
            {
                Linux.close(parentFd);
            }
        }

        statResponse.wrap(out, 0);
        statResponse.correlationId(pathRequest.correlationId());
        statResponse.putAttributes(Catalog.toAttributes(stat, attributes));
        send(session, MessageType.STAT_RESULT, StatResponse.LENGTH);
    }

    private void onList(final ClientSession session, final MutableDirectBuffer buffer, final int index, final int length)
        throws RequestException
    {
        final Share share = pathRequest(session, buffer, index, length);
        final String path = pathRequest.path();
        final String shown = share.name() + "/" + path;
        PathCheck.validate(path, shown);
        final long cookie = pathRequest.cookie();
        final int maxEntries = pathRequest.maxEntries() <= 0 ? DEFAULT_LIST_PAGE : pathRequest.maxEntries();
        if (cookie < 0)
        {
            throw new RequestException(ErrorCode.MALFORMED, "negative LIST cookie");
        }
        final int limit = session.responses().maxMsgLength();

        final int fd;
        try
        {
            fd = Linux.openBeneath(share.rootFd(), PathCheck.directoryPath(path),
                Linux.O_RDONLY | Linux.O_DIRECTORY | Linux.O_CLOEXEC);
        }
        catch (final ErrnoException ex)
        {
            throw PathCheck.toRequestException(shown, ex);
        }

        listResponse.wrap(out, 0);
        listResponse.correlationId(pathRequest.correlationId());
        listAt = ListResponse.ENTRIES_OFFSET;
        listCount = 0;
        listLimit = limit;
        listMax = maxEntries;
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
        final int at = listAt;
        final int count = listCount;
        listResponse.nextCookie(next).count(count);
        send(session, MessageType.LIST_RESULT, at);
    }

    private boolean onListEntry(final byte[] name, final int type)
    {
        if (listCount == listMax || listAt + ListResponse.entryLength(name.length) > listLimit)
        {
            return false;
        }
        int fileType = FileType.OTHER;
        long size = 0;
        try
        {
            Linux.statx(listFd, new String(name, StandardCharsets.UTF_8), false, stat);
            fileType = FileType.fromMode(stat.mode());
            size = stat.size();
        }
        catch (final ErrnoException ignore)
        {
            // Removed between getdents and stat: list it as it was seen, with no attributes.
        }
        listAt = listResponse.putEntry(listAt, fileType, size, name);
        listCount++;
        return true;
    }

    private void onAcquire(final ClientSession session, final MutableDirectBuffer buffer, final int index, final int length)
        throws RequestException
    {
        requireLength(length, WindowRequest.LENGTH, "ACQUIRE");
        windowRequest.wrap(buffer, index);
        final Handle handle = handle(session, windowRequest.handleId());
        final long fileWindow = windowRequest.fileWindow();
        final FileVersion version = handle.version();
        if (fileWindow < 0 || fileWindow * version.share().region().windowSize() >= version.size())
        {
            throw new RequestException(ErrorCode.BEYOND_EOF,
                version.displayPath() + ": window " + fileWindow + " is past the end (" + version.size() + " bytes)");
        }
        acquire(session, handle, windowRequest.correlationId(), fileWindow);
    }

    /**
     * Pin a window for a client and answer now (hit), when its fill ends (miss), or later still when room is held
     * up by read-ahead fills.
     */
    private void acquire(final ClientSession session, final Handle handle, final long correlationId, final long fileWindow)
        throws RequestException
    {
        final FileVersion version = handle.version();
        final Share share = version.share();
        final int windowSize = share.region().windowSize();
        if (session.guest().pins() >= config.maxPinsPerGuest() &&
            (0 == reclaimRetained(null, session.guest()) || session.guest().pins() >= config.maxPinsPerGuest()))
        {
            throw new RequestException(ErrorCode.QUOTA_EXCEEDED, "guest " + session.guest().name() +
                " reached its quota of " + config.maxPinsPerGuest() + " pinned windows");
        }

        final WindowTable table = share.windows();
        if (version.size() <= config.packThreshold())
        {
            acquirePacked(session, handle, correlationId, table);
            return;
        }
        final boolean sequential = version.acquired(fileWindow);
        int window = version.windowOf(fileWindow);
        if (WindowTable.NONE != window && WindowDescriptor.STATE_READY == table.state(window))
        {
            pin(session, handle, table, window, fileWindow);
            counters.hit();
            sendAcquired(session, correlationId, handle.id(), fileWindow, share, window, 0,
                (int)Math.min(windowSize, version.size() - fileWindow * windowSize));
            if (sequential)
            {
                readAhead(version, fileWindow);
            }
            return;
        }

        if (WindowTable.NONE == window)
        {
            if (version.isStale())
            {
                counters.stale();
                throw new RequestException(ErrorCode.STALE,
                    version.displayPath() + ": changed on the host since it was opened");
            }
            final long fileOffset = fileWindow * windowSize;
            final int fillLength = (int)Math.min(windowSize, version.size() - fileOffset);
            window = table.allocate(version, fileWindow, fileOffset, fillLength);
            if (WindowTable.NONE == window && reclaimRetained(share, null) > 0)
            {
                window = table.allocate(version, fileWindow, fileOffset, fillLength);
            }
            if (WindowTable.NONE == window)
            {
                noSpace(session, handle, correlationId, fileWindow, table);
                return;
            }
            counters.miss();
            final FillTask fill = newFill(version, window, fileWindow, fileOffset, fillLength);
            fill.waiters().add(new FillTask.Waiter(session, session.sessionId(), handle, correlationId));
            pin(session, handle, table, window, fileWindow);
            fillers.execute(fill);
        }
        else
        {
            counters.miss();
            share.fills()[window].waiters().add(
                new FillTask.Waiter(session, session.sessionId(), handle, correlationId));
            pin(session, handle, table, window, fileWindow);
        }
        if (sequential)
        {
            readAhead(version, fileWindow);
        }
    }

    /**
     * No window to give: every one is pinned, filling or quarantined. Read-ahead fills end in milliseconds and leave
     * their windows evictable, and quarantined windows of a previous broker are freed when the grace period ends, so
     * while either is pending the request waits rather than being refused for them.
     */
    private void noSpace(
        final ClientSession session, final Handle handle, final long correlationId, final long fileWindow,
        final WindowTable table) throws RequestException
    {
        if (readAheadInFlight > 0 || (!quarantineEnded && table.quarantinedCount() > 0))
        {
            deferred.add(new Deferred(new FillTask.Waiter(session, session.sessionId(), handle, correlationId),
                fileWindow));
            return;
        }
        counters.noSpace();
        throw new RequestException(ErrorCode.NO_SPACE, "all " + table.count() + " windows of share " +
            handle.version().share().name() + " are pinned; release some or enlarge --region-size");
    }

    private void retryDeferred()
    {
        if (deferred.isEmpty())
        {
            return;
        }
        final List<Deferred> retry = new java.util.ArrayList<>(deferred);
        deferred.clear();
        for (final Deferred d : retry)
        {
            final FillTask.Waiter waiter = d.waiter();
            if (isLive(waiter))
            {
                try
                {
                    acquire(waiter.session(), waiter.handle(), waiter.correlationId(), d.fileWindow());
                }
                catch (final RequestException ex)
                {
                    sendError(waiter.session(), waiter.correlationId(), MessageType.ACQUIRE, ex.code(), ex.getMessage());
                }
            }
        }
    }

    private FillTask newFill(
        final FileVersion version, final int window, final long fileWindow, final long fileOffset, final int length)
    {
        final Share share = version.share();
        final FillTask fill = new FillTask(share, version, window, fileWindow, fileOffset, length, 0,
            config.dropSourceCache(), completions);
        share.fills()[window] = fill;
        version.fillStarted();
        return fill;
    }

    /**
     * A reader is going through a file in order: fill the next few windows now, unpinned and with nobody waiting,
     * so that its next ACQUIREs find them ready or filling. Only free or evictable windows are used: read-ahead never
     * takes retained pins back, and an ACQUIRE that finds no room while read-ahead fills run waits for them instead of
     * being refused.
     */
    private void readAhead(final FileVersion version, final long fileWindow)
    {
        final int windowSize = version.share().region().windowSize();
        final long lastWindow = (version.size() - 1) / windowSize;
        final WindowTable table = version.share().windows();
        for (long w = fileWindow + 1, end = Math.min(lastWindow, fileWindow + config.readAheadWindows()); w <= end; w++)
        {
            if (WindowTable.NONE != version.windowOf(w))
            {
                continue;
            }
            // A quarter of the region at most is ever filling ahead, so read-ahead cannot crowd out demand.
            if (version.isStale() || readAheadInFlight >= Math.max(1, table.count() / 4))
            {
                return;
            }
            final long fileOffset = w * windowSize;
            final int length = (int)Math.min(windowSize, version.size() - fileOffset);
            final int window = table.allocate(version, w, fileOffset, length);
            if (WindowTable.NONE == window)
            {
                return;
            }
            counters.readAhead();
            readAheadInFlight++;
            final FillTask fill = newFill(version, window, w, fileOffset, length);
            fill.readAhead(true);
            fillers.execute(fill);
        }
    }

    /**
     * A small file lives whole in a slot of a packed window: one window holds many of them.
     */
    private void acquirePacked(
        final ClientSession session, final Handle handle, final long correlationId, final WindowTable table)
        throws RequestException
    {
        final FileVersion version = handle.version();
        final Share share = version.share();
        int window = version.windowOf(0);
        if (WindowTable.NONE != window && version.isPackedReady())
        {
            pin(session, handle, table, window, 0);
            counters.hit();
            sendAcquired(session, correlationId, handle.id(), 0, share, window, version.packedOffset(),
                (int)version.size());
            return;
        }
        if (WindowTable.NONE != window)
        {
            counters.miss();
            version.packedFill().waiters().add(new FillTask.Waiter(session, session.sessionId(), handle, correlationId));
            pin(session, handle, table, window, 0);
            return;
        }
        if (version.isStale())
        {
            counters.stale();
            throw new RequestException(ErrorCode.STALE, version.displayPath() + ": changed on the host since it was opened");
        }
        window = table.allocatePacked(version, (int)version.size());
        if (WindowTable.NONE == window && reclaimRetained(share, null) > 0)
        {
            window = table.allocatePacked(version, (int)version.size());
        }
        if (WindowTable.NONE == window)
        {
            noSpace(session, handle, correlationId, 0, table);
            return;
        }
        counters.miss();
        final FillTask fill = new FillTask(share, version, window, 0, 0, (int)version.size(), version.packedOffset(),
            config.dropSourceCache(), completions);
        version.packedFill(fill);
        table.packFillStarted(window);
        version.fillStarted();
        fill.waiters().add(new FillTask.Waiter(session, session.sessionId(), handle, correlationId));
        pin(session, handle, table, window, 0);
        fillers.execute(fill);
    }

    private void onRelease(final ClientSession session, final MutableDirectBuffer buffer, final int index, final int length)
        throws RequestException
    {
        requireLength(length, WindowRequest.LENGTH, "RELEASE");
        windowRequest.wrap(buffer, index);
        if (WindowRequest.HELD_WINDOW_HANDLE == windowRequest.handleId())
        {
            releaseHeld(session, windowRequest.fileWindow());
            return;
        }
        final Handle handle = handle(session, windowRequest.handleId());
        final long fileWindow = windowRequest.fileWindow();
        if (!unpin(session, handle, fileWindow))
        {
            throw new RequestException(ErrorCode.MALFORMED,
                "RELEASE of window " + fileWindow + " that handle " + handle.id() + " does not hold");
        }
        counters.release();
    }

    private static boolean unpin(final ClientSession session, final Handle handle, final long fileWindow)
    {
        if (!handle.unpin(fileWindow))
        {
            return false;
        }
        final FileVersion version = handle.version();
        version.share().windows().unpin(version.windowOf(fileWindow));
        session.unpinned();
        return true;
    }

    /**
     * Take back the pins of windows that clients retain but do not read, so the windows can be evicted; called only
     * when a share has no window to give or a guest is at its pin quota.
     *
     * @param share      only windows of this share; null for any.
     * @param onlyGuest  only clients of this guest; null for every guest.
     * @return pins dropped.
     */
    private int reclaimRetained(final Share share, final GuestControl onlyGuest)
    {
        int dropped = 0;
        for (final GuestControl guest : guests)
        {
            if (null != onlyGuest && guest != onlyGuest)
            {
                continue;
            }
            for (final ClientSession session : guest.sessions())
            {
                if (session.isActive())
                {
                    dropped += reclaimRetained(session, share);
                }
            }
        }
        if (dropped > 0)
        {
            counters.retainedReclaimed(dropped);
        }
        return dropped;
    }

    private static int reclaimRetained(final ClientSession session, final Share share)
    {
        final UnsafeBuffer table = session.retainedWindows();
        int dropped = 0;
        for (int i = 0; i < RetainedWindowsDescriptor.ENTRY_COUNT; i++)
        {
            final int at = RetainedWindowsDescriptor.entryOffset(i);
            final long state = table.getLongVolatile(at + RetainedWindowsDescriptor.STATE_OFFSET);
            if (RetainedWindowsDescriptor.RETAINED != RetainedWindowsDescriptor.kind(state))
            {
                continue;
            }
            // Read before the swap: a successful swap proves these were written for this very state.
            final Handle handle = session.handles().get(table.getLong(at + RetainedWindowsDescriptor.HANDLE_ID_OFFSET));
            final long fileWindow = table.getLong(at + RetainedWindowsDescriptor.FILE_WINDOW_OFFSET);
            if (null != handle && null != share && handle.version().share() != share)
            {
                continue;
            }
            final long reclaimed = (state & ~RetainedWindowsDescriptor.KIND_MASK) | RetainedWindowsDescriptor.RECLAIMED;
            if (table.compareAndSetLong(at + RetainedWindowsDescriptor.STATE_OFFSET, state, reclaimed) &&
                null != handle && unpin(session, handle, fileWindow))
            {
                dropped++;
            }
        }
        return dropped;
    }

    private void onClose(final ClientSession session, final MutableDirectBuffer buffer, final int index, final int length)
        throws RequestException
    {
        requireLength(length, WindowRequest.LENGTH, "CLOSE");
        windowRequest.wrap(buffer, index);
        final Handle handle = handle(session, windowRequest.handleId());
        session.removeHandle(handle);
        closeHandle(session, handle);
        simple.wrap(out, 0);
        simple.correlationId(windowRequest.correlationId());
        send(session, MessageType.CLOSED, SimpleMessage.LENGTH);
    }

    private void onHold(final ClientSession session, final MutableDirectBuffer buffer, final int index, final int length)
        throws RequestException
    {
        requireLength(length, HoldRequest.LENGTH, "HOLD");
        holdRequest.wrap(buffer, index);
        final Share share = session.guest().share(holdRequest.shareId());
        if (null == share)
        {
            throw new RequestException(ErrorCode.UNKNOWN_SHARE, "share id " + holdRequest.shareId() +
                " is not given to guest " + session.guest().name());
        }
        final int window = holdRequest.regionWindow();
        if (!share.windows().hold(window, holdRequest.generation()))
        {
            throw new RequestException(ErrorCode.BAD_HANDLE, "window " + window + " of share " + share.name() +
                " is not a window of the previous broker at generation " + holdRequest.generation());
        }
        final long key = WindowRequest.heldWindow(share.id(), window);
        session.heldWindows().put(key, session.heldWindows().get(key) + 1);
        session.pinned();
        simple.wrap(out, 0);
        simple.correlationId(holdRequest.correlationId());
        send(session, MessageType.HELD, SimpleMessage.LENGTH);
    }

    private void releaseHeld(final ClientSession session, final long key) throws RequestException
    {
        final long count = session.heldWindows().get(key);
        final Share share = session.guest().share((int)(key >>> 32));
        if (count <= 0 || null == share || !share.windows().unhold((int)key))
        {
            throw new RequestException(ErrorCode.MALFORMED, "RELEASE of a held window this client does not hold");
        }
        if (1 == count)
        {
            session.heldWindows().remove(key);
        }
        else
        {
            session.heldWindows().put(key, count - 1);
        }
        session.unpinned();
    }

    private void onDetach(final ClientSession session, final long correlationId)
    {
        releaseAll(session);
        simple.wrap(out, 0);
        simple.correlationId(correlationId);
        send(session, MessageType.DETACHED, SimpleMessage.LENGTH);
    }

    private int drainCompletions()
    {
        final int drained = completions.drain(fillCompletionHandler, 64);
        if (drained > 0)
        {
            retryDeferred();
        }
        return drained;
    }

    private void onFillComplete(final FillTask fill)
    {
        final Share share = fill.share();
        final FileVersion version = fill.version();
        if (fill.noteCompletion())
        {
            // The second completion: the filler has dropped the source's page cache and needs the fd no more.
            version.fillEnded();
            share.catalog().forgetIfUnused(version);
            return;
        }
        final WindowTable table = share.windows();
        final int window = fill.window();
        final boolean packed = version.packedFill() == fill;
        if (!fill.dropsSourceCache())
        {
            version.fillEnded();
        }
        if (fill.isReadAhead())
        {
            readAheadInFlight--;
        }
        if (packed)
        {
            version.packedFill(null);
            table.packFillEnded(window);
        }
        else
        {
            share.fills()[window] = null;
        }

        if (null == fill.failure())
        {
            if (packed)
            {
                version.packedFilled();
            }
            else
            {
                table.filled(window, fill.fileOffset(), fill.length());
            }
            counters.filled(fill.length(), fill.nanos());
            for (final FillTask.Waiter waiter : fill.waiters())
            {
                if (isLive(waiter))
                {
                    sendAcquired(waiter.session(), waiter.correlationId(), waiter.handle().id(), fill.fileWindow(),
                        share, window, fill.offsetInWindow(), fill.length());
                }
            }
            share.reclaim(version);
            return;
        }

        if (ErrorCode.STALE == fill.failure())
        {
            version.markStale();
        }
        failWaiters(fill, table, window);
        if (packed)
        {
            table.removeMember(window, version);
            return;
        }
        if (0 == table.pins(window))
        {
            table.discard(window);
        }
        else
        {
            LOG.log(WARNING, "window " + window + " of share " + share.name() + " failed its fill but is pinned");
        }
        LOG.log(INFO, () -> "fill of " + version.path() + " window " + fill.fileWindow() + " failed: " +
            fill.failureMessage());
    }

    private void failWaiters(final FillTask fill, final WindowTable table, final int window)
    {
        for (final FillTask.Waiter waiter : fill.waiters())
        {
            if (isLive(waiter))
            {
                if (ErrorCode.STALE == fill.failure())
                {
                    counters.stale();
                }
                waiter.handle().unpin(fill.fileWindow());
                table.unpin(window);
                waiter.session().unpinned();
                sendError(waiter.session(), waiter.correlationId(), MessageType.ACQUIRE, fill.failure(),
                    fill.failureMessage());
            }
        }
    }

    private static boolean isLive(final FillTask.Waiter waiter)
    {
        final ClientSession session = waiter.session();
        return session.isActive() && session.sessionId() == waiter.sessionId() &&
            session.handles().get(waiter.handle().id()) == waiter.handle();
    }

    private int housekeeping(final long now)
    {
        int work = inspectIfAsked();
        if (!quarantineEnded && now >= quarantineDeadlineMs)
        {
            quarantineEnded = true;
            for (final Share share : shares)
            {
                final int held = share.windows().quarantinedCount();
                final int freed = share.windows().endQuarantine();
                if (held > 0)
                {
                    LOG.log(INFO, "share " + share.name() + ": " + (held - freed) + " window(s) of the previous " +
                        "broker still held by readers, " + freed + " freed");
                }
            }
            retryDeferred();
            work++;
        }
        for (final GuestControl guest : guests)
        {
            guest.heartbeat();
            for (final ClientSession session : guest.sessions())
            {
                if (session.isActive() && session.heartbeatSilenceMs(now) > config.clientLeaseMs())
                {
                    detach(session, "heartbeat silent for more than " + config.clientLeaseMs() + " ms");
                    work++;
                }
            }
        }
        counters.sample(now);
        return work;
    }

    /**
     * {@code pcb inspect} asks for a report by creating a request file; answer with a report written atomically.
     */
    private int inspectIfAsked()
    {
        final Path request = RunDirectory.inspectRequestFile(config.runDir());
        if (!Files.exists(request))
        {
            return 0;
        }
        try
        {
            final Path report = RunDirectory.inspectReportFile(config.runDir());
            RunFiles.of(config).replace(report, InspectReport.build(epoch, shares, guests));
            Files.deleteIfExists(request);
        }
        catch (final IOException ex)
        {
            LOG.log(WARNING, "cannot write inspection report: " + ex);
        }
        return 1;
    }

    private void detach(final ClientSession session, final String reason)
    {
        LOG.log(WARNING, () -> session.describe() + " detached: " + reason);
        activeChanged = true;
        counters.clientDetached();
        releaseAll(session);
        session.reset(true);
    }

    private void releaseAll(final ClientSession session)
    {
        final Long2LongHashMap.EntryIterator held = session.heldWindows().entrySet().iterator();
        while (held.hasNext())
        {
            held.next();
            final Share share = session.guest().share((int)(held.getLongKey() >>> 32));
            for (long i = held.getLongValue(); i > 0 && null != share; i--)
            {
                share.windows().unhold((int)held.getLongKey());
                session.unpinned();
            }
        }
        session.heldWindows().clear();
        final List<Handle> handles = new java.util.ArrayList<>(session.handles().values());
        for (final Handle handle : handles)
        {
            session.removeHandle(handle);
            closeHandle(session, handle);
        }
    }

    private void closeHandle(final ClientSession session, final Handle handle)
    {
        final FileVersion version = handle.version();
        final Share share = version.share();
        final WindowTable table = share.windows();
        final Long2LongHashMap.EntryIterator it = handle.pins().entrySet().iterator();
        while (it.hasNext())
        {
            it.next();
            final int window = version.windowOf(it.getLongKey());
            for (long i = it.getLongValue(); i > 0; i--)
            {
                table.unpin(window);
                session.unpinned();
            }
        }
        handle.pins().clear();
        if (1 == version.handles())
        {
            share.catalog().lastHandleClosing(version);
        }
        version.removeHandle();
        share.reclaim(version);
        share.catalog().forgetIfUnused(version);
    }

    private void pin(
        final ClientSession session, final Handle handle, final WindowTable table, final int window, final long fileWindow)
    {
        table.pin(window);
        handle.pin(fileWindow);
        session.pinned();
    }

    private Share pathRequest(final ClientSession session, final MutableDirectBuffer buffer, final int index, final int length)
        throws RequestException
    {
        if (!PathRequest.isWellFormed(buffer, index, length))
        {
            throw new RequestException(ErrorCode.MALFORMED, "malformed path request");
        }
        pathRequest.wrap(buffer, index);
        final Share share = session.guest().share(pathRequest.shareId());
        if (null == share)
        {
            throw new RequestException(ErrorCode.UNKNOWN_SHARE,
                "share id " + pathRequest.shareId() + " is not given to guest " + session.guest().name());
        }
        return share;
    }

    private static Handle handle(final ClientSession session, final long handleId) throws RequestException
    {
        final Handle handle = session.handles().get(handleId);
        if (null == handle)
        {
            throw new RequestException(ErrorCode.BAD_HANDLE, "handle " + handleId + " is not open");
        }
        return handle;
    }

    private static void requireLength(final int length, final int required, final String what)
        throws RequestException
    {
        if (length < required)
        {
            throw new RequestException(ErrorCode.MALFORMED, what + " record of " + length + " bytes, needs " + required);
        }
    }

    private void sendAcquired(
        final ClientSession session,
        final long correlationId,
        final long handleId,
        final long fileWindow,
        final Share share,
        final int window,
        final int offsetInWindow,
        final int length)
    {
        acquired.wrap(out, 0);
        acquired.correlationId(correlationId);
        acquired.handleId(handleId)
            .fileWindow(fileWindow)
            .generation(share.windows().generation(window))
            .regionWindow(window)
            .offsetInWindow(offsetInWindow)
            .length(length)
            .shareId(share.id());
        send(session, MessageType.ACQUIRED, AcquiredResponse.LENGTH);
    }

    private void sendError(
        final ClientSession session, final long correlationId, final int requestType, final ErrorCode code,
        final String message)
    {
        counters.error(code);
        errorLog.log(session, requestType, code, message, clock.time());
        error.wrap(out, 0);
        error.correlationId(correlationId);
        error.code(code).requestType(requestType);
        send(session, MessageType.ERROR, error.message(message));
    }

    private void send(final ClientSession session, final int typeId, final int length)
    {
        if (!session.isActive())
        {
            return;
        }
        final OneToOneRingBuffer responses = session.responses();
        boolean written;
        try
        {
            written = responses.write(typeId, out, 0, length);
        }
        catch (final RuntimeException ex)
        {
            detach(session, "corrupt response ring (" + ex + ")");
            return;
        }
        if (!written)
        {
            detach(session, "response ring full: the client does not read its answers");
        }
    }
}
