package dev.pcb.protocol;

/**
 * OPENED: a handle on one version of a file. Every window acquired through the handle comes from that version.
 * <pre>
 *  0: correlation id (long) | 8: handle id (long) | 16: version id (long)
 *  24: window size (int) | 28: share id (int) | 32: {@link FileAttributes} of the version (56 bytes)
 * </pre>
 */
public final class OpenedResponse extends Flyweight
{
    /** Offset of the handle id. */
    public static final int HANDLE_ID_OFFSET = 8;
    /** Offset of the version id. */
    public static final int VERSION_ID_OFFSET = 16;
    /** Offset of the window size. */
    public static final int WINDOW_SIZE_OFFSET = 24;
    /** Offset of the share id. */
    public static final int SHARE_ID_OFFSET = 28;
    /** Offset of the attributes. */
    public static final int ATTRIBUTES_OFFSET = 32;
    /** Record length. */
    public static final int LENGTH = ATTRIBUTES_OFFSET + FileAttributes.LENGTH;

    /** @return the handle id. */
    public long handleId()
    {
        return buffer.getLong(offset + HANDLE_ID_OFFSET);
    }

    /**
     * Set the handle id.
     *
     * @param handleId id of the handle.
     * @return this.
     */
    public OpenedResponse handleId(final long handleId)
    {
        buffer.putLong(offset + HANDLE_ID_OFFSET, handleId);
        return this;
    }

    /** @return the version id: the broker's name for this version of the file. */
    public long versionId()
    {
        return buffer.getLong(offset + VERSION_ID_OFFSET);
    }

    /**
     * Set the version id.
     *
     * @param versionId id of the version.
     * @return this.
     */
    public OpenedResponse versionId(final long versionId)
    {
        buffer.putLong(offset + VERSION_ID_OFFSET, versionId);
        return this;
    }

    /** @return the window size: file window i holds bytes [i * size, (i + 1) * size). */
    public int windowSize()
    {
        return buffer.getInt(offset + WINDOW_SIZE_OFFSET);
    }

    /**
     * Set the window size.
     *
     * @param windowSize bytes per window.
     * @return this.
     */
    public OpenedResponse windowSize(final int windowSize)
    {
        buffer.putInt(offset + WINDOW_SIZE_OFFSET, windowSize);
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
    public OpenedResponse shareId(final int shareId)
    {
        buffer.putInt(offset + SHARE_ID_OFFSET, shareId);
        return this;
    }

    /**
     * Write the attributes.
     *
     * @param attributes of the version.
     * @return this.
     */
    public OpenedResponse putAttributes(final FileAttributes attributes)
    {
        attributes.encode(buffer, offset + ATTRIBUTES_OFFSET);
        return this;
    }

    /**
     * Read the attributes.
     *
     * @param out receives them.
     * @return out.
     */
    public FileAttributes getAttributes(final FileAttributes out)
    {
        return out.decode(buffer, offset + ATTRIBUTES_OFFSET);
    }
}
