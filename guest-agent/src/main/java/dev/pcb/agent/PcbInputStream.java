package dev.pcb.agent;

import java.io.IOException;
import java.io.InputStream;

/**
 * An input stream over an open file, copying straight from the pinned window into the caller's array. Keeps the
 * current window pinned between reads. Not thread-safe, like any stream.
 */
final class PcbInputStream extends InputStream
{
    private final PcbFile file;
    private WindowView current;
    private long position;
    private long mark;
    private boolean closed;

    PcbInputStream(final PcbFile file)
    {
        this.file = file;
    }

    /** {@inheritDoc} */
    public int read() throws IOException
    {
        final byte[] one = new byte[1];
        return read(one, 0, 1) < 0 ? -1 : one[0] & 0xFF;
    }

    /** {@inheritDoc} */
    public int read(final byte[] b, final int off, final int len) throws IOException
    {
        if (closed)
        {
            throw new IOException("stream closed");
        }
        java.util.Objects.checkFromIndexSize(off, len, b.length);
        if (0 == len)
        {
            return 0;
        }
        if (position >= file.size())
        {
            return -1;
        }
        final long fileWindow = position / file.windowSize();
        if (null == current || current.fileWindow() != fileWindow)
        {
            releaseCurrent();
            current = file.acquire(fileWindow);
        }
        final int offset = (int)(position - current.fileOffset());
        final int n = Math.min(len, current.length() - offset);
        current.buffer().getBytes(offset, b, off, n);
        position += n;
        return n;
    }

    /** {@inheritDoc} */
    public long skip(final long n)
    {
        final long skipped = Math.max(0, Math.min(n, file.size() - position));
        position += skipped;
        return skipped;
    }

    /** {@inheritDoc} */
    public int available()
    {
        return (int)Math.min(Integer.MAX_VALUE, Math.max(0, file.size() - position));
    }

    /** {@inheritDoc} */
    public boolean markSupported()
    {
        return true;
    }

    /** {@inheritDoc} */
    public void mark(final int readLimit)
    {
        mark = position;
    }

    /** {@inheritDoc} */
    public void reset()
    {
        position = mark;
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
    public void close()
    {
        if (!closed)
        {
            closed = true;
            releaseCurrent();
        }
    }
}
