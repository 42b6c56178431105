package dev.pcb.protocol;

import java.nio.charset.StandardCharsets;

/**
 * LIST_RESULT: one page of a directory listing, in the host's directory order; the next cookie is the kernel's
 * position cookie ({@code d_off}) of the first entry not sent.
 * <pre>
 *  0: correlation id (long) | 8: next cookie (long, -1 at the end) | 16: entry count (int)
 *  20: entries, each: 0: type (int) | 4: size (long) | 12: name length (int) | 16: name bytes (UTF-8)
 * </pre>
 */
public final class ListResponse extends Flyweight
{
    /** Offset of the next cookie. */
    public static final int NEXT_COOKIE_OFFSET = 8;
    /** Offset of the entry count. */
    public static final int COUNT_OFFSET = 16;
    /** Offset of the first entry. */
    public static final int ENTRIES_OFFSET = 20;
    /** Offset of the type in an entry. */
    public static final int ENTRY_TYPE_OFFSET = 0;
    /** Offset of the size in an entry. */
    public static final int ENTRY_SIZE_OFFSET = 4;
    /** Offset of the name length in an entry. */
    public static final int ENTRY_NAME_LENGTH_OFFSET = 12;
    /** Offset of the name in an entry. */
    public static final int ENTRY_NAME_OFFSET = 16;
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
     * @param type        a {@link FileType}.
     * @param size        size in bytes.
     * @param name        UTF-8 name.
     * @return offset of the next entry relative to the record.
     */
    public int putEntry(final int entryOffset, final int type, final long size, final byte[] name)
    {
        final int at = offset + entryOffset;
        buffer.putInt(at + ENTRY_TYPE_OFFSET, type);
        buffer.putLong(at + ENTRY_SIZE_OFFSET, size);
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
        out.type = buffer.getInt(at + ENTRY_TYPE_OFFSET);
        out.size = buffer.getLong(at + ENTRY_SIZE_OFFSET);
        out.name = new String(bytes, StandardCharsets.UTF_8);
        return entryOffset + ENTRY_NAME_OFFSET + nameLength;
    }

    /**
     * One decoded directory entry.
     */
    public static final class Entry
    {
        private int type;
        private long size;
        private String name;

        /** @return a {@link FileType}. */
        public int type()
        {
            return type;
        }

        /** @return size in bytes. */
        public long size()
        {
            return size;
        }

        /** @return entry name. */
        public String name()
        {
            return name;
        }
    }
}
