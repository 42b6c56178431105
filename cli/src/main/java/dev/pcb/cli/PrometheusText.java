package dev.pcb.cli;

import dev.pcb.layout.CounterType;
import dev.pcb.layout.CountersSnapshot;

import java.math.BigDecimal;

/**
 * Renders a {@link CountersSnapshot} in the Prometheus text exposition format 0.0.4: for each metric family a
 * {@code # HELP} and a {@code # TYPE} line, then its samples, labelled by share, guest or error code.
 * <p>
 * Stored values are integers in the unit the broker counts in; values whose metric is in seconds are scaled with
 * exact decimal arithmetic, so a counter never prints as a rounded or exponent-formatted number.
 */
public final class PrometheusText
{
    /** The Content-Type of this format. */
    public static final String CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

    private PrometheusText()
    {
    }

    /**
     * Render every counter of a snapshot, and whether the broker is up.
     *
     * @param snapshot the counters.
     * @return the exposition text, each line ending in a newline.
     */
    public static String render(final CountersSnapshot snapshot)
    {
        final StringBuilder text = new StringBuilder(8192);
        family(text, "pcb_broker_up", "gauge", "1 when the broker that publishes these counters is serving, else 0.");
        sample(text, "pcb_broker_up", "", "", snapshot.isBrokerUp() ? "1" : "0");
        family(text, "pcb_broker_start_timestamp_seconds", "gauge", "When the broker started (Unix time).");
        sample(text, "pcb_broker_start_timestamp_seconds", "", "", scaled(snapshot.startTimestampMs(), 3));
        family(text, "pcb_broker_heartbeat_timestamp_seconds", "gauge",
            "When the broker last updated its counters file (Unix time).");
        sample(text, "pcb_broker_heartbeat_timestamp_seconds", "", "", scaled(snapshot.heartbeatTimestampMs(), 3));

        for (final CounterType type : CounterType.values())
        {
            boolean first = true;
            for (final CountersSnapshot.Counter counter : snapshot.counters())
            {
                if (counter.type() != type)
                {
                    continue;
                }
                if (first)
                {
                    family(text, type.metricName(), type.kind().text(), type.help());
                    first = false;
                }
                sample(text, type.metricName(), type.scope().label(), counter.name(),
                    scaled(counter.value(), type.decimalShift()));
            }
        }
        return text.toString();
    }

    private static void family(final StringBuilder text, final String name, final String type, final String help)
    {
        text.append("# HELP ").append(name).append(' ').append(escapeHelp(help)).append('\n');
        text.append("# TYPE ").append(name).append(' ').append(type).append('\n');
    }

    private static void sample(
        final StringBuilder text, final String name, final String labelName, final String labelValue,
        final String value)
    {
        text.append(name);
        if (!labelName.isEmpty())
        {
            text.append('{').append(labelName).append("=\"").append(escapeLabelValue(labelValue)).append("\"}");
        }
        text.append(' ').append(value).append('\n');
    }

    /**
     * An integer value shifted right by decimal places, in plain notation.
     *
     * @param value        stored integer.
     * @param decimalShift places, as {@link CounterType#decimalShift()}.
     * @return for example "1234" (shift 0) or "1.234" (shift 3).
     */
    static String scaled(final long value, final int decimalShift)
    {
        return 0 == decimalShift ? Long.toString(value) :
            BigDecimal.valueOf(value, decimalShift).stripTrailingZeros().toPlainString();
    }

    /**
     * Escape a label value as the format requires: backslash, double quote and line feed.
     *
     * @param value raw value.
     * @return escaped value.
     */
    static String escapeLabelValue(final String value)
    {
        return value.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n");
    }

    private static String escapeHelp(final String help)
    {
        return help.replace("\\", "\\\\").replace("\n", "\\n");
    }
}
