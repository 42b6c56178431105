package dev.pcb.broker;

import dev.pcb.protocol.ErrorCode;
import dev.pcb.protocol.MessageType;

import static java.lang.System.Logger.Level.DEBUG;
import static java.lang.System.Logger.Level.INFO;
import static java.lang.System.Logger.Level.WARNING;

/**
 * One log line per error answer, naming the guest, the client and the path, at a level that says how much an
 * operator should care, and rate limited: a hostile or broken guest that sends a flood of bad requests must not slow
 * the conductor with log output nor bury the other lines.
 * <p>
 * Conductor thread only.
 */
final class ErrorLog
{
    /** Most error lines written per second; the rest are counted and reported in one line. */
    static final int MAX_LINES_PER_SECOND = 20;

    private static final System.Logger LOG = System.getLogger("pcb.broker");

    private long periodStartMs;
    private int lines;
    private long suppressed;

    /**
     * Log an error answer.
     *
     * @param session     the client answered.
     * @param requestType what it asked.
     * @param code        the error.
     * @param message     the message sent, which names the path where there is one.
     * @param nowMs       current time, ms.
     */
    void log(
        final ClientSession session, final int requestType, final ErrorCode code, final String message,
        final long nowMs)
    {
        final System.Logger.Level level = levelOf(code);
        if (!LOG.isLoggable(level))
        {
            return;
        }
        if (nowMs - periodStartMs >= 1000)
        {
            if (suppressed > 0)
            {
                LOG.log(WARNING, suppressed + " more error answers in the last second were not logged");
            }
            periodStartMs = nowMs;
            lines = 0;
            suppressed = 0;
        }
        if (lines >= MAX_LINES_PER_SECOND)
        {
            suppressed++;
            return;
        }
        lines++;
        LOG.log(level, session.describe() + ": " + MessageType.name(requestType) + " answered " + code + ": " +
            message);
    }

    /**
     * How much an operator should care about an error answer.
     *
     * @param code the error.
     * @return DEBUG for what applications do every day (a missing file, a read past the end), INFO for what may
     *     need tuning or a look (STALE, NO_SPACE, quotas, refused paths), WARNING for what points at a broken or
     *     hostile client or a failing host disk.
     */
    static System.Logger.Level levelOf(final ErrorCode code)
    {
        switch (code)
        {
            case NO_SUCH_FILE:
            case NOT_A_DIRECTORY:
            case IS_A_DIRECTORY:
            case NOT_REGULAR_FILE:
            case BEYOND_EOF:
            case SHUTTING_DOWN:
                return DEBUG;
            case STALE:
            case NO_SPACE:
            case QUOTA_EXCEEDED:
            case ACCESS_DENIED:
            case PATH_OUTSIDE_SHARE:
            case UNKNOWN_SHARE:
            case UNSUPPORTED_VERSION:
                return INFO;
            default:
                return WARNING;
        }
    }
}
