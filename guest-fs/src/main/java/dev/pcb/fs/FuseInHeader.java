package dev.pcb.fs;

import org.agrona.DirectBuffer;

/**
 * Flyweight over {@code struct fuse_in_header}, the 40 bytes before every request the kernel sends.
 * <pre>
 *   0                   1                   2                   3
 *   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *  +---------------------------------------------------------------+
 *  |                    len (whole request)                        |  0
 *  |                    opcode                                     |  4
 *  |                    unique (request id, 8 bytes)               |  8
 *  |                    nodeid (8 bytes)                           | 16
 *  |                    uid                                        | 24
 *  |                    gid                                        | 28
 *  |                    pid                                        | 32
 *  |     total_extlen (8-byte units) |        padding              | 36
 *  +---------------------------------------------------------------+
 * </pre>
 * The request's own arguments follow at {@link #LENGTH}.
 */
public final class FuseInHeader
{
    /** Offset of the request length. */
    public static final int LEN_OFFSET = 0;
    /** Offset of the opcode. */
    public static final int OPCODE_OFFSET = 4;
    /** Offset of the unique id the reply must carry. */
    public static final int UNIQUE_OFFSET = 8;
    /** Offset of the node id the request is about. */
    public static final int NODEID_OFFSET = 16;
    /** Offset of the caller's uid. */
    public static final int UID_OFFSET = 24;
    /** Offset of the caller's gid. */
    public static final int GID_OFFSET = 28;
    /** Offset of the caller's pid. */
    public static final int PID_OFFSET = 32;
    /** Length of the header. */
    public static final int LENGTH = 40;

    private DirectBuffer buffer;

    /**
     * Point at a request at offset 0 of a buffer.
     *
     * @param buffer the request as read from /dev/fuse.
     * @return this.
     */
    public FuseInHeader wrap(final DirectBuffer buffer)
    {
        this.buffer = buffer;
        return this;
    }

    /** @return length of the whole request. */
    public int len()
    {
        return buffer.getInt(LEN_OFFSET);
    }

    /** @return the opcode, a {@link FuseOpcode}. */
    public int opcode()
    {
        return buffer.getInt(OPCODE_OFFSET);
    }

    /** @return the request id. */
    public long unique()
    {
        return buffer.getLong(UNIQUE_OFFSET);
    }

    /** @return the node the request is about. */
    public long nodeId()
    {
        return buffer.getLong(NODEID_OFFSET);
    }

    /** @return the caller's pid. */
    public int pid()
    {
        return buffer.getInt(PID_OFFSET);
    }
}
