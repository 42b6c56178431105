package dev.pcb.testsupport;

import dev.pcb.layout.CountersSnapshot;

import java.io.IOException;
import java.nio.file.Path;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Operator commands ({@code pcb stat}, {@code pcb warm}) run as real processes, and a bounded wait for the broker's
 * counters to reach a state.
 */
public final class PcbCommand
{
    private PcbCommand()
    {
    }

    /**
     * Run {@code pcb ARGS} in its own JVM to completion (at most 120 s).
     *
     * @param args pcb arguments.
     * @return what it did.
     * @throws Exception on timeout or I/O failure.
     */
    public static AgentProcess run(final String... args) throws Exception
    {
        return AgentProcess.await(JavaProcess.pcb(args).start());
    }

    /**
     * Read the counters of a running broker until they satisfy a condition, and then until a gauge sample taken
     * after that moment is in: RELEASE is not answered and gauges are sampled every 100 ms, so a test waits for
     * them instead of sleeping, and never reads a gauge older than the events it waited for.
     *
     * @param runDir    the broker's run directory.
     * @param condition what the counters must show.
     * @return a snapshot that satisfies it, sampled after it was first seen.
     * @throws Exception when none does within 20 s; the message has the last snapshot's values.
     */
    public static CountersSnapshot awaitCounters(final Path runDir, final Predicate<CountersSnapshot> condition)
        throws Exception
    {
        final long deadline = System.nanoTime() + 20_000_000_000L;
        CountersSnapshot last = null;
        long metAtMs = -1;
        while (System.nanoTime() < deadline)
        {
            try
            {
                last = CountersSnapshot.read(runDir);
                if (!condition.test(last))
                {
                    metAtMs = -1;
                }
                else if (metAtMs < 0)
                {
                    metAtMs = System.currentTimeMillis();
                }
                else if (last.heartbeatTimestampMs() > metAtMs)
                {
                    // The broker samples its gauges, then writes the heartbeat: this sample began after metAtMs.
                    return last;
                }
            }
            catch (final IOException ignore)
            {
                // Not published yet.
            }
            Thread.sleep(20);
        }
        throw new AssertionError("counters did not reach the expected state within 20 s; last: " +
            (null == last ? "none" : last.counters()));
    }

    /**
     * The value of a counter row of {@code pcb stat}'s table.
     *
     * @param stat  the output.
     * @param title the row title, e.g. "bytes filled".
     * @return its value.
     */
    public static long statRow(final String stat, final String title)
    {
        final Matcher matcher = Pattern.compile("(?m)^  " + Pattern.quote(title) + " +(-?\\d+)( |$)").matcher(stat);
        if (!matcher.find())
        {
            throw new AssertionError("no row '" + title + "' in:\n" + stat);
        }
        return Long.parseLong(matcher.group(1));
    }
}
