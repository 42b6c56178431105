package dev.pcb.protocol;

/**
 * ACQUIRED: where a pinned file window lies in the share's data region. The bytes at
 * {@code windowsOffset + regionWindow * windowSize + offsetInWindow}, {@code length} long, are the file's bytes from
 * {@code fileWindow * windowSize}; they stay unchanged until the client releases the window. Small files share a
 * window, so {@code offsetInWindow} need not be 0.
 * <pre>
 *  0: correlation id (long) | 8: handle id (long) | 16: file window index (long) | 24: generation (long)
 *  32: region window (int) | 36: offset in window (int) | 40: length (int) | 44: share id (int)
 * </pre>
 */
public final class AcquiredResponse extends Flyweight
{
    /** Offset of the handle id. */
    public static final int HANDLE_ID_OFFSET = 8;
    /** Offset of the file window index. */
    public static final int FILE_WINDOW_OFFSET = 16;
    /** Offset of the window generation. */
    public static final int GENERATION_OFFSET = 24;
    /** Offset of the region window index. */
    public static final int REGION_WINDOW_OFFSET = 32;
    /** Offset of the offset in the window. */
    public static final int OFFSET_IN_WINDOW_OFFSET = 36;
    /** Offset of the valid length. */
    public static final int LENGTH_OFFSET = 40;
    /** Offset of the share id. */
    public static final int SHARE_ID_OFFSET = 44;
    /** Record length. */
    public static final int LENGTH = 48;

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
    public AcquiredResponse handleId(final long handleId)
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
    public AcquiredResponse fileWindow(final long fileWindow)
    {
        buffer.putLong(offset + FILE_WINDOW_OFFSET, fileWindow);
        return this;
    }

    /** @return generation of the region window, as in its descriptor. */
    public long generation()
    {
        return buffer.getLong(offset + GENERATION_OFFSET);
    }

    /**
     * Set the generation.
     *
     * @param generation of the region window.
     * @return this.
     */
    public AcquiredResponse generation(final long generation)
    {
        buffer.putLong(offset + GENERATION_OFFSET, generation);
        return this;
    }

    /** @return the region window index. */
    public int regionWindow()
    {
        return buffer.getInt(offset + REGION_WINDOW_OFFSET);
    }

    /**
     * Set the region window index.
     *
     * @param regionWindow index in the data region.
     * @return this.
     */
    public AcquiredResponse regionWindow(final int regionWindow)
    {
        buffer.putInt(offset + REGION_WINDOW_OFFSET, regionWindow);
        return this;
    }

    /** @return offset of the file bytes within the region window. */
    public int offsetInWindow()
    {
        return buffer.getInt(offset + OFFSET_IN_WINDOW_OFFSET);
    }

    /**
     * Set the offset in the window.
     *
     * @param offsetInWindow byte offset.
     * @return this.
     */
    public AcquiredResponse offsetInWindow(final int offsetInWindow)
    {
        buffer.putInt(offset + OFFSET_IN_WINDOW_OFFSET, offsetInWindow);
        return this;
    }

    /** @return valid bytes: less than the window size only for the last window of a file. */
    public int length()
    {
        return buffer.getInt(offset + LENGTH_OFFSET);
    }

    /**
     * Set the valid length.
     *
     * @param length valid bytes.
     * @return this.
     */
    public AcquiredResponse length(final int length)
    {
        buffer.putInt(offset + LENGTH_OFFSET, length);
        return this;
    }

    /** @return the share id. */
    public int shareId()
    {
        return buffer.getInt(offset + SHARE_ID_OFFSET);
    }

    /**
     * Set the share id.
     *
     * @param shareId the share.
     * @return this.
     */
    public AcquiredResponse shareId(final int shareId)
    {
        buffer.putInt(offset + SHARE_ID_OFFSET, shareId);
        return this;
    }
}
