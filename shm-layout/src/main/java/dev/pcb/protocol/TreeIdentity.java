package dev.pcb.protocol;

import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;

import java.nio.charset.StandardCharsets;

/**
 * Which version directory of a versioned share a session is on, in terms that outlive the broker that numbered it
 * (docs/versions.md, broker restart): the directory's path relative to the share link's own directory, and the
 * device and inode of the directory the broker opened, so a directory removed and made again under the same name is
 * not taken for the old one. The broker sends it in ATTACHED and ADVANCED; after a broker restart the agent sends it
 * back in RESUME.
 * <pre>
 *  0: device (long) | 8: inode (long) | 16: path length (int) | 20: path bytes (UTF-8)
 * </pre>
 * {@link #NONE} (path length 0) is sent for a plain directory share, and for a version whose path is longer than
 * {@link #MAX_PATH_LENGTH}: nothing to resume.
 *
 * @param device the version directory's device, as the broker's {@code statx} gives it.
 * @param inode  the version directory's inode.
 * @param path   the version directory relative to the link's directory, as {@code releases/41}; empty for none.
 */
public record TreeIdentity(long device, long inode, String path)
{
    /** Offset of the device. */
    public static final int DEVICE_OFFSET = 0;
    /** Offset of the inode. */
    public static final int INODE_OFFSET = 8;
    /** Offset of the path length. */
    public static final int PATH_LENGTH_OFFSET = 16;
    /** Offset of the path bytes. */
    public static final int PATH_OFFSET = 20;
    /** Longest path carried, in bytes: an ATTACHED carries one per share and must fit the response ring. */
    public static final int MAX_PATH_LENGTH = 1024;
    /** No version to go back to. */
    public static final TreeIdentity NONE = new TreeIdentity(0, 0, "");

    /** @return true when there is a version directory to go back to. */
    public boolean isPresent()
    {
        return !path.isEmpty();
    }

    /**
     * @return the bytes {@link #put} writes.
     */
    public int encodedLength()
    {
        return PATH_OFFSET + pathBytes().length;
    }

    /**
     * Encode at an offset.
     *
     * @param buffer to write.
     * @param at     absolute offset in the buffer.
     * @return the offset after it.
     */
    public int put(final MutableDirectBuffer buffer, final int at)
    {
        final byte[] bytes = pathBytes();
        buffer.putLong(at + DEVICE_OFFSET, device);
        buffer.putLong(at + INODE_OFFSET, inode);
        buffer.putInt(at + PATH_LENGTH_OFFSET, bytes.length);
        buffer.putBytes(at + PATH_OFFSET, bytes);
        return at + PATH_OFFSET + bytes.length;
    }

    /**
     * Decode at an offset, each field read once.
     *
     * @param buffer to read.
     * @param at     absolute offset in the buffer.
     * @param limit  absolute offset of the record's end.
     * @return the identity; {@link #NONE} when the record ends before it (a sender of layout 3.1 or older).
     * @throws IllegalArgumentException when the path runs past the record or is longer than {@link #MAX_PATH_LENGTH}.
     */
    public static TreeIdentity get(final DirectBuffer buffer, final int at, final int limit)
    {
        if (at + PATH_OFFSET > limit)
        {
            return NONE;
        }
        final int length = buffer.getInt(at + PATH_LENGTH_OFFSET);
        if (length < 0 || length > MAX_PATH_LENGTH || at + PATH_OFFSET + length > limit)
        {
            throw new IllegalArgumentException("tree identity path of " + length + " bytes past end of record");
        }
        final byte[] bytes = new byte[length];
        buffer.getBytes(at + PATH_OFFSET, bytes);
        return new TreeIdentity(buffer.getLong(at + DEVICE_OFFSET), buffer.getLong(at + INODE_OFFSET),
            new String(bytes, StandardCharsets.UTF_8));
    }

    /**
     * @return the identity, or {@link #NONE} when the path is too long to carry.
     */
    public static TreeIdentity of(final long device, final long inode, final String path)
    {
        return path.getBytes(StandardCharsets.UTF_8).length > MAX_PATH_LENGTH ? NONE :
            new TreeIdentity(device, inode, path);
    }

    private byte[] pathBytes()
    {
        return path.getBytes(StandardCharsets.UTF_8);
    }

    /** {@inheritDoc} */
    public String toString()
    {
        return isPresent() ? path + " (device " + device + ", inode " + inode + ")" : "(none)";
    }
}
