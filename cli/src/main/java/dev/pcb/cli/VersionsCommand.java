package dev.pcb.cli;

import dev.pcb.layout.CountersSnapshot;
import dev.pcb.layout.VersionsSnapshot;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

/**
 * {@code pcb versions}: the tree versions of each share (docs/versions.md), which is current, and who still reads
 * each; {@code --wait-unused PATH} waits until nothing reads a version directory, for a publish script to remove it.
 * <p>
 * Reads the {@code versions-SHARE} files the broker keeps in its run directory, never talks to it.
 */
@Command(
    name = "versions",
    mixinStandardHelpOptions = true,
    description = {
        "List the tree versions of versioned shares: every version directory served since the broker started,",
        "which one is current, and the guests, client sessions and open files still on each.",
        "With --wait-unused, exit 0 as soon as nothing reads that version directory, or 1 naming who still does",
        "when the timeout passes. Exit 3 when the broker is down."
    })
public final class VersionsCommand implements Callable<Integer>
{
    /** Exit code when the broker that wrote the files is down. */
    public static final int EXIT_BROKER_DOWN = 3;

    private static final long POLL_MS = 50;

    @Option(names = "--run-dir", required = true, paramLabel = "DIR", description = "The broker's run directory.")
    Path runDir;

    @Parameters(index = "0", arity = "0..1", paramLabel = "SHARE", description = "Only this share.")
    String share;

    @Option(names = "--json", description = "Print JSON instead of a table.")
    boolean json;

    @Option(names = "--wait-unused", paramLabel = "PATH",
        description = "Wait until no client session or open file is on this version directory.")
    Path waitUnused;

    @Option(names = "--timeout", paramLabel = "DURATION", converter = DurationConverter.class,
        description = "How long --wait-unused waits: 500ms, 30s, 5m, 1h (default: ${DEFAULT-VALUE}).")
    Duration timeout = Duration.ofSeconds(60);

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    /** {@inheritDoc} */
    public Integer call() throws IOException, InterruptedException
    {
        final PrintWriter out = spec.commandLine().getOut();
        final CountersSnapshot counters = CountersSnapshot.read(runDir);
        if (!counters.isBrokerUp())
        {
            spec.commandLine().getErr().println("pcb versions: the broker of " + runDir + " is down");
            return EXIT_BROKER_DOWN;
        }
        if (null != waitUnused)
        {
            return waitUnused(out, counters.brokerEpoch());
        }
        final List<VersionsSnapshot> snapshots = read(counters.brokerEpoch());
        out.print(json ? json(snapshots) : table(snapshots));
        out.flush();
        return 0;
    }

    private List<VersionsSnapshot> read(final long epoch) throws IOException
    {
        final List<VersionsSnapshot> snapshots = new ArrayList<>();
        for (final String name : null != share ? List.of(share) : VersionsSnapshot.shares(runDir))
        {
            final VersionsSnapshot snapshot;
            try
            {
                snapshot = VersionsSnapshot.read(runDir, name);
            }
            catch (final NoSuchFileException ex)
            {
                throw new CommandLine.ParameterException(spec.commandLine(), "no share " + name + " in " + runDir);
            }
            // A file left by a previous broker says nothing about this one's clients.
            if (snapshot.epoch() == epoch)
            {
                snapshots.add(snapshot);
            }
        }
        return snapshots;
    }

    private int waitUnused(final PrintWriter out, final long epoch) throws IOException, InterruptedException
    {
        final String wanted = canonical(waitUnused);
        final long deadline = System.nanoTime() + timeout.toNanos();
        String holders;
        do
        {
            holders = holders(read(epoch), wanted);
            if (null == holders)
            {
                out.println(wanted + ": unused");
                out.flush();
                return 0;
            }
            Thread.sleep(POLL_MS);
        }
        while (System.nanoTime() < deadline);
        spec.commandLine().getErr().println(wanted + " still in use after " + timeout.toMillis() + " ms: " + holders);
        return Pcb.EXIT_FAILURE;
    }

    private static String canonical(final Path path)
    {
        try
        {
            return path.toRealPath().toString();
        }
        catch (final IOException ex)
        {
            // Removed already: the broker's record still names it by the path it had.
            return path.toAbsolutePath().normalize().toString();
        }
    }

    /**
     * @return who is on the version directory, one phrase; null when no one.
     */
    static String holders(final List<VersionsSnapshot> snapshots, final String path)
    {
        final List<String> who = new ArrayList<>();
        for (final VersionsSnapshot snapshot : snapshots)
        {
            for (final VersionsSnapshot.Version version : snapshot.versions())
            {
                if (!version.path().equals(path) || version.isUnused())
                {
                    continue;
                }
                if ("current".equals(version.state()))
                {
                    who.add("it is the current version of share " + snapshot.share());
                }
                for (final VersionsSnapshot.User user : version.users())
                {
                    who.add("guest " + user.guest() + " pid " + user.pid() + " (slot " + user.slot() + ", " +
                        (user.session() ? "session, " : "") + user.handles() + " handles)");
                }
            }
        }
        return who.isEmpty() ? null : String.join("; ", who);
    }

    private static String table(final List<VersionsSnapshot> snapshots)
    {
        final StringBuilder out = new StringBuilder();
        for (final VersionsSnapshot s : snapshots)
        {
            out.append("share ").append(s.share())
                .append(null != s.link() ? "  link " + s.link() : "  (plain directory)")
                .append("  current ").append(s.current())
                .append("  in use ").append(s.inUse())
                .append("  advances ").append(s.advances())
                .append("  bad flips ").append(s.badFlips()).append('\n');
            out.append(String.format(Locale.ROOT, "  %-8s %-8s %8s %8s  %s%n", "version", "state", "sessions",
                "handles", "path"));
            for (final VersionsSnapshot.Version v : s.versions())
            {
                out.append(String.format(Locale.ROOT, "  %-8d %-8s %8d %8d  %s%n", v.number(), v.state(),
                    v.sessions(), v.handles(), v.path()));
                for (final VersionsSnapshot.User u : v.users())
                {
                    out.append(String.format(Locale.ROOT, "           guest %s pid %d slot %d:%s %d handles%n",
                        u.guest(), u.pid(), u.slot(), u.session() ? " session," : "", u.handles()));
                }
            }
        }
        return out.toString();
    }

    private static String json(final List<VersionsSnapshot> snapshots)
    {
        final StringBuilder out = new StringBuilder("[");
        for (int i = 0; i < snapshots.size(); i++)
        {
            final VersionsSnapshot s = snapshots.get(i);
            out.append(i > 0 ? "," : "").append("{\"share\":").append(quote(s.share()))
                .append(",\"link\":").append(null != s.link() ? quote(s.link()) : "null")
                .append(",\"current\":").append(s.current())
                .append(",\"versionsInUse\":").append(s.inUse())
                .append(",\"advances\":").append(s.advances())
                .append(",\"badFlips\":").append(s.badFlips())
                .append(",\"versions\":[");
            for (int j = 0; j < s.versions().size(); j++)
            {
                final VersionsSnapshot.Version v = s.versions().get(j);
                out.append(j > 0 ? "," : "").append("{\"number\":").append(v.number())
                    .append(",\"state\":").append(quote(v.state()))
                    .append(",\"path\":").append(quote(v.path()))
                    .append(",\"sessions\":").append(v.sessions())
                    .append(",\"handles\":").append(v.handles())
                    .append(",\"users\":[");
                for (int k = 0; k < v.users().size(); k++)
                {
                    final VersionsSnapshot.User u = v.users().get(k);
                    out.append(k > 0 ? "," : "").append("{\"guest\":").append(quote(u.guest()))
                        .append(",\"slot\":").append(u.slot())
                        .append(",\"pid\":").append(u.pid())
                        .append(",\"session\":").append(u.session())
                        .append(",\"handles\":").append(u.handles()).append('}');
                }
                out.append("]}");
            }
            out.append("]}");
        }
        return out.append("]\n").toString();
    }

    private static String quote(final String text)
    {
        final StringBuilder out = new StringBuilder("\"");
        for (final char c : text.toCharArray())
        {
            if ('"' == c || '\\' == c)
            {
                out.append('\\').append(c);
            }
            else if (c < 0x20)
            {
                out.append(String.format(Locale.ROOT, "\\u%04x", (int)c));
            }
            else
            {
                out.append(c);
            }
        }
        return out.append('"').toString();
    }

    /**
     * "500ms", "30s", "5m", "1h", or plain seconds.
     */
    static final class DurationConverter implements CommandLine.ITypeConverter<Duration>
    {
        /** {@inheritDoc} */
        public Duration convert(final String value)
        {
            final String v = value.trim().toLowerCase(Locale.ROOT);
            try
            {
                if (v.endsWith("ms"))
                {
                    return Duration.ofMillis(Long.parseLong(v.substring(0, v.length() - 2)));
                }
                if (v.endsWith("s"))
                {
                    return Duration.ofSeconds(Long.parseLong(v.substring(0, v.length() - 1)));
                }
                if (v.endsWith("m"))
                {
                    return Duration.ofMinutes(Long.parseLong(v.substring(0, v.length() - 1)));
                }
                if (v.endsWith("h"))
                {
                    return Duration.ofHours(Long.parseLong(v.substring(0, v.length() - 1)));
                }
                return Duration.ofSeconds(Long.parseLong(v));
            }
            catch (final NumberFormatException ex)
            {
                throw new CommandLine.TypeConversionException("not a duration: " + value + " (try 500ms, 30s, 5m)");
            }
        }
    }
}
