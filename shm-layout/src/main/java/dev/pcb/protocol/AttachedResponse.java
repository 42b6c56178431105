package dev.pcb.protocol;

import java.nio.charset.StandardCharsets;

/**
 * ATTACHED: the broker's epoch and the shares this guest may read, each with the id of its data region.
 * <pre>
 *  0: correlation id (long) | 8: broker epoch (long) | 16: slot index (int) | 20: share count (int)
 *  24: share entries, each:
 *      0: share id (int) | 4: window size (int) | 8: region length (long) | 16: region id (long)
 *      24: tree version (long) | 32: name length (int) | 36: name bytes (UTF-8)
 *  then (layout 3.2) one tree identity per share entry, in entry order, from the end of the last entry:
 *      0: device (long) | 8: inode (long) | 16: path length (int) | 20: path bytes (UTF-8)
 * </pre>
 * An agent of 3.1 stops reading after the entries; a broker of 3.1 sends no identities ({@link #getIdentity} answers
 * {@link TreeIdentity#NONE}).
 */
public final class AttachedResponse extends Flyweight
{
    /** Offset of the broker epoch. */
    public static final int BROKER_EPOCH_OFFSET = 8;
    /** Offset of the slot index. */
    public static final int SLOT_INDEX_OFFSET = 16;
    /** Offset of the share count. */
    public static final int SHARE_COUNT_OFFSET = 20;
    /** Offset of the first share entry. */
    public static final int SHARES_OFFSET = 24;
    /** Offset of the share id in an entry. */
    public static final int ENTRY_SHARE_ID_OFFSET = 0;
    /** Offset of the window size in an entry. */
    public static final int ENTRY_WINDOW_SIZE_OFFSET = 4;
    /** Offset of the region length in an entry. */
    public static final int ENTRY_REGION_LENGTH_OFFSET = 8;
    /** Offset of the region id in an entry. */
    public static final int ENTRY_REGION_ID_OFFSET = 16;
    /** Offset of the tree version the session starts on, in an entry. */
    public static final int ENTRY_TREE_VERSION_OFFSET = 24;
    /** Offset of the name length in an entry. */
    public static final int ENTRY_NAME_LENGTH_OFFSET = 32;
    /** Offset of the name bytes in an entry. */
    public static final int ENTRY_NAME_OFFSET = 36;

    /**
     * Broker epoch.
     *
     * @return epoch of the broker that answered.
     */
    public long brokerEpoch()
    {
        return buffer.getLong(offset + BROKER_EPOCH_OFFSET);
    }

    /**
     * Set the broker epoch.
     *
     * @param epoch the broker's epoch.
     * @return this.
     */
    public AttachedResponse brokerEpoch(final long epoch)
    {
        buffer.putLong(offset + BROKER_EPOCH_OFFSET, epoch);
        return this;
    }

    /**
     * Slot index.
     *
     * @return the slot the client holds.
     */
    public int slotIndex()
    {
        return buffer.getInt(offset + SLOT_INDEX_OFFSET);
    }

    /**
     * Set the slot index.
     *
     * @param slotIndex the slot.
     * @return this.
     */
    public AttachedResponse slotIndex(final int slotIndex)
    {
        buffer.putInt(offset + SLOT_INDEX_OFFSET, slotIndex);
        return this;
    }

    /**
     * Number of share entries.
     *
     * @return share count.
     */
    public int shareCount()
    {
        return buffer.getInt(offset + SHARE_COUNT_OFFSET);
    }

    /**
     * Set the number of share entries.
     *
     * @param count share count.
     * @return this.
     */
    public AttachedResponse shareCount(final int count)
    {
        buffer.putInt(offset + SHARE_COUNT_OFFSET, count);
        return this;
    }

    /**
     * Write a share entry.
     *
     * @param entryOffset  offset of the entry relative to the record.
     * @param shareId      share id.
     * @param windowSize   window size of its region.
     * @param regionLength length of its region.
     * @param regionId     id of its region.
     * @param treeVersion  tree version the session starts on.
     * @param name         share name.
     * @return offset of the next entry relative to the record.
     */
    public int putShare(
        final int entryOffset,
        final int shareId,
        final int windowSize,
        final long regionLength,
        final long regionId,
        final long treeVersion,
        final String name)
    {
        final int at = offset + entryOffset;
        buffer.putInt(at + ENTRY_SHARE_ID_OFFSET, shareId);
        buffer.putInt(at + ENTRY_WINDOW_SIZE_OFFSET, windowSize);
        buffer.putLong(at + ENTRY_REGION_LENGTH_OFFSET, regionLength);
        buffer.putLong(at + ENTRY_REGION_ID_OFFSET, regionId);
        buffer.putLong(at + ENTRY_TREE_VERSION_OFFSET, treeVersion);
        final byte[] bytes = name.getBytes(StandardCharsets.UTF_8);
        buffer.putInt(at + ENTRY_NAME_LENGTH_OFFSET, bytes.length);
        buffer.putBytes(at + ENTRY_NAME_OFFSET, bytes);
        return entryOffset + ENTRY_NAME_OFFSET + bytes.length;
    }

    /**
     * Read a share entry.
     *
     * @param entryOffset offset of the entry relative to the record.
     * @param limit       record length: an entry running past it is malformed.
     * @param out         receives the entry.
     * @return offset of the next entry relative to the record.
     * @throws IllegalStateException when the entry runs past the record.
     */
    public int getShare(final int entryOffset, final int limit, final ShareInfo out)
    {
        final int at = offset + entryOffset;
        if (entryOffset + ENTRY_NAME_OFFSET > limit)
        {
            throw new IllegalStateException("ATTACHED share entry past end of record");
        }
        final int nameLength = buffer.getInt(at + ENTRY_NAME_LENGTH_OFFSET);
        if (nameLength < 0 || entryOffset + ENTRY_NAME_OFFSET + nameLength > limit)
        {
            throw new IllegalStateException("ATTACHED share name past end of record");
        }
        final byte[] bytes = new byte[nameLength];
        buffer.getBytes(at + ENTRY_NAME_OFFSET, bytes);
        out.set(
            buffer.getInt(at + ENTRY_SHARE_ID_OFFSET),
            new String(bytes, StandardCharsets.UTF_8),
            buffer.getInt(at + ENTRY_WINDOW_SIZE_OFFSET),
            buffer.getLong(at + ENTRY_REGION_LENGTH_OFFSET),
            buffer.getLong(at + ENTRY_REGION_ID_OFFSET),
            buffer.getLong(at + ENTRY_TREE_VERSION_OFFSET));
        return entryOffset + ENTRY_NAME_OFFSET + nameLength;
    }

    /**
     * Write a share's tree identity after the entries.
     *
     * @param at       offset relative to the record: the end of the last entry, then what the previous call returned.
     * @param identity the version directory the session is on.
     * @return the offset after it, relative to the record.
     */
    public int putIdentity(final int at, final TreeIdentity identity)
    {
        return identity.put(buffer, offset + at) - offset;
    }

    /**
     * Read a share's tree identity after the entries.
     *
     * @param at     offset relative to the record.
     * @param limit  record length.
     * @param out    receives the identity ({@link TreeIdentity#NONE} when the record ends first).
     * @return the offset after it, relative to the record.
     * @throws IllegalArgumentException when it runs past the record.
     */
    public int getIdentity(final int at, final int limit, final ShareInfo out)
    {
        final TreeIdentity identity = TreeIdentity.get(buffer, offset + at, offset + limit);
        out.identity = identity;
        return at + TreeIdentity.PATH_OFFSET > limit ? limit : at + identity.encodedLength();
    }

    /**
     * One decoded share entry.
     */
    public static final class ShareInfo
    {
        private int shareId;
        private String name;
        private int windowSize;
        private long regionLength;
        private long regionId;
        private long treeVersion;
        private TreeIdentity identity = TreeIdentity.NONE;

        void set(
            final int shareId, final String name, final int windowSize, final long regionLength, final long id,
            final long treeVersion)
        {
            this.treeVersion = treeVersion;
            this.shareId = shareId;
            this.name = name;
            this.windowSize = windowSize;
            this.regionLength = regionLength;
            this.regionId = id;
        }

        /**
         * Share id.
         *
         * @return id used in requests.
         */
        public int shareId()
        {
            return shareId;
        }

        /**
         * Share name.
         *
         * @return the name the operator gave.
         */
        public String name()
        {
            return name;
        }

        /**
         * Window size.
         *
         * @return window size of the share's region.
         */
        public int windowSize()
        {
            return windowSize;
        }

        /**
         * Region length.
         *
         * @return bytes in the share's data region.
         */
        public long regionLength()
        {
            return regionLength;
        }

        /**
         * Region id.
         *
         * @return the id in the data region's superblock.
         */
        public long regionId()
        {
            return regionId;
        }

        /**
         * Tree version of the share the session starts on.
         *
         * @return the version number (docs/versions.md).
         */
        public long treeVersion()
        {
            return treeVersion;
        }

        /**
         * The version directory the session starts on, as {@link #getIdentity} read it.
         *
         * @return the identity; {@link TreeIdentity#NONE} for a plain share or a broker of layout 3.1.
         */
        public TreeIdentity identity()
        {
            return identity;
        }
    }
}
