package dev.pcb.agent;

import dev.pcb.protocol.ErrorCode;
import dev.pcb.protocol.FileAttributes;
import dev.pcb.protocol.OpenedResponse;
import dev.pcb.protocol.MessageType;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.SeekableByteChannel;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * An open file: one version of it, fixed when it was opened. Every byte read through it comes from that version,
 * or the read fails with {@link StaleFileException}; a host {@code rm} or {@code mv} over the file does not
 * disturb it.
 * <p>
 * Safe to use from many threads. Acquiring a window this process already holds costs an atomic increment and no
 * message; the first acquire of a window asks the broker to pin it. {@link #close()} waits for nothing: if views are
 * still held, the handle is closed at the broker when the last of them is closed.
 */
public final class PcbFile implements AutoCloseable
{
    private final PcbAgent agent;
    private final ClientChannel channel;
    private final ShareRegion share;
    private final String path;
    private final String relativePath;
    private volatile long handleId;
    private volatile String staleReason;
    private final long versionId;
    private final FileAttributes attributes;
    private final int windowSize;
    private final long windowCount;
    private final AtomicReferenceArray<WindowView> views;
    private final RetainedWindows retained;
    private final AtomicInteger held = new AtomicInteger();
    private final AtomicBoolean closeSent = new AtomicBoolean();
    private volatile boolean closing;

    PcbFile(
        final PcbAgent agent,
        final ClientChannel channel,
        final ShareRegion share,
        final String path,
        final String relativePath,
        final long handleId,
        final long versionId,
        final FileAttributes attributes,
        final int windowSize)
    {
        this.agent = agent;
        this.channel = channel;
        this.retained = agent.retained();
        this.share = share;
        this.path = path;
        this.relativePath = relativePath;
        this.handleId = handleId;
        this.versionId = versionId;
        this.attributes = attributes;
        this.windowSize = windowSize;
        this.windowCount = (attributes.size() + windowSize - 1) / windowSize;
        if (windowCount > Integer.MAX_VALUE)
        {
            throw new IllegalStateException(path + ": too many windows: " + windowCount);
        }
        this.views = new AtomicReferenceArray<>((int)windowCount);
    }

    /** @return the path as opened, "share/relative/path". */
    public String path()
    {
        return path;
    }

    /** @return the size of the opened version. */
    public long size()
    {
        return attributes.size();
    }

    /** @return the attributes of the opened version. */
    public FileAttributes attributes()
    {
        return attributes;
    }

    /** @return the broker's id of the opened version. */
    public long versionId()
    {
        return versionId;
    }

    /** @return bytes per window: window i holds bytes [i * windowSize, (i + 1) * windowSize). */
    public int windowSize()
    {
        return windowSize;
    }

    /** @return windows in the file; 0 for an empty file. */
    public long windowCount()
    {
        return windowCount;
    }

    /** @return the share the file is in. */
    public ShareRegion share()
    {
        return share;
    }

    /**
     * Pin a window and view it in place. Match with exactly one {@link WindowView#close()}.
     *
     * @param fileWindow index of the window, 0 to {@link #windowCount()} - 1.
     * @return the view.
     * @throws StaleFileException when the file changed on the host and this window was not in memory.
     * @throws PcbException       on any other refusal, for example NO_SPACE when every window is pinned.
     */
    public WindowView acquire(final long fileWindow) throws PcbException
    {
        if (fileWindow < 0 || fileWindow >= windowCount)
        {
            throw new PcbException(ErrorCode.BEYOND_EOF,
                path + ": window " + fileWindow + " outside 0.." + (windowCount - 1));
        }
        final int index = (int)fileWindow;
        WindowView view = views.get(index);
        if (null != view && view.tryRetain())
        {
            return view;
        }
        if (closing)
        {
            throw new PcbException(ErrorCode.BAD_HANDLE, path + ": file is closed");
        }
        final String stale = staleReason;
        if (null != stale)
        {
            throw new StaleFileException(path + ": " + stale);
        }
        if (null == view)
        {
            views.compareAndSet(index, null, new WindowView(this, fileWindow));
            view = views.get(index);
        }
        return acquireFromBroker(view);
    }

    private WindowView acquireFromBroker(final WindowView view) throws PcbException
    {
        for (int attempt = 1; ; attempt++)
        {
            // Outside the window's lock: the re-attach after a restart takes it to forget the window's retained pin.
            channel.awaitServing();
            // One lock per window, taken only on the way to the broker: threads after the same window wait for one
            // answer instead of pinning it twice; other windows proceed.
            synchronized (view)
            {
                if (view.tryRetain())
                {
                    return view;
                }
                // Not from a broker that is gone or has detached this client: its pins may be gone with it.
                if (null == channel.brokerFailure() && retained.revive(view, channel.epoch()))
                {
                    view.revived();
                    return view;
                }
                // Prepared again on each attempt: a retry after a restart must carry the new broker's handle id.
                final Call call = channel.prepare();
                try
                {
                    final String stale = staleReason;
                    if (null != stale)
                    {
                        throw new StaleFileException(path + ": " + stale);
                    }
                    final int type = channel.callUnderLock(call, MessageType.ACQUIRE,
                        channel.proxy().window(call, handleId, view.fileWindow()));
                    PcbAgent.throwIfError(call, type, MessageType.ACQUIRED);
                }
                catch (final BrokerRestartedException ex)
                {
                    if (attempt == PcbAgent.RESTART_RETRIES)
                    {
                        throw ex;
                    }
                    continue;
                }
                return bind(view, call);
            }
        }
    }

    /** Point a view at the window an ACQUIRED names, after checking it lies inside the share; under its lock. */
    private WindowView bind(final WindowView view, final Call call) throws PcbException
    {
        final int regionWindow = call.acquired.regionWindow();
        final int offsetInWindow = call.acquired.offsetInWindow();
        final int length = call.acquired.length();
        final long fileOffset = view.fileWindow() * windowSize;
        final long expected = Math.min(windowSize, attributes.size() - fileOffset);
        if (regionWindow < 0 || regionWindow >= share.windowCount() || offsetInWindow < 0 ||
            length != expected || (long)offsetInWindow + length > share.windowSize())
        {
            throw new PcbException(ErrorCode.MALFORMED, path + ": broker answered an impossible window (" +
                regionWindow + ", " + offsetInWindow + ", " + length + ")");
        }
        view.bind(share.windowAddress(regionWindow) + offsetInWindow, length, fileOffset, regionWindow,
            call.acquired.generation());
        held.incrementAndGet();
        agent.viewAcquired();
        return view;
    }

    /**
     * The last reference to a view is being closed: retain its pin for the next read, or unpin it at the broker.
     *
     * @return false when another thread took a reference meanwhile; the caller closes again.
     */
    boolean lastClosed(final WindowView view)
    {
        synchronized (view)
        {
            if (!view.dropLastReference())
            {
                return false;
            }
            if (!closing && !view.heldAcrossRestart && null == channel.brokerFailure() &&
                retained.retain(view, handleId, channel.epoch()))
            {
                if (closing)
                {
                    retained.releaseOwn(view);
                }
                return true;
            }
            if (!retained.unbind(view))
            {
                return true;
            }
        }
        unpinned(view, true);
        return true;
    }

    /**
     * A pin of this file is gone: count it, and unpin it at the broker if it is still there.
     *
     * @param view    the view whose pin it was.
     * @param release send RELEASE; false when the broker dropped the pin already.
     */
    void unpinned(final WindowView view, final boolean release)
    {
        try
        {
            if (release)
            {
                sendRelease(view);
            }
        }
        finally
        {
            agent.viewReleased();
            if (0 == held.decrementAndGet() && closing)
            {
                sendClose();
            }
        }
    }

    private void sendRelease(final WindowView view)
    {
        try
        {
            final Call call = channel.prepare();
            final int length;
            synchronized (view.recoveryLock)
            {
                if (view.heldAcrossRestart)
                {
                    view.heldAcrossRestart = false;
                    length = channel.proxy().heldWindow(call, share.shareId(), view.regionWindow());
                }
                else
                {
                    length = channel.proxy().window(call, handleId, view.fileWindow());
                }
            }
            channel.send(call, MessageType.RELEASE, length);
        }
        catch (final PcbException ignore)
        {
            // The broker is gone: it dropped every pin of this client with it.
        }
    }

    /**
     * Read bytes at a position into a buffer, across windows.
     *
     * @param position file offset.
     * @param dst      receives up to {@code dst.remaining()} bytes.
     * @return bytes read, or -1 at or past the end.
     * @throws IOException when a window cannot be acquired.
     */
    public int read(final long position, final ByteBuffer dst) throws IOException
    {
        if (position >= attributes.size())
        {
            return -1;
        }
        int total = 0;
        long at = position;
        while (dst.hasRemaining() && at < attributes.size())
        {
            try (WindowView view = acquire(at / windowSize))
            {
                final int offset = (int)(at - view.fileOffset());
                final int n = Math.min(dst.remaining(), view.length() - offset);
                view.buffer().getBytes(offset, dst, n);
                total += n;
                at += n;
            }
        }
        return total;
    }

    /**
     * A channel over the file with its own position; reads cross windows and keep the current one pinned.
     *
     * @return a new read-only channel; closing it does not close this file.
     */
    public SeekableByteChannel newChannel()
    {
        return new PcbChannel(this);
    }

    /**
     * An input stream over the whole file from byte 0.
     *
     * @return a new stream; closing it does not close this file.
     */
    public InputStream newInputStream()
    {
        return new PcbInputStream(this);
    }

    /**
     * Close the handle now, or when the last held view is closed.
     */
    public void close()
    {
        if (!closing)
        {
            closing = true;
            retained.releaseAll(this);
            if (0 == held.get())
            {
                sendClose();
            }
        }
    }

    /**
     * The broker restarted and accepted this client again: claim the windows this process still reads so the new
     * broker never reuses them, then re-open the file. If the host changed it meanwhile, the held views stay
     * readable (they are the old version) and every other window answers STALE.
     */
    void recover(final Call call) throws PcbException
    {
        for (int i = 0, n = views.length(); i < n; i++)
        {
            final WindowView view = views.get(i);
            if (null == view)
            {
                continue;
            }
            synchronized (view.recoveryLock)
            {
                if (view.refs() > 0 && !view.heldAcrossRestart)
                {
                    final int type = channel.call(call, MessageType.HOLD,
                        channel.proxy().hold(call, share.shareId(), view.regionWindow(), view.generation()));
                    PcbAgent.throwIfError(call, type, MessageType.HELD);
                    view.heldAcrossRestart = true;
                }
            }
        }
        if (closing)
        {
            // The old handle closed with the old broker; there is nothing left to close.
            closeSent.set(true);
            agent.fileClosed(this);
            return;
        }
        final int type = channel.call(call, MessageType.OPEN,
            channel.proxy().path(call, share.shareId(), relativePath, 0, 0));
        if (MessageType.ERROR == type)
        {
            staleReason = "could not be opened again after the broker restarted (" +
                call.error.message(call.responseLength) + ")";
            return;
        }
        PcbAgent.throwIfError(call, type, MessageType.OPENED);
        final OpenedResponse opened = new OpenedResponse();
        opened.wrap(call.response, 0);
        final FileAttributes now = opened.getAttributes(new FileAttributes());
        if (now.sameVersionAs(attributes))
        {
            handleId = opened.handleId();
        }
        else
        {
            staleReason = "changed on the host while the broker restarted";
            handleId = opened.handleId();
        }
    }

    private void sendClose()
    {
        if (closeSent.compareAndSet(false, true))
        {
            agent.fileClosed(this);
            try
            {
                final Call call = channel.prepare();
                channel.send(call, MessageType.CLOSE, channel.proxy().window(call, handleId, 0));
            }
            catch (final PcbException ignore)
            {
                // The broker is gone: it closed the handle with the client.
            }
        }
    }

    /** @return views of this file held now. */
    int heldViews()
    {
        return held.get();
    }

    /** {@inheritDoc} */
    public String toString()
    {
        return "PcbFile{" + path + ", size=" + attributes.size() + ", version=" + versionId + '}';
    }
}
