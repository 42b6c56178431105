package dev.pcb.protocol;

/**
 * Ring record type ids. Requests flow guest to broker on a slot's request ring, responses broker to guest on its
 * response ring. Every response carries the correlation id of its request in its first 8 bytes.
 */
public final class MessageType
{
    /** Attach the client slot: answers {@link #ATTACHED} with the guest's shares. */
    public static final int ATTACH = 1;
    /** Open a file version: answers {@link #OPENED} with a handle. */
    public static final int OPEN = 2;
    /** Stat a path: answers {@link #STAT_RESULT}. */
    public static final int STAT = 3;
    /** List one page of a directory: answers {@link #LIST_RESULT}. */
    public static final int LIST = 4;
    /** Pin one window of an open file: answers {@link #ACQUIRED}. */
    public static final int ACQUIRE = 5;
    /** Unpin one window: no answer unless it is an error. */
    public static final int RELEASE = 6;
    /** Close a handle, dropping its pins: answers {@link #CLOSED}. */
    public static final int CLOSE = 7;
    /** Leave cleanly, dropping everything the client holds: answers {@link #DETACHED}. */
    public static final int DETACH = 8;
    /**
     * After a broker restart, claim a window this client still reads from the previous broker's time, so the new
     * broker never reuses it: answers {@link #HELD}. Released with a RELEASE whose handle id is
     * {@link WindowRequest#HELD_WINDOW_HANDLE}.
     */
    public static final int HOLD = 9;
    /**
     * The target of a symlink, as stored (never resolved): answers {@link #READLINK_RESULT}, a record in the
     * {@link PathRequest} layout whose path is the target.
     */
    public static final int READLINK = 10;
    /**
     * Move this client session to the newest tree version of a share (docs/versions.md): answers {@link #ADVANCED}
     * with the version the session is on now. Files already open keep their versions.
     */
    public static final int ADVANCE = 11;
    /**
     * After a broker restart, put this client session back on the tree version of a share it was on, named by its
     * {@link TreeIdentity} (docs/versions.md): answers {@link #ADVANCED} with the version the session is on now, the
     * one asked for if its directory is still there, else the current one.
     */
    public static final int RESUME = 12;

    /** Answer to ATTACH. */
    public static final int ATTACHED = 101;
    /** Answer to OPEN. */
    public static final int OPENED = 102;
    /** Answer to STAT. */
    public static final int STAT_RESULT = 103;
    /** Answer to LIST. */
    public static final int LIST_RESULT = 104;
    /** Answer to ACQUIRE. */
    public static final int ACQUIRED = 105;
    /** Answer to CLOSE. */
    public static final int CLOSED = 107;
    /** Answer to DETACH. */
    public static final int DETACHED = 108;
    /** Answer to HOLD. */
    public static final int HELD = 109;
    /** Answer to READLINK. */
    public static final int READLINK_RESULT = 110;
    /** Answer to ADVANCE and RESUME. */
    public static final int ADVANCED = 111;
    /** Error answer to any request. */
    public static final int ERROR = 199;

    private MessageType()
    {
    }

    /**
     * Name of a type id, for logs.
     *
     * @param typeId a record type id.
     * @return its name.
     */
    public static String name(final int typeId)
    {
        switch (typeId)
        {
            case ATTACH: return "ATTACH";
            case OPEN: return "OPEN";
            case STAT: return "STAT";
            case LIST: return "LIST";
            case ACQUIRE: return "ACQUIRE";
            case RELEASE: return "RELEASE";
            case CLOSE: return "CLOSE";
            case DETACH: return "DETACH";
            case HOLD: return "HOLD";
            case READLINK: return "READLINK";
            case ADVANCE: return "ADVANCE";
            case RESUME: return "RESUME";
            case ATTACHED: return "ATTACHED";
            case OPENED: return "OPENED";
            case STAT_RESULT: return "STAT_RESULT";
            case LIST_RESULT: return "LIST_RESULT";
            case ACQUIRED: return "ACQUIRED";
            case CLOSED: return "CLOSED";
            case DETACHED: return "DETACHED";
            case HELD: return "HELD";
            case READLINK_RESULT: return "READLINK_RESULT";
            case ADVANCED: return "ADVANCED";
            case ERROR: return "ERROR";
            default: return "UNKNOWN(" + typeId + ")";
        }
    }
}
