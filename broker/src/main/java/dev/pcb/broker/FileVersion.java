package dev.pcb.broker;

import dev.pcb.protocol.FileAttributes;
import org.agrona.collections.Long2LongHashMap;

/**
 * One version of one file: identity (device, inode) and content version (size, mtime) fixed at the open that
 * created it. Handles pin a version; windows hold its bytes. The broker keeps the version's file descriptor open
 * while any handle or fill needs it, so a host {@code rm} or {@code mv} over the path does not disturb readers.
 * <p>
 * Conductor thread only, except {@link #fd()} and the attributes, read by fillers while a fill is in flight (the
 * fd stays open until every fill of the version completed).
 */
final class FileVersion
{
    private final long id;
    private final Share share;
    private final FileAttributes attributes = new FileAttributes();
    private final Long2LongHashMap windows = new Long2LongHashMap(WindowTable.NONE);
    private final String path;
    private int fd;
    private int handles;
    private int fillsInFlight;
    private long lastAcquired = -1;
    private boolean stale;
    private boolean superseded;
    private int packedOffset = -1;
    private boolean packedReady;
    private FillTask packedFill;

    FileVersion(final long id, final Share share, final String path, final int fd, final FileAttributes attributes)
    {
        this.id = id;
        this.share = share;
        this.path = path;
        this.fd = fd;
        this.attributes.copyFrom(attributes);
    }

    long id()
    {
        return id;
    }

    Share share()
    {
        return share;
    }

    String path()
    {
        return path;
    }

    /**
     * Path as guests name it, {@code share/relative}, for messages.
     */
    String displayPath()
    {
        return share.name() + "/" + path;
    }

    FileAttributes attributes()
    {
        return attributes;
    }

    long size()
    {
        return attributes.size();
    }

    int fd()
    {
        return fd;
    }

    boolean hasFd()
    {
        return fd >= 0;
    }

    /**
     * Give a cached version a descriptor again when a new open finds the same identity and version.
     */
    void reopen(final int newFd)
    {
        if (fd >= 0)
        {
            share.closeLater(newFd);
        }
        else
        {
            fd = newFd;
        }
    }

    int handles()
    {
        return handles;
    }

    void addHandle()
    {
        handles++;
    }

    void removeHandle()
    {
        handles--;
        maybeCloseFd();
    }

    void fillStarted()
    {
        fillsInFlight++;
    }

    void fillEnded()
    {
        fillsInFlight--;
        maybeCloseFd();
    }

    boolean isStale()
    {
        return stale;
    }

    void markStale()
    {
        stale = true;
    }

    boolean isSuperseded()
    {
        return superseded;
    }

    void markSuperseded()
    {
        superseded = true;
    }

    /**
     * No handle holds this version and no new open can reach it: its windows are garbage, reclaimed first.
     */
    boolean isReclaimable()
    {
        return 0 == handles && (stale || superseded);
    }

    /**
     * Nothing refers to this version any more: the catalog may forget it.
     */
    boolean isUnused()
    {
        return 0 == handles && 0 == fillsInFlight && windows.isEmpty();
    }

    /**
     * Note an ACQUIRE of a window of this version, from any client.
     *
     * @return true when it reads on in order: window 0, or the window after the previous ACQUIRE's.
     */
    boolean acquired(final long fileWindow)
    {
        final boolean sequential = 0 == fileWindow || lastAcquired + 1 == fileWindow;
        lastAcquired = fileWindow;
        return sequential;
    }

    int windowOf(final long fileWindow)
    {
        return (int)windows.get(fileWindow);
    }

    void putWindow(final long fileWindow, final int window)
    {
        windows.put(fileWindow, window);
    }

    void removeWindow(final long fileWindow, final int window)
    {
        if (windows.get(fileWindow) == window)
        {
            windows.remove(fileWindow);
            if (packedOffset >= 0)
            {
                packedOffset = -1;
                packedReady = false;
            }
        }
        share.catalog().forgetIfUnused(this);
    }

    /**
     * This small file has a slot in a packed window at this offset.
     */
    void packedAt(final int window, final int offset)
    {
        packedOffset = offset;
        packedReady = false;
    }

    boolean isPacked()
    {
        return packedOffset >= 0;
    }

    int packedOffset()
    {
        return packedOffset;
    }

    boolean isPackedReady()
    {
        return packedReady;
    }

    void packedFilled()
    {
        packedReady = true;
    }

    FillTask packedFill()
    {
        return packedFill;
    }

    void packedFill(final FillTask fill)
    {
        packedFill = fill;
    }

    int windowCount()
    {
        return windows.size();
    }

    /**
     * Region windows of this version, for reclamation.
     */
    int[] regionWindows()
    {
        final int[] result = new int[windows.size()];
        final Long2LongHashMap.ValueIterator it = windows.values().iterator();
        int i = 0;
        while (it.hasNext())
        {
            result[i++] = (int)it.nextValue();
        }
        return result;
    }

    private void maybeCloseFd()
    {
        if (0 == handles && 0 == fillsInFlight && fd >= 0)
        {
            share.closeLater(fd);
            fd = -1;
        }
    }

    /** {@inheritDoc} */
    public String toString()
    {
        return "FileVersion{id=" + id + ", share=" + share.name() + ", path=" + path + ", size=" + attributes.size() +
            ", handles=" + handles + ", windows=" + windows.size() + ", stale=" + stale +
            ", superseded=" + superseded + '}';
    }
}
