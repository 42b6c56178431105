package dev.pcb.cli;

import dev.pcb.layout.CounterType;
import dev.pcb.layout.CountersSnapshot;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Instant;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

/**
 * {@code pcb stat}: the broker's counters from its run directory, as a table; {@code --watch} redraws it like top.
 * <p>
 * It reads {@code counters.dat} and never talks to the broker, so it cannot disturb it, and it still prints the
 * last values when the broker is down, saying so.
 */
@Command(
    name = "stat",
    mixinStandardHelpOptions = true,
    description = {
        "Show the broker's counters: hits, misses, fills, evictions, windows per share, clients and pins per guest.",
        "Reads the counters file in the run directory without talking to the broker; when the broker is down it",
        "prints the last values and says so (exit code 3)."
    })
public final class StatCommand implements Callable<Integer>
{
    /** Exit code when the counters were printed but the broker that wrote them is down. */
    public static final int EXIT_BROKER_DOWN = 3;

    private static final String CLEAR_SCREEN = "\033[H\033[2J";
    private static final DateTimeFormatter TIME =
        DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss", Locale.ROOT).withZone(ZoneId.systemDefault());

    @Option(names = "--run-dir", required = true, paramLabel = "DIR", description = "The broker's run directory.")
    Path runDir;

    @Option(names = {"-w", "--watch"}, description = "Redraw until interrupted (Ctrl-C), with rates per second.")
    boolean watch;

    @Option(names = "--interval", paramLabel = "MS", description = "Redraw interval with --watch (default: ${DEFAULT-VALUE} ms).")
    long intervalMs = 1000;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    /** {@inheritDoc} */
    public Integer call() throws IOException, InterruptedException
    {
        final PrintWriter out = spec.commandLine().getOut();
        if (!watch)
        {
            final CountersSnapshot snapshot = CountersSnapshot.read(runDir);
            out.print(render(snapshot, null, runDir));
            out.flush();
            return snapshot.isBrokerUp() ? 0 : EXIT_BROKER_DOWN;
        }

        if (intervalMs < 10)
        {
            throw new CommandLine.ParameterException(spec.commandLine(), "--interval must be at least 10 ms");
        }
        CountersSnapshot previous = null;
        while (!Thread.currentThread().isInterrupted())
        {
            String frame;
            try
            {
                final CountersSnapshot snapshot = CountersSnapshot.read(runDir);
                // Rates only across one broker instance: a restart resets every counter.
                frame = render(snapshot,
                    null != previous && previous.brokerEpoch() == snapshot.brokerEpoch() ? previous : null, runDir);
                previous = snapshot;
            }
            catch (final NoSuchFileException ex)
            {
                frame = "no counters in " + runDir + " yet: waiting for a broker to start there\n";
                previous = null;
            }
            out.print(CLEAR_SCREEN);
            out.print(frame);
            out.flush();
            Thread.sleep(intervalMs);
        }
        return 0;
    }

    /**
     * The table {@code pcb stat} prints.
     *
     * @param now      the counters now.
     * @param previous the counters one interval ago, for rates; null for none.
     * @param runDir   the run directory, for the title.
     * @return lines of text.
     */
    static String render(final CountersSnapshot now, final CountersSnapshot previous, final Path runDir)
    {
        final StringBuilder text = new StringBuilder(4096);
        final double ageSeconds = Math.max(0, now.takenAtMs() - now.heartbeatTimestampMs()) / 1000.0;
        text.append("pcb broker pid ").append(now.brokerPid()).append(", run dir ").append(runDir).append('\n');
        if (now.isBrokerUp())
        {
            text.append("state: running, up ")
                .append(Durations.seconds(Math.max(0, now.takenAtMs() - now.startTimestampMs()) / 1000.0))
                .append(", heartbeat ").append(Durations.ago(ageSeconds)).append('\n');
        }
        else
        {
            text.append("state: ").append(describeState(now)).append('\n');
            text.append("       the values below are the last ones it published, at ")
                .append(TIME.format(Instant.ofEpochMilli(now.heartbeatTimestampMs()))).append('\n');
        }
        text.append('\n');

        final double seconds = null == previous ? 0 : (now.takenAtMs() - previous.takenAtMs()) / 1000.0;
        final boolean rates = null != previous && seconds > 0;
        text.append(String.format(Locale.ROOT, "  %-18s %15s%s%n", "COUNTER", "VALUE", rates ? "        PER SEC" : ""));
        for (final CounterType type : CounterType.values())
        {
            if (CounterType.Scope.BROKER != type.scope())
            {
                continue;
            }
            final long value = now.value(type);
            final StringBuilder line = new StringBuilder(String.format(Locale.ROOT, "  %-18s %15d", type.title(), value));
            if (rates)
            {
                final double rate = (value - previous.value(type)) / seconds;
                line.append(String.format(Locale.ROOT, " %14.1f", rate));
            }
            final String note = note(now, type);
            if (!note.isEmpty())
            {
                line.append("   ").append(note);
            }
            text.append(line).append('\n');
        }

        final List<String> shares = now.names(CounterType.Scope.SHARE);
        if (!shares.isEmpty())
        {
            text.append('\n');
            text.append(String.format(Locale.ROOT, "  %-16s %10s %10s %10s %9s %9s %9s%n", "SHARE", "WINDOWS", "FREE",
                "PINNED", "VERSIONS", "ADVANCES", "BADFLIPS"));
            for (final String share : shares)
            {
                text.append(String.format(Locale.ROOT, "  %-16s %10d %10d %10d %9d %9d %9d%n", share,
                    now.value(CounterType.WINDOWS, share),
                    now.value(CounterType.WINDOWS_FREE, share),
                    now.value(CounterType.WINDOWS_PINNED, share),
                    now.value(CounterType.TREE_VERSIONS_IN_USE, share),
                    now.value(CounterType.TREE_ADVANCES, share),
                    now.value(CounterType.TREE_BAD_FLIPS, share)));
            }
        }

        final List<String> guests = now.names(CounterType.Scope.GUEST);
        if (!guests.isEmpty())
        {
            text.append('\n');
            text.append(String.format(Locale.ROOT, "  %-16s %8s %8s %8s %12s  %s%n",
                "GUEST", "CLIENTS", "HANDLES", "PINS", "REQUESTS", "LAST HEARTBEAT"));
            for (final String guest : guests)
            {
                final long heartbeat = now.value(CounterType.GUEST_LAST_HEARTBEAT, guest);
                text.append(String.format(Locale.ROOT, "  %-16s %8d %8d %8d %12d  %s%n", guest,
                    now.value(CounterType.GUEST_CLIENTS, guest),
                    now.value(CounterType.GUEST_HANDLES, guest),
                    now.value(CounterType.GUEST_PINS, guest),
                    now.value(CounterType.GUEST_REQUESTS, guest),
                    0 == heartbeat ? "never" : Durations.ago(Math.max(0, now.takenAtMs() - heartbeat) / 1000.0)));
            }
        }
        return text.toString();
    }

    private static String note(final CountersSnapshot now, final CounterType type)
    {
        switch (type)
        {
            case HITS:
            {
                final long lookups = now.value(CounterType.HITS) + now.value(CounterType.MISSES);
                return 0 == lookups ? "" :
                    String.format(Locale.ROOT, "(%.1f%% of acquires)", 100.0 * now.value(CounterType.HITS) / lookups);
            }
            case BYTES_FILLED:
                return "(" + Sizes.format(now.value(type)) + ")";
            case FILL_TIME:
            {
                final long fills = now.value(CounterType.FILLS);
                return "ns (" + Durations.nanos(now.value(type)) +
                    (0 == fills ? "" : ", " + Durations.nanos((double)now.value(type) / fills) + " per fill") + ")";
            }
            case ERRORS:
            {
                final StringBuilder codes = new StringBuilder();
                for (final CountersSnapshot.Counter counter : now.counters())
                {
                    if (CounterType.ERRORS_BY_CODE == counter.type() && 0 != counter.value())
                    {
                        codes.append(codes.length() == 0 ? "(" : ", ").append(counter.name()).append(' ')
                            .append(counter.value());
                    }
                }
                return codes.length() == 0 ? "" : codes.append(')').toString();
            }
            default:
                return "";
        }
    }

    /**
     * One line saying why a broker is thought down.
     *
     * @param now a snapshot whose broker is not {@link CountersSnapshot.BrokerState#RUNNING}.
     * @return the line.
     */
    static String describeState(final CountersSnapshot now)
    {
        final double heartbeatAgeSeconds = Math.max(0, now.takenAtMs() - now.heartbeatTimestampMs()) / 1000.0;
        switch (now.state())
        {
            case RUNNING:
                return "running";
            case STOPPED:
                return "DOWN: the broker stopped " + Durations.ago(heartbeatAgeSeconds);
            case DEAD:
                return "DOWN: broker process " + now.brokerPid() + " is not running (last heartbeat " +
                    Durations.ago(heartbeatAgeSeconds) + ")";
            default:
                return "DOWN: broker pid " + now.brokerPid() + " has not heartbeated for " +
                    Durations.seconds(heartbeatAgeSeconds) + " (hung, or the pid was reused)";
        }
    }
}
