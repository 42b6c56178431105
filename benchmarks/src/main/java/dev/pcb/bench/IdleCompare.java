package dev.pcb.bench;

import dev.pcb.testsupport.BrokerProcess;
import dev.pcb.testsupport.FileTrees;
import dev.pcb.testsupport.JavaProcess;
import org.agrona.CloseHelper;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;

/**
 * Issue 18 item 3 for one or more builds side by side, in one run: each build's broker and one idle agent
 * ({@link IdleProbe}) run at the same time, so "before" and "after" share the machine's state:
 * <ol>
 *     <li>idle CPU of each broker with no agent attached (the same 10 s for all, once they had 30 s to warm up);</li>
 *     <li>acquire+release p50/p99 under load: rounds of back-to-back pairs, the builds alternating round by
 *     round;</li>
 *     <li>idle CPU of each broker and of its attached idle agent (10 s, twice);</li>
 *     <li>the first acquire+release after 1 s, 10 s and 60 s of idleness, several samples each, the builds asked
 *     one right after the other (order alternating).</li>
 * </ol>
 * Each build is a class path holding its cli jar (the broker) and its agent, with this module's jar last (for
 * {@link IdleProbe}, which uses only API the older build had). Every phase reports the CPU the rest of the machine
 * used meanwhile.
 * <pre>
 * IdleCompare --build NAME=CLASSPATH [--build ...] [--tries 5,3,1] [--load-rounds 10] [--out FILE.md]
 * </pre>
 * Without {@code --build}, the one build is this JVM's class path, named "this".
 */
public final class IdleCompare
{
    private static final long[] IDLE_MS = {1_000, 10_000, 60_000};
    private static final int PAIRS_PER_ROUND = 20_000;
    private static final String SHARE = "idle-compare-share";

    private IdleCompare()
    {
    }

    /** One build under test: its broker and its probe agent. */
    private static final class Build implements AutoCloseable
    {
        final String name;
        final String classPath;
        BrokerProcess broker;
        Process probe;
        BufferedReader answers;
        PrintStream commands;

        Build(final String name, final String classPath)
        {
            this.name = name;
            this.classPath = classPath;
        }

        List<String> java(final String mainClass, final String... args)
        {
            final List<String> command = new ArrayList<>();
            command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
            command.addAll(JavaProcess.jvmFlags());
            command.addAll(List.of("-Xmx256m", "-cp", classPath, mainClass));
            command.addAll(List.of(args));
            return command;
        }

        void startBroker(final Path share) throws IOException
        {
            final Path runDir = BenchData.newRunDir();
            broker = BrokerProcess.start(new ProcessBuilder(java(JavaProcess.PCB_MAIN_CLASS, "broker", "--run-dir",
                runDir.toString(), "--share", "s=" + share, "--guest", "g0", "--region-size",
                Long.toString(64L << 20), "--window-size", Integer.toString(2 << 20))), runDir);
        }

        void startProbe() throws IOException
        {
            probe = new ProcessBuilder(java(IdleProbe.class.getName(), broker.runDir().toString(), "g0", "s/f.bin"))
                .redirectError(ProcessBuilder.Redirect.INHERIT).start();
            answers = new BufferedReader(new InputStreamReader(probe.getInputStream(), StandardCharsets.UTF_8));
            commands = new PrintStream(probe.getOutputStream(), true, StandardCharsets.UTF_8);
            final String ready = answers.readLine();
            if (!"ready".equals(ready))
            {
                throw new IOException(name + ": probe said " + ready);
            }
        }

        String ask(final String command) throws IOException
        {
            commands.println(command);
            final String answer = answers.readLine();
            if (null == answer || answer.startsWith("error"))
            {
                throw new IOException(name + ": probe answered " + answer + " to " + command);
            }
            return answer;
        }

        @Override
        public void close() throws Exception
        {
            if (null != probe)
            {
                commands.close();
                if (!probe.waitFor(10, TimeUnit.SECONDS))
                {
                    probe.destroyForcibly();
                }
            }
            CloseHelper.quietClose(broker);
        }
    }

    /**
     * Run every phase and print Markdown.
     *
     * @param args options, see the class comment.
     * @throws Exception when a broker or probe fails.
     */
    public static void main(final String[] args) throws Exception
    {
        final List<Build> builds = new ArrayList<>();
        int[] tries = {5, 3, 1};
        int loadRounds = 10;
        Path out = null;
        for (int i = 0; i < args.length; i++)
        {
            switch (args[i])
            {
                case "--build" ->
                {
                    final String[] nameCp = args[++i].split("=", 2);
                    builds.add(new Build(nameCp[0], nameCp[1]));
                }
                case "--tries" ->
                {
                    final String[] t = args[++i].split(",");
                    tries = new int[] {Integer.parseInt(t[0]), Integer.parseInt(t[1]), Integer.parseInt(t[2])};
                }
                case "--load-rounds" -> loadRounds = Integer.parseInt(args[++i]);
                case "--out" -> out = Path.of(args[++i]);
                default ->
                {
                    System.err.println("usage: IdleCompare --build NAME=CLASSPATH ... [--tries 5,3,1] " +
                        "[--load-rounds N] [--out FILE.md]");
                    System.exit(2);
                }
            }
        }
        if (builds.isEmpty())
        {
            builds.add(new Build("this", System.getProperty("java.class.path")));
        }
        final Path share = Files.createDirectories(BenchData.dataDir().resolve(SHARE));
        Files.write(share.resolve("f.bin"), new byte[4 << 20]);
        final StringBuilder md = new StringBuilder();
        try
        {
            run(builds, tries, loadRounds, md);
        }
        finally
        {
            for (final Build build : builds)
            {
                build.close();
            }
            FileTrees.delete(share);
        }
        System.out.println(md);
        if (null != out)
        {
            Files.writeString(out, md, StandardCharsets.UTF_8);
        }
        System.exit(0);
    }

    /** Time a broker is left to warm up before its idle CPU counts. */
    private static final long SETTLE_MS = 30_000;

    private static void run(final List<Build> builds, final int[] tries, final int loadRounds, final StringBuilder md)
        throws Exception
    {
        final Path share = BenchData.dataDir().resolve(SHARE);
        for (final Build build : builds)
        {
            build.startBroker(share);
        }
        md.append("| measurement |");
        builds.forEach((b) -> md.append(' ').append(b.name).append(" |"));
        md.append(" foreign CPU, load |\n|---|");
        builds.forEach((b) -> md.append("---:|"));
        md.append("---|\n");

        // A broker that has just started is still compiling: its first 10-20 s cost 1-2% of a core in JIT threads
        // alone (per-thread schedstat, 2026-12-02), which is start-up, not idleness.
        Thread.sleep(SETTLE_MS);
        CpuTicks.Window window = new CpuTicks.Window(pids(builds, false));
        Thread.sleep(10_000);
        row(md, "broker CPU, idle, no agent attached (10 s, " + SETTLE_MS / 1000 + " s after start), % of a core",
            builds, window, 1, 0);

        for (final Build build : builds)
        {
            build.startProbe();
        }
        underLoad(builds, loadRounds, md);

        for (int run = 1; run <= 2; run++)
        {
            Thread.sleep(2_000);
            window = new CpuTicks.Window(pids(builds, true));
            Thread.sleep(10_000);
            row(md, "broker CPU, one idle agent attached (10 s, run " + run + "), % of a core", builds, window,
                2, 0);
            row(md, "that idle agent's own CPU (same 10 s), % of a core", builds, window, 2, 1);
        }

        int sample = 0;
        for (int k = 0; k < IDLE_MS.length; k++)
        {
            final List<List<String>> samples = new ArrayList<>();
            builds.forEach((b) -> samples.add(new ArrayList<>()));
            window = new CpuTicks.Window(pids(builds, true));
            for (int t = 0; t < tries[k]; t++, sample++)
            {
                Thread.sleep(IDLE_MS[k]);
                for (int i = 0; i < builds.size(); i++)
                {
                    // Alternate who goes first: the second has been idle a little longer, by the first's latency.
                    final int b = 0 == (sample & 1) ? i : builds.size() - 1 - i;
                    final long ns = Long.parseLong(builds.get(b).ask("one"));
                    samples.get(b).add(String.format(Locale.ROOT, "%.0f", ns / 1e3));
                }
            }
            md.append("| first acquire+release after ").append(IDLE_MS[k] / 1_000).append(" s idle, ")
                .append(tries[k]).append(" samples, us |");
            samples.forEach((s) -> md.append(' ').append(String.join(", ", s)).append(" |"));
            md.append(' ').append(window.describe()).append(" |\n");
        }
    }

    private static void underLoad(final List<Build> builds, final int rounds, final StringBuilder md)
        throws IOException
    {
        final double[][] p50 = new double[builds.size()][rounds];
        final double[][] p99 = new double[builds.size()][rounds];
        final CpuTicks.Window window = new CpuTicks.Window(pids(builds, true));
        // One untimed round each first: JIT warm-up in the probe and in the broker.
        for (final Build build : builds)
        {
            build.ask("pairs " + PAIRS_PER_ROUND);
        }
        for (int r = 0; r < rounds; r++)
        {
            for (int i = 0; i < builds.size(); i++)
            {
                final int b = 0 == (r & 1) ? i : builds.size() - 1 - i;
                final String[] answer = builds.get(b).ask("pairs " + PAIRS_PER_ROUND).split(" ");
                p50[b][r] = Long.parseLong(answer[0]) / 1e3;
                p99[b][r] = Long.parseLong(answer[1]) / 1e3;
            }
        }
        final String what = " (" + rounds + " rounds of " + PAIRS_PER_ROUND + " back-to-back pairs, builds " +
            "alternating), per-round median [min - max], us |";
        md.append("| acquire+release p50 under load").append(what);
        for (int b = 0; b < builds.size(); b++)
        {
            md.append(' ').append(medianRange(p50[b])).append(" |");
        }
        md.append(' ').append(window.describe()).append(" |\n");
        md.append("| acquire+release p99 under load").append(what);
        for (int b = 0; b < builds.size(); b++)
        {
            md.append(' ').append(medianRange(p99[b])).append(" |");
        }
        md.append(" |\n");
    }

    private static String medianRange(final double[] values)
    {
        final Spread s = Spread.of(values);
        return String.format(Locale.ROOT, "%.2f [%.2f - %.2f]", s.median(), s.min(), s.max());
    }

    /** One row of CPU percentages: build b's process at index {@code b * stride + offset} of the window. */
    private static void row(
        final StringBuilder md, final String what, final List<Build> builds, final CpuTicks.Window window,
        final int stride, final int offset)
    {
        md.append("| ").append(what).append(" |");
        for (int b = 0; b < builds.size(); b++)
        {
            final int index = b * stride + offset;
            md.append(String.format(Locale.ROOT, " %.2f (%d ticks) |", window.percent(index), window.ticks(index)));
        }
        md.append(' ').append(window.describe()).append(" |\n");
    }

    /** Brokers only, or broker and probe of each build, in build order; then this JVM. */
    private static long[] pids(final List<Build> builds, final boolean withProbes)
    {
        final long[] pids = new long[builds.size() * (withProbes ? 2 : 1) + 1];
        pids[pids.length - 1] = ProcessHandle.current().pid();
        for (int b = 0; b < builds.size(); b++)
        {
            if (withProbes)
            {
                pids[2 * b] = builds.get(b).broker.pid();
                pids[2 * b + 1] = builds.get(b).probe.pid();
            }
            else
            {
                pids[b] = builds.get(b).broker.pid();
            }
        }
        return pids;
    }
}
