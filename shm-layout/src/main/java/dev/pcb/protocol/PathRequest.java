package dev.pcb.protocol;

import org.agrona.DirectBuffer;

import java.nio.charset.StandardCharsets;

/**
 * OPEN, STAT and LIST: a request naming a path in a share.
 * <pre>
 *  0: correlation id (long) | 8: share id (int) | 12: max entries (int, LIST only)
 *  16: cookie (long, LIST only: 0, or the next cookie of the previous page)
 *  24: path length (int) | 28: path bytes (UTF-8, relative to the share root, at most 4096 bytes)
 * </pre>
 */
public final class PathRequest extends Flyweight
{
    /** Offset of the share id. */
    public static final int SHARE_ID_OFFSET = 8;
    /** Offset of the maximum entries of a LIST page. */
    public static final int MAX_ENTRIES_OFFSET = 12;
    /** Offset of the LIST cookie. */
    public static final int COOKIE_OFFSET = 16;
    /** Offset of the path length. */
    public static final int PATH_LENGTH_OFFSET = 24;
    /** Offset of the path bytes. */
    public static final int PATH_OFFSET = 28;
    /** Longest path in bytes, as Linux PATH_MAX. */
    public static final int MAX_PATH_LENGTH = 4096;

    /**
     * Share id.
     *
     * @return the share the path is in.
     */
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
    public PathRequest shareId(final int shareId)
    {
        buffer.putInt(offset + SHARE_ID_OFFSET, shareId);
        return this;
    }

    /**
     * Maximum entries for a LIST page.
     *
     * @return the limit the client asked for.
     */
    public int maxEntries()
    {
        return buffer.getInt(offset + MAX_ENTRIES_OFFSET);
    }

    /**
     * Set the maximum entries.
     *
     * @param maxEntries page size.
     * @return this.
     */
    public PathRequest maxEntries(final int maxEntries)
    {
        buffer.putInt(offset + MAX_ENTRIES_OFFSET, maxEntries);
        return this;
    }

    /**
     * LIST cookie.
     *
     * @return 0 for the first page, else the next cookie of the previous page.
     */
    public long cookie()
    {
        return buffer.getLong(offset + COOKIE_OFFSET);
    }

    /**
     * Set the LIST cookie.
     *
     * @param cookie 0 for the first page, else the next cookie of the previous page.
     * @return this.
     */
    public PathRequest cookie(final long cookie)
    {
        buffer.putLong(offset + COOKIE_OFFSET, cookie);
        return this;
    }

    /**
     * Path length as stored, unchecked.
     *
     * @return the stored length.
     */
    public int pathLength()
    {
        return buffer.getInt(offset + PATH_LENGTH_OFFSET);
    }

    /**
     * Set the path.
     *
     * @param path relative path.
     * @return record length.
     * @throws IllegalArgumentException when the path is longer than {@link #MAX_PATH_LENGTH} bytes.
     */
    public int path(final String path)
    {
        final byte[] bytes = path.getBytes(StandardCharsets.UTF_8);
        if (bytes.length > MAX_PATH_LENGTH)
        {
            throw new IllegalArgumentException("path longer than " + MAX_PATH_LENGTH + " bytes");
        }
        buffer.putInt(offset + PATH_LENGTH_OFFSET, bytes.length);
        buffer.putBytes(offset + PATH_OFFSET, bytes);
        return PATH_OFFSET + bytes.length;
    }

    /**
     * Is a record of this length, as received, well formed? Checks before any field is trusted.
     *
     * @param buffer holding the record.
     * @param offset of the record.
     * @param length of the record as the ring reported it.
     * @return true when the fixed part and the path fit the record and the path length is in bounds.
     */
    public static boolean isWellFormed(final DirectBuffer buffer, final int offset, final int length)
    {
        return checkedPathLength(buffer, offset, length) >= 0;
    }

    /**
     * The path length, read once and checked against the record: a reader that then uses only this value (with
     * {@link #path(byte[], int)}) cannot be fooled by a writer changing the field between a check and a use.
     *
     * @param buffer holding the record.
     * @param offset of the record.
     * @param length of the record as the ring reported it.
     * @return the path length, or -1 when the record is malformed.
     */
    public static int checkedPathLength(final DirectBuffer buffer, final int offset, final int length)
    {
        if (length < PATH_OFFSET)
        {
            return -1;
        }
        final int pathLength = buffer.getInt(offset + PATH_LENGTH_OFFSET);
        return pathLength >= 0 && pathLength <= MAX_PATH_LENGTH && pathLength <= length - PATH_OFFSET ? pathLength : -1;
    }

    /**
     * Path of a length already checked by {@link #checkedPathLength}, decoded through a caller's scratch array.
     *
     * @param scratch     at least {@link #MAX_PATH_LENGTH} bytes.
     * @param pathLength  from {@link #checkedPathLength}.
     * @return the path.
     */
    public String path(final byte[] scratch, final int pathLength)
    {
        buffer.getBytes(offset + PATH_OFFSET, scratch, 0, pathLength);
        return new String(scratch, 0, pathLength, StandardCharsets.UTF_8);
    }
}
