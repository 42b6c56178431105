package dev.pcb.protocol;

import org.agrona.MutableDirectBuffer;

/**
 * Base of the protocol flyweights: a reusable view of one record in a buffer. Wrapping allocates nothing, so a
 * broker or agent keeps one instance of each and wraps it over every record it handles.
 * <p>
 * Every record starts with the correlation id the client chose for the request, which its answer echoes.
 */
public abstract class Flyweight
{
    /** Offset of the correlation id in every record. */
    public static final int CORRELATION_ID_OFFSET = 0;

    /** Buffer wrapped. */
    protected MutableDirectBuffer buffer;

    /** Offset of the record in the buffer. */
    protected int offset;

    /**
     * Wrap a record.
     *
     * @param buffer holding the record.
     * @param offset of the record.
     * @return this for chaining.
     */
    public Flyweight wrap(final MutableDirectBuffer buffer, final int offset)
    {
        this.buffer = buffer;
        this.offset = offset;
        return this;
    }

    /**
     * Buffer wrapped.
     *
     * @return the buffer.
     */
    public MutableDirectBuffer buffer()
    {
        return buffer;
    }

    /**
     * Offset wrapped.
     *
     * @return the offset.
     */
    public int offset()
    {
        return offset;
    }

    /**
     * Correlation id.
     *
     * @return the id the client chose for the request.
     */
    public long correlationId()
    {
        return buffer.getLong(offset + CORRELATION_ID_OFFSET);
    }

    /**
     * Set the correlation id.
     *
     * @param correlationId id to echo.
     */
    public void correlationId(final long correlationId)
    {
        buffer.putLong(offset + CORRELATION_ID_OFFSET, correlationId);
    }
}
