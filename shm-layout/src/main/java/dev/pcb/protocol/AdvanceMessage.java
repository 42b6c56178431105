package dev.pcb.protocol;

/**
 * ADVANCE, RESUME and their answer ADVANCED: one record for all, as the request carries the share and the answer adds
 * the tree version the session is on afterwards (docs/versions.md). Since layout 3.2 a {@link TreeIdentity} follows:
 * in ADVANCED the version the session is on, in RESUME the version it asks to go back to; ADVANCE has none.
 * <pre>
 *  0: correlation id (long) | 8: share id (int) | 12: reserved (int) | 16: tree version (long, answer only)
 * 24: tree identity (ADVANCED, RESUME):
 *      24: device (long) | 32: inode (long) | 40: path length (int) | 44: path bytes (UTF-8)
 * </pre>
 */
public final class AdvanceMessage extends Flyweight
{
    /** Offset of the share id. */
    public static final int SHARE_ID_OFFSET = 8;
    /** Offset of the tree version. */
    public static final int TREE_VERSION_OFFSET = 16;
    /** Offset of the tree identity (ADVANCED and RESUME). */
    public static final int IDENTITY_OFFSET = 24;
    /** Record length without the identity: ADVANCE, and ADVANCED from a broker of layout 3.1. */
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

    /**
     * Write the tree identity after the fixed fields.
     *
     * @param identity the version directory.
     * @return the record length.
     */
    public int identity(final TreeIdentity identity)
    {
        return identity.put(buffer, offset + IDENTITY_OFFSET) - offset;
    }

    /**
     * Read the tree identity.
     *
     * @param length the record length.
     * @return the identity, {@link TreeIdentity#NONE} when the record has none.
     * @throws IllegalArgumentException when it runs past the record.
     */
    public TreeIdentity identity(final int length)
    {
        return TreeIdentity.get(buffer, offset + IDENTITY_OFFSET, offset + length);
    }
}
