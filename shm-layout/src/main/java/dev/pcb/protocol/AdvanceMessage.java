package dev.pcb.protocol;

/**
 * ADVANCE and its answer ADVANCED: one record for both, as the request carries the share and the answer adds the
 * tree version the session is on afterwards (docs/versions.md).
 * <pre>
 *  0: correlation id (long) | 8: share id (int) | 12: reserved (int) | 16: tree version (long, answer only)
 * </pre>
 */
public final class AdvanceMessage extends Flyweight
{
    /** Offset of the share id. */
    public static final int SHARE_ID_OFFSET = 8;
    /** Offset of the tree version. */
    public static final int TREE_VERSION_OFFSET = 16;
    /** Record length. */
    public static final int LENGTH = 24;

    /**
     * Is a record of this length, as the ring reported it, long enough to be read as an AdvanceMessage?
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
    public AdvanceMessage shareId(final int shareId)
    {
        buffer.putInt(offset + SHARE_ID_OFFSET, shareId);
        return this;
    }

    /** @return the tree version the session is on. */
    public long treeVersion()
    {
        return buffer.getLong(offset + TREE_VERSION_OFFSET);
    }

    /**
     * Set the tree version.
     *
     * @param treeVersion the version the session is on now.
     * @return this.
     */
    public AdvanceMessage treeVersion(final long treeVersion)
    {
        buffer.putLong(offset + TREE_VERSION_OFFSET, treeVersion);
        return this;
    }
}
