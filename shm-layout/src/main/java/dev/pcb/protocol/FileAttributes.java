package dev.pcb.protocol;

import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;

/**
 * The attributes of a file version as they travel in OPENED and STAT_RESULT answers.
 * <pre>
 *  0: type (int) | 4: mode (int) | 8: size (long) | 16: mtime ns (long) | 24: ctime ns (long)
 *  32: inode (long) | 40: device (long) | 48: link count (int) | 52: reserved (int)
 * </pre>
 * The identity of a file is (device, inode); its content version is (size, mtime). {@link #sameVersionAs} is the one
 * place that rule is coded (see docs/coherence.md): ctime, mode and link count are reported but never make a new
 * version, because {@code rm}, {@code mv}, {@code ln} and {@code chmod} change them without changing a byte.
 */
public final class FileAttributes
{
    /** Offset of the type. */
    public static final int TYPE_OFFSET = 0;
    /** Offset of the mode. */
    public static final int MODE_OFFSET = 4;
    /** Offset of the size. */
    public static final int SIZE_OFFSET = 8;
    /** Offset of the mtime. */
    public static final int MTIME_OFFSET = 16;
    /** Offset of the ctime. */
    public static final int CTIME_OFFSET = 24;
    /** Offset of the inode. */
    public static final int INODE_OFFSET = 32;
    /** Offset of the device. */
    public static final int DEVICE_OFFSET = 40;
    /** Offset of the link count. */
    public static final int NLINK_OFFSET = 48;
    /** Encoded length. */
    public static final int LENGTH = 56;

    private int type;
    private int mode;
    private long size;
    private long mtimeNanos;
    private long ctimeNanos;
    private long inode;
    private long device;
    private int linkCount;

    /**
     * Set all fields.
     *
     * @param type       a {@link FileType}.
     * @param mode       st_mode.
     * @param size       bytes.
     * @param mtimeNanos modification time in ns since the epoch.
     * @param ctimeNanos change time in ns since the epoch.
     * @param inode      inode number.
     * @param device     device id.
     * @param linkCount  hard links.
     * @return this.
     */
    public FileAttributes set(
        final int type,
        final int mode,
        final long size,
        final long mtimeNanos,
        final long ctimeNanos,
        final long inode,
        final long device,
        final int linkCount)
    {
        this.type = type;
        this.mode = mode;
        this.size = size;
        this.mtimeNanos = mtimeNanos;
        this.ctimeNanos = ctimeNanos;
        this.inode = inode;
        this.device = device;
        this.linkCount = linkCount;
        return this;
    }

    /**
     * Encode at an offset.
     *
     * @param buffer to write.
     * @param at     absolute offset.
     */
    public void encode(final MutableDirectBuffer buffer, final int at)
    {
        buffer.putInt(at + TYPE_OFFSET, type);
        buffer.putInt(at + MODE_OFFSET, mode);
        buffer.putLong(at + SIZE_OFFSET, size);
        buffer.putLong(at + MTIME_OFFSET, mtimeNanos);
        buffer.putLong(at + CTIME_OFFSET, ctimeNanos);
        buffer.putLong(at + INODE_OFFSET, inode);
        buffer.putLong(at + DEVICE_OFFSET, device);
        buffer.putInt(at + NLINK_OFFSET, linkCount);
        buffer.putInt(at + NLINK_OFFSET + 4, 0);
    }

    /**
     * Decode from an offset.
     *
     * @param buffer to read.
     * @param at     absolute offset.
     * @return this.
     */
    public FileAttributes decode(final DirectBuffer buffer, final int at)
    {
        return set(
            buffer.getInt(at + TYPE_OFFSET),
            buffer.getInt(at + MODE_OFFSET),
            buffer.getLong(at + SIZE_OFFSET),
            buffer.getLong(at + MTIME_OFFSET),
            buffer.getLong(at + CTIME_OFFSET),
            buffer.getLong(at + INODE_OFFSET),
            buffer.getLong(at + DEVICE_OFFSET),
            buffer.getInt(at + NLINK_OFFSET));
    }

    /**
     * Copy another set of attributes.
     *
     * @param other source.
     * @return this.
     */
    public FileAttributes copyFrom(final FileAttributes other)
    {
        return set(other.type, other.mode, other.size, other.mtimeNanos, other.ctimeNanos, other.inode,
            other.device, other.linkCount);
    }

    /** @return a {@link FileType}. */
    public int type()
    {
        return type;
    }

    /** @return st_mode bits. */
    public int mode()
    {
        return mode;
    }

    /** @return size in bytes. */
    public long size()
    {
        return size;
    }

    /** @return modification time in ns since the epoch. */
    public long mtimeNanos()
    {
        return mtimeNanos;
    }

    /** @return change time in ns since the epoch. */
    public long ctimeNanos()
    {
        return ctimeNanos;
    }

    /** @return inode number. */
    public long inode()
    {
        return inode;
    }

    /** @return device id. */
    public long device()
    {
        return device;
    }

    /** @return hard link count. */
    public int linkCount()
    {
        return linkCount;
    }

    /** @return true for a regular file. */
    public boolean isRegularFile()
    {
        return FileType.REGULAR == type;
    }

    /** @return true for a directory. */
    public boolean isDirectory()
    {
        return FileType.DIRECTORY == type;
    }

    /**
     * The version rule: same identity (device, inode) and same content version (size, mtime in ns). ctime is not
     * part of it (docs/coherence.md, rule 4).
     *
     * @param other attributes to compare.
     * @return true when both describe the same bytes of the same file.
     */
    public boolean sameVersionAs(final FileAttributes other)
    {
        return device == other.device && inode == other.inode && size == other.size && mtimeNanos == other.mtimeNanos;
    }

    /**
     * Hash of exactly the fields {@link #sameVersionAs} compares, for maps keyed by version.
     *
     * @return a hash equal for attributes of the same version.
     */
    public int versionHashCode()
    {
        int h = Long.hashCode(device);
        h = 31 * h + Long.hashCode(inode);
        h = 31 * h + Long.hashCode(size);
        return 31 * h + Long.hashCode(mtimeNanos);
    }

    /** {@inheritDoc} */
    public String toString()
    {
        return "FileAttributes{type=" + FileType.tag(type) + ", mode=" + Integer.toOctalString(mode & 07777) +
            ", size=" + size + ", mtimeNanos=" + mtimeNanos + ", ctimeNanos=" + ctimeNanos + ", inode=" + inode +
            ", device=" + device + ", links=" + linkCount + '}';
    }
}
