package dev.pcb.broker;

import dev.pcb.layout.WindowDescriptor;
import dev.pcb.protocol.ErrorCode;
import dev.pcb.protocol.MessageType;
import org.agrona.concurrent.ManyToOneConcurrentArrayQueue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executor;
import java.util.function.Consumer;

import static java.lang.System.Logger.Level.INFO;
import static java.lang.System.Logger.Level.WARNING;

/**
 * ACQUIRE: pin a window for a client and answer now (hit), when its fill ends (miss), or later still when room is
 * held up by read-ahead fills or quarantined windows (deferred). Also small files packed many to a window, read-ahead
 * for readers going through a file in order, and the completions of fills.
 * <p>
 * Fills run on the executor passed in (filler threads in the broker; the test runs them when it chooses), at most
 * {@link BrokerConfig#fillThreadsPerShare()} of a share at once ({@link FillScheduler}), and come back through a queue
 * the conductor drains with {@link #drainCompletions}. Conductor thread only.
 */
final class WindowAcquisition
{
    /**
     * Takes back pins of windows that clients retain but do not read.
     */
    interface RetainedReclaimer
    {
        /**
         * @param share     only windows of this share; null for any.
         * @param onlyGuest only clients of this guest; null for every guest.
         * @return pins dropped.
         */
        int reclaimRetained(Share share, GuestControl onlyGuest);
    }

    private static final System.Logger LOG = System.getLogger("pcb.broker");
    private static final int COMPLETIONS_PER_CYCLE = 64;

    private final BrokerConfig config;
    private final PinLedger ledger;
    private final ClientResponder responder;
    private final BrokerCounters counters;
    private final FillScheduler fillers;
    private final Runnable fillerBell;
    private final RestartQuarantine quarantine;
    private final RetainedReclaimer reclaimer;
    private final ManyToOneConcurrentArrayQueue<FillTask> completions = new ManyToOneConcurrentArrayQueue<>(4096);
    // Held in a field: a method reference at the call site would allocate on every drain.
    private final Consumer<FillTask> fillCompletionHandler = this::onFillComplete;
    // ACQUIREs waiting for read-ahead fills or the end of quarantine because no window was free; rare, so a list.
    private final List<Deferred> deferred = new ArrayList<>();
    private int readAheadInFlight;

    private record Deferred(FillTask.Waiter waiter, long fileWindow)
    {
    }

    WindowAcquisition(
        final BrokerConfig config,
        final PinLedger ledger,
        final ClientResponder responder,
        final BrokerCounters counters,
        final Executor fillers,
        final List<Share> shares,
        final Runnable fillerBell,
        final RestartQuarantine quarantine,
        final RetainedReclaimer reclaimer)
    {
        this.config = config;
        this.ledger = ledger;
        this.responder = responder;
        this.counters = counters;
        this.fillers = new FillScheduler(fillers, config.fillThreadsPerShare(), shares);
        this.fillerBell = fillerBell;
        this.quarantine = quarantine;
        this.reclaimer = reclaimer;
    }

    /**
     * A decoded ACQUIRE of a handle the client has open.
     */
    void onAcquire(final ClientSession session, final Handle handle, final long correlationId, final long fileWindow)
        throws RequestException
    {
        final FileVersion version = handle.version();
        // Compared as window counts, never as fileWindow * windowSize: a guest's index must not overflow into range.
        if (fileWindow < 0 || fileWindow >= windowCount(version))
        {
            throw new RequestException(ErrorCode.BEYOND_EOF,
                version.displayPath() + ": window " + fileWindow + " is past the end (" + version.size() + " bytes)");
        }
        acquire(session, handle, correlationId, fileWindow);
    }

    /**
     * Windows a version spans; a packed file spans its one slot.
     */
    private static long windowCount(final FileVersion version)
    {
        final long windowSize = version.share().region().windowSize();
        return (version.size() + windowSize - 1) / windowSize;
    }

    private void acquire(final ClientSession session, final Handle handle, final long correlationId, final long fileWindow)
        throws RequestException
    {
        final FileVersion version = handle.version();
        final Share share = version.share();
        final int windowSize = share.region().windowSize();
        if (session.guest().pins() >= config.maxPinsPerGuest() &&
            (0 == reclaimer.reclaimRetained(null, session.guest()) ||
            session.guest().pins() >= config.maxPinsPerGuest()))
        {
            throw pinQuotaExceeded(session.guest(), config);
        }

        final WindowTable table = share.windows();
        if (version.size() <= config.packThreshold())
        {
            acquirePacked(session, handle, correlationId, table);
            return;
        }
        final boolean sequential = version.acquired(fileWindow);
        int window = version.windowOf(fileWindow);
        final long fileOffset = fileWindow * windowSize;
        final int length = (int)Math.min(windowSize, version.size() - fileOffset);
        if (WindowTable.NONE != window && WindowDescriptor.STATE_READY == table.state(window))
        {
            ledger.pin(session, handle, table, window, fileWindow);
            counters.hit();
            responder.sendAcquired(session, correlationId, handle.id(), fileWindow, share, window, 0, length);
        }
        else if (WindowTable.NONE != window)
        {
            counters.miss();
            share.fills()[window].waiters().add(
                new FillTask.Waiter(session, session.sessionId(), handle, correlationId));
            ledger.pin(session, handle, table, window, fileWindow);
        }
        else
        {
            if (version.isStale())
            {
                counters.stale();
                throw new RequestException(ErrorCode.STALE,
                    version.displayPath() + ": changed on the host since it was opened");
            }
            window = table.allocate(version, fileWindow, fileOffset, length);
            if (WindowTable.NONE == window && reclaimer.reclaimRetained(share, null) > 0)
            {
                window = table.allocate(version, fileWindow, fileOffset, length);
            }
            if (WindowTable.NONE == window)
            {
                noSpace(session, handle, correlationId, fileWindow, table);
                return;
            }
            counters.miss();
            final FillTask fill = newFill(version, window, fileWindow, fileOffset, length);
            fill.waiters().add(new FillTask.Waiter(session, session.sessionId(), handle, correlationId));
            ledger.pin(session, handle, table, window, fileWindow);
            fillers.submit(fill);
        }
        if (sequential)
        {
            readAhead(version, fileWindow);
        }
    }

    /**
     * The refusal of a pin beyond the guest's quota, for ACQUIRE and HOLD alike.
     */
    static RequestException pinQuotaExceeded(final GuestControl guest, final BrokerConfig config)
    {
        return new RequestException(ErrorCode.QUOTA_EXCEEDED, "guest " + guest.name() + " reached its quota of " +
            config.maxPinsPerGuest() + " pinned windows");
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
        if (readAheadInFlight > 0 || quarantine.isHolding(table))
        {
            deferred.add(new Deferred(new FillTask.Waiter(session, session.sessionId(), handle, correlationId),
                fileWindow));
            return;
        }
        counters.noSpace();
        throw new RequestException(ErrorCode.NO_SPACE, "all " + table.count() + " windows of share " +
            handle.version().share().name() + " are pinned; release some or enlarge --region-size");
    }

    /**
     * Try the deferred ACQUIREs again: a fill ended or the quarantine did.
     */
    void retryDeferred()
    {
        if (deferred.isEmpty())
        {
            return;
        }
        final List<Deferred> retry = new ArrayList<>(deferred);
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
                    responder.sendError(
                        waiter.session(), waiter.correlationId(), MessageType.ACQUIRE, ex.code(), ex.getMessage());
                }
            }
        }
    }

    private FillTask newFill(
        final FileVersion version, final int window, final long fileWindow, final long fileOffset, final int length)
    {
        final Share share = version.share();
        final FillTask fill = new FillTask(share, version, window, fileWindow, fileOffset, length, 0,
            config.dropSourceCache(), completions, fillerBell);
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
        final long lastWindow = windowCount(version) - 1;
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
            fillers.submit(fill);
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
            ledger.pin(session, handle, table, window, 0);
            counters.hit();
            responder.sendAcquired(session, correlationId, handle.id(), 0, share, window, version.packedOffset(),
                (int)version.size());
            return;
        }
        if (WindowTable.NONE != window)
        {
            counters.miss();
            version.packedFill().waiters().add(new FillTask.Waiter(session, session.sessionId(), handle, correlationId));
            ledger.pin(session, handle, table, window, 0);
            return;
        }
        if (version.isStale())
        {
            counters.stale();
            throw new RequestException(ErrorCode.STALE, version.displayPath() + ": changed on the host since it was opened");
        }
        window = table.allocatePacked(version, (int)version.size());
        if (WindowTable.NONE == window && reclaimer.reclaimRetained(share, null) > 0)
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
            config.dropSourceCache(), completions, fillerBell);
        version.packedFill(fill);
        table.packFillStarted(window);
        version.fillStarted();
        fill.waiters().add(new FillTask.Waiter(session, session.sessionId(), handle, correlationId));
        ledger.pin(session, handle, table, window, 0);
        fillers.submit(fill);
    }

    /**
     * Handle the fills that have ended, then retry deferred ACQUIREs if any did.
     *
     * @return completions handled.
     */
    int drainCompletions()
    {
        final int drained = completions.drain(fillCompletionHandler, COMPLETIONS_PER_CYCLE);
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
            fillers.finished(fill);
            version.fillEnded();
            share.catalog().forgetIfUnused(version);
            return;
        }
        final WindowTable table = share.windows();
        final int window = fill.window();
        final boolean packed = version.packedFill() == fill;
        if (!fill.dropsSourceCache())
        {
            fillers.finished(fill);
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
                    responder.sendAcquired(waiter.session(), waiter.correlationId(), waiter.handle().id(),
                        fill.fileWindow(), share, window, fill.offsetInWindow(), fill.length());
                }
            }
            share.reclaim(version);
            return;
        }

        if (ErrorCode.STALE == fill.failure())
        {
            version.markStale();
        }
        failWaiters(fill);
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
        LOG.log(INFO, () -> "fill of " + ErrorLog.printable(version.path()) + " window " + fill.fileWindow() +
            " failed: " + ErrorLog.printable(fill.failureMessage()));
    }

    private void failWaiters(final FillTask fill)
    {
        for (final FillTask.Waiter waiter : fill.waiters())
        {
            if (isLive(waiter))
            {
                if (ErrorCode.STALE == fill.failure())
                {
                    counters.stale();
                }
                ledger.unpin(waiter.session(), waiter.handle(), fill.fileWindow());
                responder.sendError(waiter.session(), waiter.correlationId(), MessageType.ACQUIRE, fill.failure(),
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
}
