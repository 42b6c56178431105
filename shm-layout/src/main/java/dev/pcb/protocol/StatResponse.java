package dev.pcb.protocol;

/**
 * STAT_RESULT: the attributes of a path, not following a final symlink.
 * <pre>
 *  0: correlation id (long) | 8: {@link FileAttributes} (56 bytes)
 * </pre>
 */
public final class StatResponse extends Flyweight
{
    /** Offset of the attributes. */
    public static final int ATTRIBUTES_OFFSET = 8;
    /** Record length. */
    public static final int LENGTH = ATTRIBUTES_OFFSET + FileAttributes.LENGTH;

    /**
     * Write the attributes.
     *
     * @param attributes of the path.
     * @return this.
     */
    public StatResponse putAttributes(final FileAttributes attributes)
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
