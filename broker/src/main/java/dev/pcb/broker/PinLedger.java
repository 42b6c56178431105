package dev.pcb.broker;

import dev.pcb.protocol.WindowRequest;
import org.agrona.collections.Long2LongHashMap;

/**
 * The only place pins change. A pin is counted four times: by the window table (a pinned window is never evicted),
 * by the handle (what CLOSE gives back), by the client session and by its guest (the pin quota). Every operation
 * here settles all four together, or none of them, so the counts cannot drift apart whatever order RELEASE, CLOSE,
 * detach and fill completions come in.
 * <p>
 * Windows claimed with HOLD after a restart have no handle: they are counted by the window table, the session's
 * held-window map, the session and the guest.
 * <p>
 * Conductor thread only.
 */
final class PinLedger
{
    /**
     * Pin a window a handle reads.
     *
     * @param session    the client.
     * @param handle     its handle of the window's version.
     * @param table      the share's window table.
     * @param window     the region window.
     * @param fileWindow the window's index in the file (0 for a packed file).
     */
    void pin(
        final ClientSession session, final Handle handle, final WindowTable table, final int window, final long fileWindow)
    {
        table.pin(window);
        handle.pin(fileWindow);
        session.pinned();
    }

    /**
     * Give back one pin a handle holds on a file window.
     *
     * @return false, with nothing changed, when the handle does not pin that window.
     */
    boolean unpin(final ClientSession session, final Handle handle, final long fileWindow)
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
     * Give back every pin of a handle, as CLOSE and detach do.
     */
    void unpinAll(final ClientSession session, final Handle handle)
    {
        final FileVersion version = handle.version();
        final WindowTable table = version.share().windows();
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
    }

    /**
     * Pin a window of the previous broker that a client still reads (HOLD).
     *
     * @return false, with nothing changed, when the window is not quarantined at that generation.
     */
    boolean hold(final ClientSession session, final Share share, final int window, final long generation)
    {
        if (!share.windows().hold(window, generation))
        {
            return false;
        }
        final long key = WindowRequest.heldWindow(share.id(), window);
        session.heldWindows().put(key, session.heldWindows().get(key) + 1);
        session.pinned();
        return true;
    }

    /**
     * Give back one HOLD pin.
     *
     * @param key {@code shareId << 32 | regionWindow}, as RELEASE carries it.
     * @return false, with nothing changed, when the client does not hold that window.
     */
    boolean unhold(final ClientSession session, final long key)
    {
        final long count = session.heldWindows().get(key);
        final Share share = session.guest().share((int)(key >>> 32));
        if (count <= 0 || null == share || !share.windows().unhold((int)key))
        {
            return false;
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
        return true;
    }

    /**
     * Give back every HOLD pin of a client; its handles are closed one by one with {@link #unpinAll(ClientSession,
     * Handle)}.
     */
    void unholdAll(final ClientSession session)
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
    }
}
