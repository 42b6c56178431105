package dev.pcb.agent;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.NonWritableChannelException;
import java.nio.channels.SeekableByteChannel;

/**
 * A read-only channel over an open file. Keeps the window under its position pinned, so sequential reads acquire
 * each window once. Not thread-safe, like most channels with a position: share the {@link PcbFile}, not the channel.
 */
final class PcbChannel implements SeekableByteChannel
{
    private final PcbFile file;
    private WindowView current;
    private long position;
    private boolean open = true;

    PcbChannel(final PcbFile file)
    {
        this.file = file;
    }

    /** {@inheritDoc} */
    public int read(final ByteBuffer dst) throws IOException
    {
        ensureOpen();
        final long size = file.size();
        if (position >= size)
        {
            return -1;
        }
        int total = 0;
        while (dst.hasRemaining() && position < size)
        {
            final WindowView view = viewAt(position);
            final int offset = (int)(position - view.fileOffset());
            final int n = Math.min(dst.remaining(), view.length() - offset);
            view.buffer().getBytes(offset, dst, n);
            position += n;
            total += n;
        }
        return total;
    }

    private WindowView viewAt(final long at) throws IOException
    {
        final long fileWindow = at / file.windowSize();
        if (null == current || current.fileWindow() != fileWindow)
        {
            releaseCurrent();
            current = file.acquire(fileWindow);
        }
        return current;
    }

    private void releaseCurrent()
    {
        if (null != current)
        {
            final WindowView view = current;
            current = null;
            view.close();
        }
    }

    /** {@inheritDoc} */
    public int write(final ByteBuffer src)
    {
        throw new NonWritableChannelException();
    }

    /** {@inheritDoc} */
    public long position() throws IOException
    {
        ensureOpen();
        return position;
    }

    /** {@inheritDoc} */
    public SeekableByteChannel position(final long newPosition) throws IOException
    {
        ensureOpen();
        if (newPosition < 0)
        {
            throw new IllegalArgumentException("negative position: " + newPosition);
        }
        position = newPosition;
        return this;
    }

    /** {@inheritDoc} */
    public long size() throws IOException
    {
        ensureOpen();
        return file.size();
    }

    /** {@inheritDoc} */
    public SeekableByteChannel truncate(final long size)
    {
        throw new NonWritableChannelException();
    }

    /** {@inheritDoc} */
    public boolean isOpen()
    {
        return open;
    }

    /** {@inheritDoc} */
    public void close()
    {
        if (open)
        {
            open = false;
            releaseCurrent();
        }
    }

    private void ensureOpen() throws ClosedChannelException
    {
        if (!open)
        {
            throw new ClosedChannelException();
        }
    }
}
