package dev.pcb.bench;

import org.openjdk.jmh.profile.GCProfiler;
import org.openjdk.jmh.results.Result;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.results.format.ResultFormatType;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.RunnerException;
import org.openjdk.jmh.runner.options.ChainedOptionsBuilder;
import org.openjdk.jmh.runner.options.OptionsBuilder;
import org.openjdk.jmh.runner.options.TimeValue;

import java.io.IOException;
import java.io.InputStream;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import java.util.regex.Pattern;

/**
 * Runs the suite in one go and writes its results and a summary with the ratios that matter:
 * <ol>
 *     <li>{@link InterleavedRatios} (its own JVM, both modes): the headline ratios, every compared case interleaved
 *     round by round, median and spread of the per-round ratios;</li>
 *     <li>full mode only: {@link ReadThroughputBenchmark} (JMH, 3 forks): absolute throughput of views, the raw
 *     mapping and {@code FileChannel.read} at several chunk sizes;</li>
 *     <li>full mode only: {@link AcquireLatencyBenchmark} (JMH, with the GC profiler): average cost and allocation
 *     of an acquire/release pair;</li>
 *     <li>full mode only: {@link AcquireLatency} (HdrHistogram harness, its own JVM): percentiles against the
 *     in-JVM ring floor.</li>
 * </ol>
 * JMH forks and the harness JVM get this JVM's flags (the {@code --add-opens} Agrona and Chronicle need, and the
 * {@code pcb.bench.*} directories), so start this with them: {@code benchmarks/run.sh} does.
 * <pre>
 * BenchmarkSuite [--quick] --out DIR
 * </pre>
 */
public final class BenchmarkSuite
{
    private final boolean quick;
    private final Path out;
    private final List<String> jvmArgs = ManagementFactory.getRuntimeMXBean().getInputArguments();

    private BenchmarkSuite(final boolean quick, final Path out)
    {
        this.quick = quick;
        this.out = out;
    }

    /**
     * Run the suite.
     *
     * @param args {@code [--quick] --out DIR}.
     * @throws Exception when a benchmark fails.
     */
    public static void main(final String[] args) throws Exception
    {
        boolean quick = false;
        Path out = Path.of("benchmarks", "results", "latest");
        for (int i = 0; i < args.length; i++)
        {
            switch (args[i])
            {
                case "--quick": quick = true; break;
                case "--full": quick = false; break;
                case "--out": out = Path.of(args[++i]); break;
                default:
                    System.err.println("usage: BenchmarkSuite [--quick|--full] [--out DIR]");
                    System.exit(2);
            }
        }
        Files.createDirectories(out);
        new BenchmarkSuite(quick, out).run();
    }

    private void run() throws RunnerException, IOException, InterruptedException
    {
        final String loadBefore = CpuTicks.loadAverage();
        final long[] cpuBefore = cpuTicks();
        final String machine = machine();
        System.out.println("pcb benchmark suite, " + (quick ? "quick" : "full") + " mode, results in " + out);
        System.out.println(machine);

        String jmh = "";
        if (!quick)
        {
            final ChainedOptionsBuilder read = common(ReadThroughputBenchmark.class)
                .result(out.resolve("read-throughput.json").toString())
                // The baseline at several chunk sizes; the ratio is taken against its best.
                .param("chunk", "65536", "262144", "1048576", "2097152");
            final Collection<RunResult> readResults = new Runner(read.build()).run();

            final Collection<RunResult> acquireResults = new Runner(common(AcquireLatencyBenchmark.class)
                .addProfiler(GCProfiler.class)
                .result(out.resolve("acquire-latency-jmh.json").toString())
                .build()).run();

            final Path latencyFile = out.resolve("acquire-latency.properties");
            runJava(AcquireLatency.class, "--warmup-seconds", "5", "--seconds", "20",
                "--out", latencyFile.toString(), "--hgrm-dir", out.toString());
            jmh = summary(readResults, acquireResults, load(latencyFile));
        }
        // The ratios: every compared case interleaved round by round in one JVM (see InterleavedRatios).
        runJava(InterleavedRatios.class, "--rounds", quick ? "48" : "100", "--out", out.toString());

        // The suite itself keeps about two cores busy; a load well above that means something else ran meanwhile.
        final String load = "load average (1, 5, 15 min) before: " + loadBefore + "; after: " +
            CpuTicks.loadAverage() + "\n" + foreignCpu(cpuBefore, cpuTicks());
        final String summary = "# pcb benchmark summary (" + (quick ? "quick" : "full") + " mode, " +
            ZonedDateTime.now().format(DateTimeFormatter.ISO_OFFSET_DATE_TIME) + ")\n\n```\n" + machine + "\n" +
            load + "\n```\n\n## Ratios, interleaved rounds\n\n" +
            Files.readString(out.resolve("ratios.md"), StandardCharsets.UTF_8) + "\n" + jmh;
        Files.writeString(out.resolve("summary.md"), summary, StandardCharsets.UTF_8);
        System.out.println();
        System.out.println(summary);
    }

    private ChainedOptionsBuilder common(final Class<?> benchmark)
    {
        final ChainedOptionsBuilder options = new OptionsBuilder()
            .include("^" + Pattern.quote(benchmark.getName()) + "\\.")
            .jvmArgs(jvmArgs.toArray(new String[0]))
            .resultFormat(ResultFormatType.JSON)
            .shouldFailOnError(true);
        options.forks(3).warmupIterations(5).warmupTime(TimeValue.seconds(2))
            .measurementIterations(8).measurementTime(TimeValue.seconds(2));
        return options;
    }

    /** Run a harness main class in its own JVM with this JVM's flags and class path, and wait for it. */
    private void runJava(final Class<?> main, final String... args) throws IOException, InterruptedException
    {
        final List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.addAll(jvmArgs);
        command.add("-cp");
        command.add(System.getProperty("java.class.path"));
        command.add(main.getName());
        command.addAll(List.of(args));
        final Process harness = new ProcessBuilder(command).inheritIO().start();
        final int exit = harness.waitFor();
        if (0 != exit)
        {
            throw new IOException(main.getSimpleName() + " exited with " + exit);
        }
    }

    private static Properties load(final Path file) throws IOException
    {
        final Properties properties = new Properties();
        try (InputStream in = Files.newInputStream(file))
        {
            properties.load(in);
        }
        return properties;
    }

    private static String summary(
        final Collection<RunResult> readResults,
        final Collection<RunResult> acquireResults,
        final Properties latency)
    {
        final StringBuilder sb = new StringBuilder();
        final Map<String, Result<?>> read = scores(readResults);
        sb.append("## JMH read throughput, each benchmark in its own fork (MB/s = bytes/us; higher is better)\n\n");
        sb.append("Views: windows cached at the broker, each acquired and closed around its read by an agent that " +
            "retains closed windows (its default: a window read before costs no message); ViewsRoundTrip: the same " +
            "with retaining off (an ACQUIRE round trip and a RELEASE per read); ViewsHeld: windows already held by this process (acquire is local); RawMapping: the same " +
            "bytes through a second read-only mapping, no protocol (the ceiling); FileChannel: pread of the " +
            "source file, warm in the page cache, into a reused direct buffer (the baseline).\n\n");
        sb.append("| benchmark | MB/s | +/- (99.9% CI) |\n|---|---:|---:|\n");
        read.forEach((name, r) -> sb.append(String.format(Locale.ROOT, "| %s | %.0f | %.0f |%n",
            name, r.getScore(), r.getScoreError())));
        sb.append('\n');
        final double seqViews = score(read, "seqViews");
        final double seqHeld = score(read, "seqViewsHeld");
        final double seqRaw = score(read, "seqRawMapping");
        final double seqFile = best(read, "seqFileChannel");
        final double seqTrip = score(read, "seqViewsRoundTrip");
        final double rndViews = score(read, "random4kViews");
        final double rndTrip = score(read, "random4kViewsRoundTrip");
        final double rndHeld = score(read, "random4kViewsHeld");
        final double rndRaw = score(read, "random4kRawMapping");
        final double rndFile = best(read, "random4kFileChannel");
        // Scores of separate forks, each its own broker and region at its own time: indicative only. The ratios to
        // quote are the interleaved ones.
        sb.append("| ratio of JMH scores (separate forks: indicative only) | value | target |\n|---|---:|---|\n");
        ratioRow(sb, "sequential: views / raw mapping", seqViews / seqRaw, true, ">= 95%", seqViews / seqRaw >= 0.95);
        ratioRow(sb, "sequential: views, retaining off / raw mapping", seqTrip / seqRaw, true, ">= 95%",
            seqTrip / seqRaw >= 0.95);
        ratioRow(sb, "sequential: views held / raw mapping", seqHeld / seqRaw, true, ">= 95%", seqHeld / seqRaw >= 0.95);
        ratioRow(sb, "sequential: views / FileChannel.read (best chunk)", seqViews / seqFile, false, ">= 2x",
            seqViews / seqFile >= 2);
        ratioRow(sb, "sequential: views held / FileChannel.read (best chunk)", seqHeld / seqFile, false, ">= 2x",
            seqHeld / seqFile >= 2);
        ratioRow(sb, "random 4 KiB: views / raw mapping", rndViews / rndRaw, true, ">= 95%", rndViews / rndRaw >= 0.95);
        ratioRow(sb, "random 4 KiB: views, retaining off / raw mapping", rndTrip / rndRaw, true, ">= 95%",
            rndTrip / rndRaw >= 0.95);
        ratioRow(sb, "random 4 KiB: views held / raw mapping", rndHeld / rndRaw, true, ">= 95%",
            rndHeld / rndRaw >= 0.95);
        ratioRow(sb, "random 4 KiB: views / FileChannel.read", rndViews / rndFile, false, ">= 2x",
            rndViews / rndFile >= 2);
        ratioRow(sb, "random 4 KiB: views held / FileChannel.read", rndHeld / rndFile, false, ">= 2x",
            rndHeld / rndFile >= 2);
        sb.append('\n');

        final Map<String, Result<?>> acquire = scores(acquireResults);
        sb.append("## Acquire/release pair, JMH average (ns per pair; lower is better)\n\n");
        sb.append("| benchmark | ns/pair | +/- (99.9% CI) | pairs/s | allocated B/pair |\n|---|---:|---:|---:|---:|\n");
        for (final RunResult result : acquireResults)
        {
            final Result<?> primary = result.getPrimaryResult();
            final String name = label(result);
            Result<?> alloc = null;
            for (final String key : result.getSecondaryResults().keySet())
            {
                if (key.endsWith("gc.alloc.rate.norm"))
                {
                    alloc = result.getSecondaryResults().get(key);
                }
            }
            sb.append(String.format(Locale.ROOT, "| %s | %.1f | %.1f | %.0f | %s |%n", name, primary.getScore(),
                primary.getScoreError(), 1e9 / primary.getScore(),
                null == alloc ? "-" : String.format(Locale.ROOT, "%.1f", alloc.getScore())));
        }
        sb.append('\n');
        final double remoteAvg = score(acquire, "remotePair");
        final double floorAvg = score(acquire, "ringFloorPair");
        sb.append(String.format(Locale.ROOT, "remote pair / ring floor (average): %.1fx%n%n", remoteAvg / floorAvg));

        sb.append("## Acquire/release pair, HdrHistogram harness (us; lower is better)\n\n");
        sb.append("| case | pairs timed | pairs/s (untimed) | p50 | p90 | p99 | p99.9 | p99.99 | max |\n" +
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|\n");
        final List<String> cases = new ArrayList<>(List.of("ringFloor", "remotePair"));
        for (final long gapUs : AcquireLatency.IDLE_GAPS_US)
        {
            cases.add("remotePairAfterIdle" + gapUs + "us");
        }
        cases.add("retainedPair");
        cases.add("localHeld");
        for (final String name : cases)
        {
            if (null == latency.getProperty(name + ".count"))
            {
                continue;
            }
            sb.append(String.format(Locale.ROOT, "| %s | %s | %s | %s | %s | %s | %s | %s | %s |%n", name,
                latency.getProperty(name + ".count"),
                latency.getProperty(name + ".pairsPerSecond", "-"),
                us(latency, name + ".p50Ns"), us(latency, name + ".p90Ns"), us(latency, name + ".p99Ns"),
                us(latency, name + ".p999Ns"), us(latency, name + ".p9999Ns"), us(latency, name + ".maxNs")));
        }
        sb.append('\n');
        sb.append(String.format(Locale.ROOT,
            "remote pair / ring floor: p50 %.1fx, p99 %.1fx, pairs/s %.2f of the floor%n",
            ns(latency, "remotePair.p50Ns") / ns(latency, "ringFloor.p50Ns"),
            ns(latency, "remotePair.p99Ns") / ns(latency, "ringFloor.p99Ns"),
            ns(latency, "remotePair.pairsPerSecond") / ns(latency, "ringFloor.pairsPerSecond")));
        return sb.toString();
    }

    private static void ratioRow(
        final StringBuilder sb, final String what, final double ratio, final boolean percent, final String target,
        final boolean met)
    {
        sb.append(String.format(Locale.ROOT, "| %s | %s | %s %s |%n", what,
            percent ? String.format(Locale.ROOT, "%.1f%%", 100 * ratio) : String.format(Locale.ROOT, "%.2fx", ratio),
            target, Double.isNaN(ratio) ? "" : met ? "(met)" : "(MISSED)"));
    }

    private static Map<String, Result<?>> scores(final Collection<RunResult> results)
    {
        final Map<String, Result<?>> scores = new TreeMap<>();
        for (final RunResult result : results)
        {
            scores.put(label(result), result.getPrimaryResult());
        }
        return scores;
    }

    private static String label(final RunResult result)
    {
        final String benchmark = result.getParams().getBenchmark();
        final StringBuilder label = new StringBuilder(benchmark.substring(benchmark.lastIndexOf('.') + 1));
        for (final String key : result.getParams().getParamsKeys())
        {
            label.append(" ").append(key).append('=').append(result.getParams().getParam(key));
        }
        return label.toString();
    }

    private static double score(final Map<String, Result<?>> scores, final String name)
    {
        final Result<?> result = scores.get(name);
        return null == result ? Double.NaN : result.getScore();
    }

    /** The best score among a benchmark's parameter values: ratios are taken against the baseline's best case. */
    private static double best(final Map<String, Result<?>> scores, final String name)
    {
        double best = Double.NaN;
        for (final Map.Entry<String, Result<?>> entry : scores.entrySet())
        {
            if (entry.getKey().equals(name) || entry.getKey().startsWith(name + " "))
            {
                final double score = entry.getValue().getScore();
                best = Double.isNaN(best) ? score : Math.max(best, score);
            }
        }
        return best;
    }

    private static double ns(final Properties properties, final String key)
    {
        final String value = properties.getProperty(key);
        return null == value ? Double.NaN : Double.parseDouble(value);
    }

    private static String us(final Properties properties, final String key)
    {
        return String.format(Locale.ROOT, "%.2f", ns(properties, key) / 1e3);
    }

    /**
     * CPU ticks: busy on the whole machine, and used by this JVM plus its reaped children (the JMH forks, the
     * harness, and the brokers they waited for).
     */
    private static long[] cpuTicks()
    {
        try
        {
            final long busy = CpuTicks.machineBusy();
            final String self = Files.readString(Path.of("/proc/self/stat"));
            final String[] fields = self.substring(self.lastIndexOf(')') + 2).trim().split("\\s+");
            // After the command name: utime, stime, cutime, cstime are fields 12..15 counted from the state field.
            long ours = 0;
            for (int i = 11; i <= 14; i++)
            {
                ours += Long.parseLong(fields[i]);
            }
            return new long[]{busy, ours, System.nanoTime()};
        }
        catch (final IOException | RuntimeException ex)
        {
            return null;
        }
    }

    private static String foreignCpu(final long[] before, final long[] after)
    {
        if (null == before || null == after)
        {
            return "CPU used by other processes during the run: unknown";
        }
        // /proc/stat and /proc/self/stat count in USER_HZ ticks, 100 per second on Linux.
        final double seconds = (after[2] - before[2]) / 1e9;
        final double busy = (after[0] - before[0]) / 100.0;
        final double ours = (after[1] - before[1]) / 100.0;
        return String.format(Locale.ROOT, "CPU during the run (%.0f s): suite %.0f core-s, other processes %.0f " +
            "core-s (%.0f%% of one core on average; near 0 means the numbers are clean)",
            seconds, ours, Math.max(0, busy - ours), 100 * Math.max(0, busy - ours) / seconds);
    }


    /**
     * What the numbers were measured on.
     *
     * @return a few lines: CPU, cores, memory, kernel, JDK.
     */
    static String machine()
    {
        String cpu = "unknown";
        String memory = "unknown";
        String kernel = "unknown";
        try
        {
            for (final String line : Files.readAllLines(Path.of("/proc/cpuinfo")))
            {
                if (line.startsWith("model name"))
                {
                    cpu = line.substring(line.indexOf(':') + 1).trim();
                    break;
                }
            }
            for (final String line : Files.readAllLines(Path.of("/proc/meminfo")))
            {
                if (line.startsWith("MemTotal:"))
                {
                    final long kb = Long.parseLong(line.replaceAll("[^0-9]", ""));
                    memory = String.format(Locale.ROOT, "%.1f GiB", kb / (1024.0 * 1024.0));
                    break;
                }
            }
            kernel = Files.readString(Path.of("/proc/sys/kernel/osrelease")).trim();
        }
        catch (final IOException | RuntimeException ignore)
        {
            // Not Linux, or /proc is hidden: leave "unknown".
        }
        return String.format(Locale.ROOT, "cpu: %s, %d cores online%nmemory: %s%nkernel: %s%njdk: %s %s (%s)%n" +
            "pcb: %s",
            cpu, Runtime.getRuntime().availableProcessors(), memory, kernel,
            System.getProperty("java.vm.name"), System.getProperty("java.runtime.version"),
            System.getProperty("java.vendor"), System.getProperty("pcb.bench.git", "unknown"));
    }
}
