package dev.pcb.broker;

import dev.pcb.layout.LayoutVersion;
import dev.pcb.layout.RetainedWindowsDescriptor;
import dev.pcb.layout.RetainedWindowsTable;
import dev.pcb.layout.RunDirectory;
import dev.pcb.protocol.ErrorCode;
import dev.pcb.protocol.MessageType;
import dev.pcb.protocol.TreeIdentity;
import dev.pcb.protocol.WindowRequest;
import org.agrona.concurrent.Agent;
import org.agrona.concurrent.EpochClock;
import org.agrona.concurrent.NanoClock;
import org.agrona.concurrent.UnsafeBuffer;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executor;
import java.util.concurrent.ThreadLocalRandom;

import static java.lang.System.Logger.Level.INFO;
import static java.lang.System.Logger.Level.WARNING;

/**
 * The broker's one serving thread, as Aeron's {@code DriverConductor}: it keeps the duty cycle and the state (client
 * slots, sessions, handles) and applies the policy; its parts do the rest.
 * <pre>
 *   request rings --> RequestAdapter --(decoded)--> BrokerConductor --> MetadataRequests   (OPEN, STAT, LIST)
 *                                                        |          --> WindowAcquisition  (ACQUIRE, fills)
 *                                                        |          --> PinLedger          (every pin count)
 *                                                        |          --> RestartQuarantine, ClientLeases
 *   response rings <-- ClientResponder <-----------------+
 * </pre>
 * All broker state but window contents is owned by this thread, so none of it needs a lock. Misses never block it:
 * fills run on the executor passed in and come back through a queue, and the requests of other clients keep being
 * answered meanwhile. Time is read only from the clocks passed in.
 */
final class BrokerConductor implements Agent, WindowAcquisition.RetainedReclaimer
{
    static final long HOUSEKEEPING_INTERVAL_MS = 100;

    private static final System.Logger LOG = System.getLogger("pcb.broker");

    private final BrokerConfig config;
    private final long epoch;
    private final List<Share> shares;
    private final GuestControl[] guests;
    private final EpochClock clock;
    private final BrokerCounters counters;
    private final PinLedger ledger = new PinLedger();
    private final ErrorLog log = new ErrorLog();
    private final ClientResponder responder;
    private final RequestAdapter adapter;
    private final MetadataWork metadata;
    private final WindowAcquisition acquisition;
    private final RestartQuarantine quarantine;
    private final ClientLeases leases;
    private final ClientLeases.Expiry expiry = this::detach;
    private final TreeWatcher watcher;
    private final java.util.function.Consumer<TreeWatcher.Flip> flipHandler = this::onFlip;
    private long nextSessionId;
    private long lastHousekeepingMs;
    private long lastClaimScanMs;
    private ClientSession[] active = new ClientSession[0];
    private boolean activeChanged;
    // High bits of every handle id, random per broker: an id a client kept from a previous broker (in its retained
    // windows table, say) never names a handle of this one.
    private final long handleIdBase = (long)ThreadLocalRandom.current().nextInt(1, 1 << 30) << 32;

    BrokerConductor(
        final BrokerConfig config,
        final long epoch,
        final List<Share> shares,
        final GuestControl[] guests,
        final Executor fillers,
        final Executor metadataWorkers,
        final Runnable workerBell,
        final EpochClock clock,
        final NanoClock nanoClock,
        final BrokerCounters counters,
        final TreeWatcher watcher)
    {
        this.watcher = watcher;
        this.config = config;
        this.epoch = epoch;
        this.shares = shares;
        this.guests = guests;
        this.clock = clock;
        this.counters = counters;
        this.responder = new ClientResponder(counters, log, clock, epoch);
        this.adapter = new RequestAdapter(this, responder, counters, nanoClock, config.maxRequestsPerSecondPerGuest());
        this.quarantine = new RestartQuarantine(shares, config.clientLeaseMs(), config.brokerLeaseMs());
        this.leases = new ClientLeases(guests, config.clientLeaseMs());
        this.acquisition = new WindowAcquisition(config, ledger, responder, counters, fillers, shares, workerBell,
            quarantine, this);
        this.metadata = new MetadataWork(guests, metadataWorkers, workerBell, this::onMetadataComplete);
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
        quarantine.start(now);
        leases.heartbeat();
        counters.sample(now);
    }

    /** {@inheritDoc} */
    public int doWork()
    {
        int work = acquisition.drainCompletions() + metadata.drain() + watcher.drain(flipHandler);
        for (int i = 0, n = shares.size(); i < n; i++)
        {
            work += shares.get(i).catalog().drainUnlinked();
        }
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
        if (now - lastHousekeepingMs >= HOUSEKEEPING_INTERVAL_MS)
        {
            lastHousekeepingMs = now;
            work += housekeeping(now);
        }
        detachUnanswerable();
        // After every answer of the cycle: one wake per answered slot whose owner sleeps.
        responder.wakeAnswered();
        if (activeChanged)
        {
            activeChanged = false;
            rebuildActive();
        }
        for (final GuestControl guest : guests)
        {
            guest.flushInterrupt();
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
        final List<ClientSession> sessions = new ArrayList<>();
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
        final long ownerId = session.slotOwnerId();
        if (ownerId != session.ownerId())
        {
            activeChanged = true;
            if (session.isActive())
            {
                log.clientEvent(INFO, session, "released: " +
                    (0 == ownerId ? "client detached" : "slot taken over by a new process"), now);
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
        return session.isActive() ? adapter.poll(session) : 0;
    }

    void onAttach(final ClientSession session, final long correlationId, final int layoutVersion, final int pid)
        throws RequestException
    {
        if (!LayoutVersion.isCompatible(layoutVersion))
        {
            throw new RequestException(ErrorCode.UNSUPPORTED_VERSION, "agent speaks layout " +
                LayoutVersion.toString(layoutVersion) + ", broker speaks " + LayoutVersion.toString(LayoutVersion.CURRENT));
        }
        leaveTrees(session);
        session.attached(pid);
        for (final Share share : session.guest().shares())
        {
            session.tree(share, share.tree().enter());
        }
        log.clientEvent(INFO, session, "attached", clock.time());
        responder.sendAttached(session, correlationId);
    }

    /**
     * May this client's guest start one more OPEN, STAT or LIST on this share now? If not, the adapter leaves the
     * record in the ring until a metadata task of the guest (for that share) comes back.
     *
     * @param share the share the record names, or null for one the guest was not given.
     */
    boolean hasMetadataRoom(final ClientSession session, final Share share)
    {
        return metadata.hasRoom(session.guest(), share);
    }

    void onOpen(final ClientSession session, final long correlationId, final Share share, final String path)
        throws RequestException
    {
        requireTree(session, share);
        requireHandleRoom(session);
        metadata.submit(session, MessageType.OPEN, correlationId, share, path, 0, 0);
    }

    void onStat(final ClientSession session, final long correlationId, final Share share, final String path)
        throws RequestException
    {
        requireTree(session, share);
        metadata.submit(session, MessageType.STAT, correlationId, share, path, 0, 0);
    }

    void onReadlink(final ClientSession session, final long correlationId, final Share share, final String path)
    {
        metadata.submit(session, MessageType.READLINK, correlationId, share, path, 0, 0);
    }

    void onList(
        final ClientSession session, final long correlationId, final Share share, final String path, final long cookie,
        final int maxEntries) throws RequestException
    {
        requireTree(session, share);
        metadata.submit(session, MessageType.LIST, correlationId, share, path, cookie, maxEntries);
    }

    /**
     * ADVANCE: move the session to the share's current tree version; its open handles keep theirs.
     */
    void onAdvance(final ClientSession session, final long correlationId, final Share share) throws RequestException
    {
        final TreeVersion from = requireTree(session, share);
        final TreeVersion to = share.tree().advance(from);
        session.tree(share, to);
        responder.sendAdvanced(session, correlationId, share, to);
    }

    /**
     * RESUME: after a broker restart, put the session back on the version directory it held (docs/versions.md). A
     * version this broker holds open already is taken at once; another is looked up on a metadata worker.
     */
    void onResume(final ClientSession session, final long correlationId, final Share share, final TreeIdentity wanted)
        throws RequestException
    {
        final TreeVersion from = requireTree(session, share);
        final TreeVersion known = share.tree().isVersioned() && wanted.isPresent() ? share.tree().find(wanted) : from;
        if (null != known)
        {
            session.tree(share, share.tree().move(from, known));
            responder.sendAdvanced(session, correlationId, share, known);
            return;
        }
        metadata.submitResume(session, correlationId, share, wanted);
    }

    /**
     * A RESUME's lookup is back: serve that directory again and move the session onto it, or, when it is gone, leave
     * the session where it is (the current version at attach) and say so in the log.
     */
    private void onResumed(final ClientSession session, final MetadataTask task) throws RequestException
    {
        final Share share = task.share();
        final TreeVersion from = requireTree(session, share);
        final TreeWatcher.Flip reopened = task.reopened();
        final TreeVersion to;
        if (task.fd() >= 0)
        {
            task.takeFd();
            to = share.tree().move(from, share.tree().resumed(reopened));
            log.clientEvent(INFO, session, "share " + share.name() + ": back on " + reopened.identity() +
                " as tree version " + to.number() + ", as before the broker restarted", clock.time());
        }
        else
        {
            to = from;
            log.clientEvent(INFO, session, "share " + share.name() + ": the tree version it held before the broker " +
                "restarted cannot be served again (" + reopened.reason() + "): stays on version " + to.number() +
                " (" + to.path() + "); its open files there answer STALE unless unchanged", clock.time());
        }
        session.tree(share, to);
        responder.sendAdvanced(session, task.correlationId(), share, to);
    }

    private static TreeVersion requireTree(final ClientSession session, final Share share) throws RequestException
    {
        final TreeVersion tree = session.tree(share);
        if (null == tree)
        {
            throw new RequestException(ErrorCode.NOT_ATTACHED, "detached: ATTACH again");
        }
        return tree;
    }

    /**
     * The watcher read a link: publish a new current version for agents, or log and count a bad flip.
     */
    private void onFlip(final TreeWatcher.Flip flip)
    {
        final Share share = flip.share();
        final TreeVersion version = share.tree().onFlip(flip);
        if (null != flip.reason())
        {
            LOG.log(WARNING, "share " + share.name() + ": bad flip kept version " + share.tree().current().number() +
                " (" + share.tree().current().path() + "): " + flip.reason());
        }
        else if (null != version)
        {
            share.region().publishNewestTreeVersion(version.number());
            LOG.log(INFO, "share " + share.name() + ": tree version " + version.number() + " is " + version.path());
        }
    }

    private void requireHandleRoom(final ClientSession session) throws RequestException
    {
        if (session.guest().handles() >= config.maxHandlesPerGuest())
        {
            throw new RequestException(ErrorCode.QUOTA_EXCEEDED, "guest " + session.guest().name() +
                " reached its quota of " + config.maxHandlesPerGuest() + " open files");
        }
    }

    /**
     * A metadata task is back from its worker: apply it (OPEN registers the version and adds the handle) and answer.
     */
    private void onMetadataComplete(final MetadataTask task)
    {
        final ClientSession session = task.session();
        if (!task.isLive())
        {
            return;
        }
        try
        {
            if (null != task.error())
            {
                throw new RequestException(task.error(), task.errorMessage());
            }
            switch (task.type())
            {
                case MessageType.OPEN:
                {
                    // Checked again: other OPENs of the guest may have completed since this one was submitted.
                    requireHandleRoom(session);
                    final FileVersion version = task.share().catalog().register(task.path(), task.takeFd(), task.stat());
                    version.addHandle();
                    final Handle handle = new Handle(handleIdBase | session.nextHandleId(), version, task.tree());
                    task.share().tree().handleOpened(task.tree());
                    session.addHandle(handle);
                    counters.opened();
                    responder.sendOpened(session, task.correlationId(), handle);
                    break;
                }
                case MessageType.STAT:
                    responder.sendStat(session, task.correlationId(), task.attributes());
                    break;
                case MessageType.READLINK:
                    responder.sendReadlink(session, task.correlationId(), task.share(), task.linkTarget());
                    break;
                case MessageType.RESUME:
                    onResumed(session, task);
                    break;
                default:
                    responder.send(session, MessageType.LIST_RESULT, task.page(), task.pageLength());
                    break;
            }
        }
        catch (final RequestException ex)
        {
            responder.sendError(session, task.correlationId(), task.type(), ex.code(), ex.getMessage());
        }
    }

    void onAcquire(final ClientSession session, final long correlationId, final long handleId, final long fileWindow)
        throws RequestException
    {
        acquisition.onAcquire(session, handle(session, handleId), correlationId, fileWindow);
    }

    void onRelease(final ClientSession session, final long handleId, final long fileWindow) throws RequestException
    {
        if (WindowRequest.HELD_WINDOW_HANDLE == handleId)
        {
            if (!ledger.unhold(session, fileWindow))
            {
                throw new RequestException(ErrorCode.MALFORMED, "RELEASE of a held window this client does not hold");
            }
            return;
        }
        final Handle handle = handle(session, handleId);
        if (!ledger.unpin(session, handle, fileWindow))
        {
            throw new RequestException(ErrorCode.MALFORMED,
                "RELEASE of window " + fileWindow + " that handle " + handle.id() + " does not hold");
        }
        counters.release();
    }

    void onCloseHandle(final ClientSession session, final long correlationId, final long handleId)
        throws RequestException
    {
        final Handle handle = handle(session, handleId);
        session.removeHandle(handle);
        closeHandle(session, handle);
        responder.sendSimple(session, MessageType.CLOSED, correlationId);
    }

    void onHold(
        final ClientSession session, final long correlationId, final Share share, final int window,
        final long generation) throws RequestException
    {
        if (session.guest().pins() >= config.maxPinsPerGuest())
        {
            throw WindowAcquisition.pinQuotaExceeded(session.guest(), config);
        }
        if (!ledger.hold(session, share, window, generation))
        {
            throw new RequestException(ErrorCode.BAD_HANDLE, "window " + window + " of share " + share.name() +
                " is not a window of the previous broker at generation " + generation);
        }
        responder.sendSimple(session, MessageType.HELD, correlationId);
    }

    void onDetach(final ClientSession session, final long correlationId)
    {
        releaseAll(session);
        responder.sendSimple(session, MessageType.DETACHED, correlationId);
    }

    /**
     * Take back the pins of windows that clients retain but do not read, so the windows can be evicted; called only
     * when a share has no window to give or a guest is at its pin quota.
     *
     * @param share      only windows of this share; null for any.
     * @param onlyGuest  only clients of this guest; null for every guest.
     * @return pins dropped.
     */
    @Override
    public int reclaimRetained(final Share share, final GuestControl onlyGuest)
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

    private int reclaimRetained(final ClientSession session, final Share share)
    {
        final RetainedWindowsTable table = session.retainedWindows();
        int dropped = 0;
        for (int i = 0, n = table.capacity(); i < n; i++)
        {
            final long state = table.state(i);
            if (RetainedWindowsDescriptor.RETAINED != RetainedWindowsDescriptor.kind(state))
            {
                continue;
            }
            // Read before the swap: a successful swap proves these were written for this very state.
            final Handle handle = session.handles().get(table.handleId(i));
            final long fileWindow = table.fileWindow(i);
            if (null != handle && null != share && handle.version().share() != share)
            {
                continue;
            }
            if (table.reclaim(i, state) && null != handle && ledger.unpin(session, handle, fileWindow))
            {
                dropped++;
            }
        }
        return dropped;
    }

    private int housekeeping(final long now)
    {
        int work = inspectIfAsked();
        if (quarantine.endIfDue(now))
        {
            acquisition.retryDeferred();
            work++;
        }
        work += leases.check(now, expiry);
        counters.sample(now);
        work += publishVersions();
        return work;
    }

    /**
     * Hand the watcher the versions file of each share whose versions or users changed, for {@code pcb versions}.
     */
    private int publishVersions()
    {
        int work = 0;
        for (final Share share : shares)
        {
            if (share.tree().takeChanged())
            {
                watcher.publish(share, VersionsReport.build(epoch, share, guests));
                work++;
            }
        }
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

    /**
     * Free the slot of a client and everything it held; the other clients are not affected.
     */
    void detach(final ClientSession session, final String reason)
    {
        if (!session.isActive())
        {
            return;
        }
        log.clientEvent(WARNING, session, "detached: " + reason, clock.time());
        activeChanged = true;
        counters.clientDetached();
        releaseAll(session);
        session.reset(true);
    }

    private void detachUnanswerable()
    {
        for (final ClientResponder.Detach detach : responder.takeDetaches())
        {
            if (detach.session().sessionId() == detach.sessionId())
            {
                detach(detach.session(), detach.reason());
            }
        }
    }

    private void releaseAll(final ClientSession session)
    {
        ledger.unholdAll(session);
        final List<Handle> handles = new ArrayList<>(session.handles().values());
        for (final Handle handle : handles)
        {
            session.removeHandle(handle);
            closeHandle(session, handle);
        }
        leaveTrees(session);
    }

    private static void leaveTrees(final ClientSession session)
    {
        for (final Share share : session.guest().shares())
        {
            final TreeVersion tree = session.tree(share);
            if (null != tree)
            {
                session.tree(share, null);
                share.tree().leave(tree);
            }
        }
    }

    private void closeHandle(final ClientSession session, final Handle handle)
    {
        ledger.unpinAll(session, handle);
        final FileVersion version = handle.version();
        final Share share = version.share();
        if (1 == version.handles())
        {
            share.catalog().lastHandleClosing(version);
        }
        version.removeHandle();
        share.tree().handleClosed(handle.tree());
        share.reclaim(version);
        share.catalog().forgetIfUnused(version);
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
}
