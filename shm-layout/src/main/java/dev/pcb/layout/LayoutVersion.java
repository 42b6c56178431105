package dev.pcb.layout;

/**
 * Version of the pcb shared-memory layouts and ring protocol.
 * <p>
 * Bumped on any change to a byte offset, a record layout or a message meaning. A reader that finds another
 * version refuses the region with a message naming both versions rather than guessing.
 */
public final class LayoutVersion
{
    /**
     * Current major version: incompatible changes bump it. 3.0: ATTACHED share entries carry the tree version, and each
     * LIST_RESULT entry carries the full attributes.
     */
    public static final int MAJOR = 3;

    /**
     * Current minor version: compatible additions bump it. 3.1: the control region's doorbell and sleeping flag and
     * the client slot's owner flags (an owner without flags is polled, as before). 3.2: tree identities in ATTACHED
     * (after the entries) and ADVANCED, and RESUME (docs/versions.md, broker restart). 3.3: the client slot's answer
     * waiters and answer doorbell ({@link AnswerDoorbell}; an agent blocks on it only when the region's broker speaks
     * 3.3 or later).
     */
    public static final int MINOR = 3;

    /** The encoded version as stored in headers: {@code MAJOR << 16 | MINOR}. */
    public static final int CURRENT = (MAJOR << 16) | MINOR;

    private LayoutVersion()
    {
    }

    /**
     * Is a stored version readable by this code?
     *
     * @param encoded version as stored in a header.
     * @return true when the major versions match.
     */
    public static boolean isCompatible(final int encoded)
    {
        return (encoded >>> 16) == MAJOR;
    }

    /**
     * Render an encoded version for messages.
     *
     * @param encoded version as stored in a header.
     * @return "major.minor".
     */
    public static String toString(final int encoded)
    {
        return (encoded >>> 16) + "." + (encoded & 0xFFFF);
    }
}
