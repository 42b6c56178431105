package dev.pcb.protocol;

/**
 * ATTACH: the first request on a freshly claimed slot.
 * <pre>
 *  0: correlation id (long) | 8: layout version (int) | 12: pid in the guest (int)
 * </pre>
 */
public final class AttachRequest extends Flyweight
{
    /** Offset of the layout version the client speaks. */
    public static final int LAYOUT_VERSION_OFFSET = 8;
    /** Offset of the client's pid in its own system. */
    public static final int PID_OFFSET = 12;
    /** Record length. */
    public static final int LENGTH = 16;

    /**
     * Is a record of this length, as the ring reported it, long enough to be read as a AttachRequest?
     *
     * @param length of the record.
     * @return true when every field lies inside the record.
     */
    public static boolean isWellFormed(final int length)
    {
        return length >= LENGTH;
    }

    /**
     * Layout version.
     *
     * @return the version the client speaks.
     */
    public int layoutVersion()
    {
        return buffer.getInt(offset + LAYOUT_VERSION_OFFSET);
    }

    /**
     * Set the layout version.
     *
     * @param version encoded version.
     * @return this.
     */
    public AttachRequest layoutVersion(final int version)
    {
        buffer.putInt(offset + LAYOUT_VERSION_OFFSET, version);
        return this;
    }

    /**
     * Pid of the client.
     *
     * @return pid in the guest.
     */
    public int pid()
    {
        return buffer.getInt(offset + PID_OFFSET);
    }

    /**
     * Set the pid.
     *
     * @param pid pid in the guest.
     * @return this.
     */
    public AttachRequest pid(final int pid)
    {
        buffer.putInt(offset + PID_OFFSET, pid);
        return this;
    }
}
