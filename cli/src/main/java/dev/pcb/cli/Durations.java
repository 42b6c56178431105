package dev.pcb.cli;

import java.util.Locale;

/**
 * Short human renderings of time spans for the operator tools: "0.3 s", "42 s", "5m03s", "2h05m", "3d04h".
 */
final class Durations
{
    private Durations()
    {
    }

    /**
     * A span of seconds, short.
     *
     * @param seconds the span, not negative.
     * @return the rendering.
     */
    static String seconds(final double seconds)
    {
        if (seconds < 10)
        {
            return String.format(Locale.ROOT, "%.1f s", seconds);
        }
        final long s = (long)seconds;
        if (s < 60)
        {
            return s + " s";
        }
        if (s < 3600)
        {
            return String.format(Locale.ROOT, "%dm%02ds", s / 60, s % 60);
        }
        if (s < 86400)
        {
            return String.format(Locale.ROOT, "%dh%02dm", s / 3600, (s % 3600) / 60);
        }
        return String.format(Locale.ROOT, "%dd%02dh", s / 86400, (s % 86400) / 3600);
    }

    /**
     * A span of seconds before now.
     *
     * @param seconds the span, not negative.
     * @return for example "12 s ago".
     */
    static String ago(final double seconds)
    {
        return seconds(seconds) + " ago";
    }

    /**
     * A span of nanoseconds, with a unit that keeps it readable.
     *
     * @param nanos the span.
     * @return for example "850 us", "12.3 ms", "4.20 s".
     */
    static String nanos(final double nanos)
    {
        if (nanos < 1_000)
        {
            return String.format(Locale.ROOT, "%.0f ns", nanos);
        }
        if (nanos < 1_000_000)
        {
            return String.format(Locale.ROOT, "%.1f us", nanos / 1e3);
        }
        if (nanos < 1_000_000_000)
        {
            return String.format(Locale.ROOT, "%.1f ms", nanos / 1e6);
        }
        return String.format(Locale.ROOT, "%.2f s", nanos / 1e9);
    }
}
