package dev.pcb.broker;

import dev.pcb.nativeshim.Linux;
import dev.pcb.protocol.TreeIdentity;

/**
 * One version directory of a share (docs/versions.md): the directory a session's OPEN, STAT and LIST resolve
 * beneath, held by a descriptor so it stays readable even after the host removes it.
 * <p>
 * Counted by the conductor, its only user: client sessions on it, handles opened under it, and metadata requests
 * in flight on a worker (so the descriptor is never closed under a worker). A version that is not current and has
 * none of the three is unused: its descriptor is closed, its record kept for {@code pcb versions}.
 */
final class TreeVersion
{
    private final long number;
    private final String path;
    private final TreeIdentity identity;
    private int rootFd;
    private int sessions;
    private int handles;
    private int inFlight;

    TreeVersion(final long number, final String path, final int rootFd, final TreeIdentity identity)
    {
        this.number = number;
        this.path = path;
        this.rootFd = rootFd;
        this.identity = identity;
    }

    /** @return the version number: 1 for the first, one more at each good flip. */
    long number()
    {
        return number;
    }

    /** @return the version directory's real path as the broker resolved it. */
    String path()
    {
        return path;
    }

    /**
     * @return what names this version directory across a broker restart: its path beside the link, device and
     * inode; {@link TreeIdentity#NONE} for a plain directory share.
     */
    TreeIdentity identity()
    {
        return identity;
    }

    /** @return the descriptor paths resolve beneath, or -1 once the version was unused and closed. */
    int rootFd()
    {
        return rootFd;
    }

    int sessions()
    {
        return sessions;
    }

    int handles()
    {
        return handles;
    }

    void sessionEntered()
    {
        sessions++;
    }

    void sessionLeft()
    {
        sessions--;
    }

    void handleOpened()
    {
        handles++;
    }

    void handleClosed()
    {
        handles--;
    }

    void requestSubmitted()
    {
        inFlight++;
    }

    void requestCompleted()
    {
        inFlight--;
    }

    /**
     * @return true when no session, handle or request is on this version.
     */
    boolean isUnused()
    {
        return 0 == sessions && 0 == handles && 0 == inFlight;
    }

    /**
     * Close the descriptor; the caller checked the version is unused and not current.
     */
    void closeRoot()
    {
        if (rootFd >= 0)
        {
            Linux.close(rootFd);
            rootFd = -1;
        }
    }
}
