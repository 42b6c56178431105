package dev.pcb.protocol;

import java.nio.charset.StandardCharsets;

/**
 * LIST_RESULT: one page of a directory listing, in the host's directory order, with each entry's attributes as the
 * broker stat-ed it while listing; the next cookie is the kernel's position cookie ({@code d_off}) of the first
 * entry not sent.
 * <pre>
 *  0: correlation id (long) | 8: next cookie (long, -1 at the end) | 16: entry count (int)
 *  20: entries, each:
 *      0: attributes ({@link FileAttributes}, 56 bytes: type | mode | size | mtime | ctime | inode | device | nlink)
 *     56: name length (int) | 60: name bytes (UTF-8)
 * </pre>
 * An entry removed between the broker's {@code getdents64} and its {@code statx} is still listed, with attributes
 * of type {@link FileType#OTHER} and mode 0 ({@link Entry#hasAttributes()} false): no real file has mode 0.
 */
public final class ListResponse extends Flyweight
{
    /** Offset of the next cookie. */
    public static final int NEXT_COOKIE_OFFSET = 8;
    /** Offset of the entry count. */
    public static final int COUNT_OFFSET = 16;
    /** Offset of the first entry. */
    public static final int ENTRIES_OFFSET = 20;
    /** Offset of the attributes in an entry. */
    public static final int ENTRY_ATTRIBUTES_OFFSET = 0;
    /** Offset of the name length in an entry. */
    public static final int ENTRY_NAME_LENGTH_OFFSET = ENTRY_ATTRIBUTES_OFFSET + FileAttributes.LENGTH;
    /** Offset of the name in an entry. */
    public static final int ENTRY_NAME_OFFSET = ENTRY_NAME_LENGTH_OFFSET + 4;
    /** Cookie that marks the last page. */
    public static final long END = -1;

    /** @return cookie for the next page, or {@link #END}. */
    public long nextCookie()
    {
        return buffer.getLong(offset + NEXT_COOKIE_OFFSET);
    }

    /**
     * Set the next cookie.
     *
     * @param cookie index of the next entry, or {@link #END}.
     * @return this.
     */
    public ListResponse nextCookie(final long cookie)
    {
        buffer.putLong(offset + NEXT_COOKIE_OFFSET, cookie);
        return this;
    }

    /** @return entries in this page. */
    public int count()
    {
        return buffer.getInt(offset + COUNT_OFFSET);
    }

    /**
     * Set the entry count.
     *
     * @param count entries in this page.
     * @return this.
     */
    public ListResponse count(final int count)
    {
        buffer.putInt(offset + COUNT_OFFSET, count);
        return this;
    }

    /**
     * Encoded length of an entry.
     *
     * @param nameBytes UTF-8 length of the name.
     * @return bytes the entry takes.
     */
    public static int entryLength(final int nameBytes)
    {
        return ENTRY_NAME_OFFSET + nameBytes;
    }

    /**
     * Write an entry.
     *
     * @param entryOffset offset relative to the record.
     * @param attributes  the entry's attributes; type {@link FileType#OTHER} and mode 0 when it could not be stat-ed.
     * @param name        UTF-8 name.
     * @return offset of the next entry relative to the record.
     */
    public int putEntry(final int entryOffset, final FileAttributes attributes, final byte[] name)
    {
        final int at = offset + entryOffset;
        attributes.encode(buffer, at + ENTRY_ATTRIBUTES_OFFSET);
        buffer.putInt(at + ENTRY_NAME_LENGTH_OFFSET, name.length);
        buffer.putBytes(at + ENTRY_NAME_OFFSET, name);
        return entryOffset + entryLength(name.length);
    }

    /**
     * Read an entry.
     *
     * @param entryOffset offset relative to the record.
     * @param limit       record length.
     * @param out         receives the entry.
     * @return offset of the next entry relative to the record.
     * @throws IllegalStateException when the entry runs past the record.
     */
    public int getEntry(final int entryOffset, final int limit, final Entry out)
    {
        final int at = offset + entryOffset;
        if (entryOffset + ENTRY_NAME_OFFSET > limit)
        {
            throw new IllegalStateException("LIST entry past end of record");
        }
        final int nameLength = buffer.getInt(at + ENTRY_NAME_LENGTH_OFFSET);
        if (nameLength < 0 || entryOffset + ENTRY_NAME_OFFSET + nameLength > limit)
        {
            throw new IllegalStateException("LIST entry name past end of record");
        }
        final byte[] bytes = new byte[nameLength];
        buffer.getBytes(at + ENTRY_NAME_OFFSET, bytes);
        out.attributes.decode(buffer, at + ENTRY_ATTRIBUTES_OFFSET);
        out.name = new String(bytes, StandardCharsets.UTF_8);
        return entryOffset + ENTRY_NAME_OFFSET + nameLength;
    }

    /**
     * One decoded directory entry.
     */
    public static final class Entry
    {
        private final FileAttributes attributes = new FileAttributes();
        private String name;

        /** @return a {@link FileType}. */
        public int type()
        {
            return attributes.type();
        }

        /** @return size in bytes. */
        public long size()
        {
            return attributes.size();
        }

        /** @return the attributes as listed; reused by the next {@link #getEntry}, copy to keep them. */
        public FileAttributes attributes()
        {
            return attributes;
        }

        /** @return false when the entry vanished before the broker could stat it (mode 0). */
        public boolean hasAttributes()
        {
            return 0 != attributes.mode();
        }

        /** @return entry name. */
        public String name()
        {
            return name;
        }
    }
}
