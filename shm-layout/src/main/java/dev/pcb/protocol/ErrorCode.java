package dev.pcb.protocol;

/**
 * Error codes the broker answers with. Each has a stable number (on the wire) and a short name (in messages).
 */
public enum ErrorCode
{
    /** The path does not exist in the share. */
    NO_SUCH_FILE(1),
    /** A directory was expected. */
    NOT_A_DIRECTORY(2),
    /** A regular file was expected, the path is a directory. */
    IS_A_DIRECTORY(3),
    /** The path leaves its share: absolute, "..", or a symlink pointing out. */
    PATH_OUTSIDE_SHARE(4),
    /** The guest was not given a share of that id. */
    UNKNOWN_SHARE(5),
    /** Every window of the region is pinned: nothing can be evicted for this request. */
    NO_SPACE(6),
    /** The file changed on the host after this handle opened it; the window was not filled. */
    STALE(7),
    /** The handle is not open for this client. */
    BAD_HANDLE(8),
    /** The request record is malformed. */
    MALFORMED(9),
    /** The client is over a quota (handles, pins or request rate). */
    QUOTA_EXCEEDED(10),
    /** The host could not read the file. */
    IO_ERROR(11),
    /** The request came before ATTACH. */
    NOT_ATTACHED(12),
    /** The window index is past the end of the file version. */
    BEYOND_EOF(13),
    /** The host refused access to the path. */
    ACCESS_DENIED(14),
    /** The client speaks another major protocol version. */
    UNSUPPORTED_VERSION(15),
    /** The path is neither a regular file nor a directory. */
    NOT_REGULAR_FILE(16),
    /** The broker is shutting down. */
    SHUTTING_DOWN(17),
    /** An error code this side does not know. */
    UNKNOWN(0);

    private static final ErrorCode[] BY_VALUE = new ErrorCode[32];

    static
    {
        for (final ErrorCode code : values())
        {
            BY_VALUE[code.value] = code;
        }
    }

    private final int value;

    ErrorCode(final int value)
    {
        this.value = value;
    }

    /**
     * Wire value.
     *
     * @return the stable number.
     */
    public int value()
    {
        return value;
    }

    /**
     * Code of a wire value.
     *
     * @param value a wire value.
     * @return its code, or {@link #UNKNOWN}.
     */
    public static ErrorCode of(final int value)
    {
        if (value < 0 || value >= BY_VALUE.length || null == BY_VALUE[value])
        {
            return UNKNOWN;
        }
        return BY_VALUE[value];
    }
}
