package dev.pcb.broker;

import dev.pcb.protocol.ErrorCode;
import dev.pcb.protocol.MessageType;

import static java.lang.System.Logger.Level.DEBUG;
import static java.lang.System.Logger.Level.INFO;
import static java.lang.System.Logger.Level.WARNING;

/**
 * The broker's log lines about what guests do: one per error answer, naming the guest, the client and the path, at a
 * level that says how much an operator should care, and one per client attached, released or detached. All share one
 * budget of lines per second, so a hostile or broken guest that floods bad requests or churns client slots slows
 * the conductor with log output no more than that and buries no other lines; and every guest-supplied string is
 * escaped ({@link #printable}), so a path cannot forge log lines or send terminal escapes.
 * <p>
 * Conductor thread only.
 */
final class ErrorLog
{
    /** Most lines written per second; the rest are counted and reported in one line. */
    static final int MAX_LINES_PER_SECOND = 20;
    /** Longest guest-supplied text written in one line, in chars. */
    static final int MAX_TEXT_LENGTH = 512;

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
        if (LOG.isLoggable(level) && takeLine(nowMs))
        {
            LOG.log(level, session.describe() + ": " + MessageType.name(requestType) + " answered " + code + ": " +
                printable(message));
        }
    }

    /**
     * Log a client event: attached, released, detached.
     *
     * @param level   how much an operator should care.
     * @param session the client.
     * @param event   what happened; may hold guest-supplied text.
     * @param nowMs   current time, ms.
     */
    void clientEvent(final System.Logger.Level level, final ClientSession session, final String event, final long nowMs)
    {
        if (LOG.isLoggable(level) && takeLine(nowMs))
        {
            LOG.log(level, session.describe() + " " + printable(event));
        }
    }

    private boolean takeLine(final long nowMs)
    {
        if (nowMs - periodStartMs >= 1000)
        {
            if (suppressed > 0)
            {
                LOG.log(WARNING, suppressed + " more lines about guests in the last second were not logged");
            }
            periodStartMs = nowMs;
            lines = 0;
            suppressed = 0;
        }
        if (lines >= MAX_LINES_PER_SECOND)
        {
            suppressed++;
            return false;
        }
        lines++;
        return true;
    }

    /**
     * Text safe for one log line: control characters (C0, DEL, C1) and backslashes escaped, at most
     * {@link #MAX_TEXT_LENGTH} chars kept.
     *
     * @param text from a guest, or naming something a guest chose.
     * @return the same text when it is already safe.
     */
    static String printable(final String text)
    {
        int i = 0;
        final int n = text.length();
        while (i < n && i < MAX_TEXT_LENGTH && isPlain(text.charAt(i)))
        {
            i++;
        }
        if (i == n)
        {
            return text;
        }
        final StringBuilder out = new StringBuilder(Math.min(n, MAX_TEXT_LENGTH) + 16).append(text, 0, i);
        for (; i < n && out.length() < MAX_TEXT_LENGTH; i++)
        {
            final char c = text.charAt(i);
            if (isPlain(c))
            {
                out.append(c);
            }
            else if ('\\' == c)
            {
                out.append("\\\\");
            }
            else if ('\n' == c)
            {
                out.append("\\n");
            }
            else
            {
                out.append(String.format("\\x%02x", (int)c));
            }
        }
        if (i < n)
        {
            out.append("...(").append(n - i).append(" more chars)");
        }
        return out.toString();
    }

    private static boolean isPlain(final char c)
    {
        return c >= 0x20 && c != 0x7f && c != '\\' && !(c >= 0x80 && c < 0xa0);
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
