package dev.pcb.protocol;

/**
 * ACQUIRE, RELEASE and CLOSE: a request about a handle and, for the first two, one window of its file.
 * <pre>
 *  0: correlation id (long) | 8: handle id (long) | 16: file window index (long; ignored by CLOSE)
 * </pre>
 * File window i holds bytes [i * windowSize, (i + 1) * windowSize) of the handle's version.
 * <p>
 * A RELEASE with handle id {@link #HELD_WINDOW_HANDLE} releases a window claimed with HOLD after a broker restart;
 * its "file window" field then carries {@code shareId << 32 | regionWindow}.
 */
public final class WindowRequest extends Flyweight
{
    /** Offset of the handle id. */
    public static final int HANDLE_ID_OFFSET = 8;
    /** Offset of the file window index. */
    public static final int FILE_WINDOW_OFFSET = 16;
    /** Record length. */
    public static final int LENGTH = 24;

    /**
     * Is a record of this length, as the ring reported it, long enough to be read as a WindowRequest?
     *
     * @param length of the record.
     * @return true when every field lies inside the record.
     */
    public static boolean isWellFormed(final int length)
    {
        return length >= LENGTH;
    }
    /** Handle id of a RELEASE of a window held across a broker restart; real handles start at 1. */
    public static final long HELD_WINDOW_HANDLE = 0;

    /**
     * The "file window" field of a RELEASE of a held window.
     *
     * @param shareId      the share.
     * @param regionWindow the window in its data region.
     * @return {@code shareId << 32 | regionWindow}.
     */
    public static long heldWindow(final int shareId, final int regionWindow)
    {
        return ((long)shareId << 32) | (regionWindow & 0xFFFF_FFFFL);
    }

    /** @return the handle id. */
    public long handleId()
    {
        return buffer.getLong(offset + HANDLE_ID_OFFSET);
    }

    /**
     * Set the handle id.
     *
     * @param handleId the handle.
     * @return this.
     */
    public WindowRequest handleId(final long handleId)
    {
        buffer.putLong(offset + HANDLE_ID_OFFSET, handleId);
        return this;
    }

    /** @return the file window index. */
    public long fileWindow()
    {
        return buffer.getLong(offset + FILE_WINDOW_OFFSET);
    }

    /**
     * Set the file window index.
     *
     * @param fileWindow window index in the file.
     * @return this.
     */
    public WindowRequest fileWindow(final long fileWindow)
    {
        buffer.putLong(offset + FILE_WINDOW_OFFSET, fileWindow);
        return this;
    }
}
