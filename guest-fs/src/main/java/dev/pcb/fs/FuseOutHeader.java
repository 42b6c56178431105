package dev.pcb.fs;

import org.agrona.MutableDirectBuffer;

/**
 * Flyweight over {@code struct fuse_out_header}, the 16 bytes before every reply.
 * <pre>
 *   0                   1                   2                   3
 *   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *  +---------------------------------------------------------------+
 *  |                    len (header + body)                        |  0
 *  |                    error (0 or minus an errno)                |  4
 *  |                    unique (of the request, 8 bytes)           |  8
 *  +---------------------------------------------------------------+
 * </pre>
 * An error reply is the header alone.
 */
public final class FuseOutHeader
{
    /** Offset of the reply length. */
    public static final int LEN_OFFSET = 0;
    /** Offset of the error. */
    public static final int ERROR_OFFSET = 4;
    /** Offset of the request id answered. */
    public static final int UNIQUE_OFFSET = 8;
    /** Length of the header. */
    public static final int LENGTH = 16;

    private MutableDirectBuffer buffer;
    private int offset;

    /**
     * Point at a reply.
     *
     * @param buffer reply buffer.
     * @param offset where the header goes.
     * @return this.
     */
    public FuseOutHeader wrap(final MutableDirectBuffer buffer, final int offset)
    {
        this.buffer = buffer;
        this.offset = offset;
        return this;
    }

    /**
     * Fill the header.
     *
     * @param length whole reply length.
     * @param errno  0, or a positive errno sent negated.
     * @param unique request id.
     */
    public void set(final int length, final int errno, final long unique)
    {
        buffer.putInt(offset + LEN_OFFSET, length);
        buffer.putInt(offset + ERROR_OFFSET, -errno);
        buffer.putLong(offset + UNIQUE_OFFSET, unique);
    }
}
