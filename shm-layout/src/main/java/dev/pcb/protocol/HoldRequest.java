package dev.pcb.protocol;

/**
 * HOLD: after a broker restart, a client still reading a window pinned under the previous broker claims it, so the
 * new broker keeps it as it is until the client releases it. The generation must match the window's descriptor.
 * <pre>
 *  0: correlation id (long) | 8: share id (int) | 12: region window (int) | 16: generation (long)
 * </pre>
 */
public final class HoldRequest extends Flyweight
{
    /** Offset of the share id. */
    public static final int SHARE_ID_OFFSET = 8;
    /** Offset of the region window. */
    public static final int REGION_WINDOW_OFFSET = 12;
    /** Offset of the generation. */
    public static final int GENERATION_OFFSET = 16;
    /** Record length. */
    public static final int LENGTH = 24;

    /**
     * Is a record of this length, as the ring reported it, long enough to be read as a HoldRequest?
     *
     * @param length of the record.
     * @return true when every field lies inside the record.
     */
    public static boolean isWellFormed(final int length)
    {
        return length >= LENGTH;
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
    public HoldRequest shareId(final int shareId)
    {
        buffer.putInt(offset + SHARE_ID_OFFSET, shareId);
        return this;
    }

    /** @return the region window. */
    public int regionWindow()
    {
        return buffer.getInt(offset + REGION_WINDOW_OFFSET);
    }

    /**
     * Set the region window.
     *
     * @param regionWindow index in the data region.
     * @return this.
     */
    public HoldRequest regionWindow(final int regionWindow)
    {
        buffer.putInt(offset + REGION_WINDOW_OFFSET, regionWindow);
        return this;
    }

    /** @return the generation the client acquired. */
    public long generation()
    {
        return buffer.getLong(offset + GENERATION_OFFSET);
    }

    /**
     * Set the generation.
     *
     * @param generation as answered by ACQUIRED.
     * @return this.
     */
    public HoldRequest generation(final long generation)
    {
        buffer.putLong(offset + GENERATION_OFFSET, generation);
        return this;
    }
}
