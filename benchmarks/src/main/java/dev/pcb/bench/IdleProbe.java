package dev.pcb.bench;

import dev.pcb.agent.AgentConfig;
import dev.pcb.agent.PcbAgent;
import dev.pcb.agent.PcbFile;
import org.HdrHistogram.Histogram;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/**
 * An agent process that {@link IdleCompare} drives over its standard input, one command a line, one answer a line:
 * <ul>
 *     <li>{@code pairs N}: N back-to-back acquire+release pairs of window 0, each timed: answers "p50 p99 max" in
 *     ns;</li>
 *     <li>{@code one}: one timed pair: answers its ns.</li>
 * </ul>
 * Between commands the process is blocked reading its input, so its agent is attached and idle. It retains no
 * windows: every pair is a round trip to the broker. It uses only the agent API that {@code fe348b5} already had,
 * so the same class runs against that build's jars (put first on the class path) for a before/after comparison.
 * <pre>
 * IdleProbe RUN-DIR GUEST PATH
 * </pre>
 */
public final class IdleProbe
{
    private IdleProbe()
    {
    }

    /**
     * Attach, open the file, fill window 0, print "ready", then answer commands until the input ends.
     *
     * @param args run directory, guest, share path of the file.
     * @throws Exception when the agent fails.
     */
    public static void main(final String[] args) throws Exception
    {
        try (PcbAgent agent = PcbAgent.attach(new AgentConfig().runDir(Path.of(args[0])).guest(args[1])
                .retainedWindows(0));
            PcbFile file = agent.open(args[2]))
        {
            file.acquire(0).close();
            System.out.println("ready");
            System.out.flush();
            final BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
            String line;
            while (null != (line = in.readLine()))
            {
                final String[] words = line.trim().split("\\s+");
                if ("one".equals(words[0]))
                {
                    final long t0 = System.nanoTime();
                    file.acquire(0).close();
                    System.out.println(System.nanoTime() - t0);
                }
                else if ("pairs".equals(words[0]))
                {
                    final Histogram histogram = new Histogram(10_000_000_000L, 3);
                    for (int i = 0, n = Integer.parseInt(words[1]); i < n; i++)
                    {
                        final long t0 = System.nanoTime();
                        file.acquire(0).close();
                        histogram.recordValue(Math.min(System.nanoTime() - t0, 10_000_000_000L));
                    }
                    System.out.println(histogram.getValueAtPercentile(50) + " " +
                        histogram.getValueAtPercentile(99) + " " + histogram.getMaxValue());
                }
                else
                {
                    System.out.println("error: unknown command " + line);
                }
                System.out.flush();
            }
        }
        System.exit(0);
    }
}
