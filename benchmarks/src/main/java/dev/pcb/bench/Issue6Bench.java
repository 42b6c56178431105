package dev.pcb.bench;

import dev.pcb.agent.AgentConfig;
import dev.pcb.agent.PcbAgent;
import dev.pcb.agent.PcbFile;
import dev.pcb.agent.WindowView;
import dev.pcb.layout.CounterType;
import dev.pcb.layout.CountersSnapshot;
import dev.pcb.testsupport.BrokerProcess;
import dev.pcb.testsupport.FileTrees;
import dev.pcb.testsupport.JavaProcess;
import org.HdrHistogram.Histogram;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.zip.CRC32C;

/**
 * Issue 6's remaining measurements, each against a baseline taken in the same run: broker idle CPU and the first
 * request after idling ({@code idle}), miss-heavy fill throughput against {@code dd} and the host memory left
 * behind ({@code fill}), host memory of 8 agent processes against 8 plain readers ({@code memory}), and
 * acquire/release latency with 1 vs 64 attached guests and 1,000 vs many files in the share ({@code scale}), and a
 * host agent's wait for answers, sleeping on the answer doorbell against polling ({@code agentwait}).
 * Run through {@code benchmarks/issue6.sh MODE [ARGS]}; data goes under {@code pcb.bench.data}.
 */
public final class Issue6Bench
{
    private static final int WINDOW = 2 << 20;
    private static final long GIB = 1L << 30;
    /** Keeps the reads of the agent passes live. */
    private static volatile long sink;

    private Issue6Bench()
    {
    }

    /**
     * Entry point.
     *
     * @param args a mode ({@code idle}, {@code fill}, {@code memory}, {@code scale}) and its arguments, or a
     *             child mode used internally.
     * @throws Exception when a measurement fails.
     */
    public static void main(final String[] args) throws Exception
    {
        switch (args[0])
        {
            case "idle" -> idle(args.length > 1 ? Integer.parseInt(args[1]) : 1);
            case "fill" -> fill(args.length > 1 ? Integer.parseInt(args[1]) : 1024,
                Arrays.asList(args).subList(Math.min(2, args.length), args.length));
            case "memory" -> memory(args.length > 1 ? Integer.parseInt(args[1]) : 8,
                args.length > 2 ? Long.parseLong(args[2]) << 20 : GIB);
            case "scale" -> scale(args.length > 1 ? Integer.parseInt(args[1]) : 1_000_000);
            case "agentwait" -> agentWait(args.length > 1 ? Integer.parseInt(args[1]) : 5);
            case "child-pcb" -> childPcb(Path.of(args[1]), args[2], args[3]);
            case "child-plain" -> childPlain(Path.of(args[1]));
            case "child-idlers" -> childIdlers(Path.of(args[1]), Integer.parseInt(args[2]));
            default -> throw new IllegalArgumentException("unknown mode " + args[0]);
        }
        System.exit(0);
    }

    // ---------------------------------------------------------------- agent wait

    /**
     * How a host agent waits for answers: agents in this JVM, one per way of waiting, on one broker, measured in
     * interleaved rounds (the order rotating): hit latency back to back and after 1 ms of local work, then the CPU of
     * a thread whose call waits 3 s for a paused broker.
     */
    private static void agentWait(final int rounds) throws Exception
    {
        final Path share = Files.createDirectories(BenchData.dataDir().resolve("agentwait-share"));
        Files.write(share.resolve("f.bin"), new byte[4 * WINDOW]);
        final String[] names = {"poll (backoff, as before)", "block after 10 us spin (default)",
            "block after 50 us spin", "block after 0 us spin"};
        final java.lang.management.ThreadMXBean threads = java.lang.management.ManagementFactory.getThreadMXBean();
        try (BrokerProcess broker = startBroker(share, 64L << 20, 1))
        {
            final PcbAgent[] agents = new PcbAgent[names.length];
            final PcbFile[] files = new PcbFile[names.length];
            final Histogram[] backToBack = new Histogram[names.length];
            final Histogram[] afterGap = new Histogram[names.length];
            final double[][] p50s = new double[names.length][rounds];
            final double[][] cpu = new double[names.length][rounds];
            for (int m = 0; m < names.length; m++)
            {
                final AgentConfig config = new AgentConfig().runDir(broker.runDir()).guest("g0").retainedWindows(0)
                    .requestTimeout(Duration.ofSeconds(60));
                agents[m] = PcbAgent.attach(0 == m ? config.blockingWait(false) :
                    config.blockingWait(true).answerSpin(Duration.ofNanos(m == 1 ? 10_000 : m == 2 ? 50_000 : 0)));
                files[m] = agents[m].open("s/f.bin");
                backToBack[m] = new Histogram(10_000_000_000L, 3);
                afterGap[m] = new Histogram(10_000_000_000L, 3);
                for (int i = 0; i < 50_000; i++)
                {
                    files[m].acquire(0).close();
                }
            }
            for (int round = 0; round < rounds; round++)
            {
                final long[] machineBefore = machineTicks();
                final long t0 = System.nanoTime();
                for (int k = 0; k < names.length; k++)
                {
                    final int m = (round + k) % names.length;
                    final Histogram h = new Histogram(10_000_000_000L, 3);
                    for (int i = 0; i < 50_000; i++)
                    {
                        final long start = System.nanoTime();
                        files[m].acquire(0).close();
                        h.recordValue(System.nanoTime() - start);
                    }
                    backToBack[m].add(h);
                    p50s[m][round] = h.getValueAtPercentile(50) / 1e3;
                    for (int i = 0; i < 1_000; i++)
                    {
                        final long gapEnd = System.nanoTime() + 1_000_000;
                        while (System.nanoTime() - gapEnd < 0)
                        {
                            Thread.onSpinWait();
                        }
                        final long start = System.nanoTime();
                        files[m].acquire(0).close();
                        afterGap[m].recordValue(System.nanoTime() - start);
                    }
                }
                System.out.printf(Locale.ROOT, "latency round %d: p50 back to back %s us; %s%n", round + 1,
                    column(p50s, round), foreign(machineBefore, 0, (System.nanoTime() - t0) / 1e9));
                for (int k = 0; k < names.length; k++)
                {
                    final int m = (round + k) % names.length;
                    final PcbFile f = files[m];
                    final Thread caller = new Thread(() ->
                    {
                        try
                        {
                            f.acquire(1).close();
                        }
                        catch (final Exception ex)
                        {
                            throw new IllegalStateException(ex);
                        }
                    }, "waiting-call");
                    broker.pause();
                    caller.start();
                    Thread.sleep(200);
                    final long cpu0 = threads.getThreadCpuTime(caller.getId());
                    final long w0 = System.nanoTime();
                    Thread.sleep(3_000);
                    cpu[m][round] = 100.0 * (threads.getThreadCpuTime(caller.getId()) - cpu0) / (System.nanoTime() - w0);
                    broker.resume();
                    caller.join(30_000);
                }
                System.out.printf(Locale.ROOT, "waiting-call CPU round %d (%% of one core, 3 s on a paused broker): " +
                    "%s%n", round + 1, column(cpu, round));
            }
            System.out.println("| wait | back-to-back p50 us | p99 us | p99.9 us | after 1 ms gap p50 us | p99 us | " +
                "waiting call CPU % of a core (median of rounds) | per-round p50 / poll p50 (median, min-max) |");
            System.out.println("|---|---:|---:|---:|---:|---:|---:|---:|");
            for (int m = 0; m < names.length; m++)
            {
                final double[] ratios = new double[rounds];
                for (int r = 0; r < rounds; r++)
                {
                    ratios[r] = p50s[m][r] / p50s[0][r];
                }
                Arrays.sort(ratios);
                final double[] c = cpu[m].clone();
                Arrays.sort(c);
                System.out.printf(Locale.ROOT, "| %s | %.2f | %.2f | %.2f | %.2f | %.2f | %.3f | %.3f (%.3f-%.3f) |%n",
                    names[m], backToBack[m].getValueAtPercentile(50) / 1e3,
                    backToBack[m].getValueAtPercentile(99) / 1e3, backToBack[m].getValueAtPercentile(99.9) / 1e3,
                    afterGap[m].getValueAtPercentile(50) / 1e3, afterGap[m].getValueAtPercentile(99) / 1e3,
                    c[rounds / 2], ratios[rounds / 2], ratios[0], ratios[rounds - 1]);
            }
            for (int m = 0; m < names.length; m++)
            {
                files[m].close();
                agents[m].close();
            }
        }
        FileTrees.delete(share);
    }

    private static String column(final double[][] values, final int round)
    {
        final StringBuilder sb = new StringBuilder();
        for (final double[] row : values)
        {
            sb.append(String.format(Locale.ROOT, " %.2f", row[round]));
        }
        return sb.toString().trim();
    }

    // ---------------------------------------------------------------- idle

    private static void idle(final int configuredGuests) throws Exception
    {
        final Path share = Files.createDirectories(BenchData.dataDir().resolve("idle-share"));
        final Path file = share.resolve("f.bin");
        Files.write(file, new byte[4 * WINDOW]);
        final long tick = 100; // USER_HZ on Linux
        try (BrokerProcess broker = startBroker(share, 64L << 20, configuredGuests))
        {
            System.out.println("broker configured with " + configuredGuests + " guest(s)");
            Thread.sleep(2_000);
            final long before = cpuTicks(broker.pid());
            final long[] machineBefore = machineTicks();
            final long t0 = System.nanoTime();
            Thread.sleep(10_000);
            final double wall = (System.nanoTime() - t0) / 1e9;
            final long ticks = cpuTicks(broker.pid()) - before;
            System.out.printf(Locale.ROOT, "baseline: broker with no agent attached: %d ticks = %.2f%% of one core " +
                "over %.2f s; %s%n", ticks, 100.0 * ticks / tick / wall, wall,
                foreign(machineBefore, ticks, wall));
            idleWithAgent(broker, tick);
        }
        FileTrees.delete(share);
    }

    private static void idleWithAgent(final BrokerProcess broker, final long tick) throws Exception
    {
        // Retaining nothing: every pair timed here is a round trip to the broker, which is what idling slows.
        try (PcbAgent agent = PcbAgent.attach(
            new AgentConfig().runDir(broker.runDir()).guest("g0").retainedWindows(0));
            PcbFile f = agent.open("s/f.bin"))
        {
            final Histogram warm = new Histogram(10_000_000_000L, 3);
            for (int i = 0; i < 200_000; i++)
            {
                final long t0 = System.nanoTime();
                f.acquire(0).close();
                warm.recordValue(System.nanoTime() - t0);
            }
            System.out.printf(Locale.ROOT, "warm acquire+release (200k, incl. JIT warm-up): p50 %.2f us, p99 %.2f us%n",
                warm.getValueAtPercentile(50) / 1e3, warm.getValueAtPercentile(99) / 1e3);
            for (int run = 1; run <= 2; run++)
            {
                final long before = cpuTicks(broker.pid());
                final long[] machineBefore = machineTicks();
                final long t0 = System.nanoTime();
                Thread.sleep(10_000);
                final double wall = (System.nanoTime() - t0) / 1e9;
                final long ticks = cpuTicks(broker.pid()) - before;
                System.out.printf(Locale.ROOT, "idle run %d: broker utime+stime %d ticks = %.3f core-s over %.2f s wall " +
                    "= %.2f%% of one core (agent attached, heartbeats on); %s%n", run, ticks, ticks / (double)tick,
                    wall, 100.0 * ticks / tick / wall, foreign(machineBefore, ticks, wall));
            }
            for (final long idleMs : new long[] {1_000, 10_000})
            {
                final StringBuilder sb = new StringBuilder();
                final long[] machineBefore = machineTicks();
                final long brokerBefore = cpuTicks(broker.pid());
                final long start = System.nanoTime();
                final int tries = idleMs > 5_000 ? 5 : 10;
                for (int i = 0; i < tries; i++)
                {
                    Thread.sleep(idleMs);
                    final long t0 = System.nanoTime();
                    f.acquire(0).close();
                    final long ns = System.nanoTime() - t0;
                    sb.append(String.format(Locale.ROOT, " %.1f", ns / 1e3));
                }
                final double wall = (System.nanoTime() - start) / 1e9;
                final long ticks = cpuTicks(broker.pid()) - brokerBefore;
                System.out.printf(Locale.ROOT, "first acquire+release after %d ms idle (%d tries, us):%s; %s%n", idleMs,
                    tries, sb, foreign(machineBefore, ticks, wall));
            }
        }
    }

    /**
     * Busy ticks of the whole machine from /proc/stat (all but idle and iowait) and this JVM's own ticks.
     */
    private static long[] machineTicks()
    {
        return new long[] {CpuTicks.machineBusy(), CpuTicks.process(ProcessHandle.current().pid())};
    }

    /**
     * What the rest of the machine used since {@code before}: busy ticks less the broker's and this JVM's own.
     */
    private static String foreign(final long[] before, final long brokerTicks, final double wall) throws IOException
    {
        final long[] now = machineTicks();
        final long others = Math.max(0, now[0] - before[0] - brokerTicks - (now[1] - before[1]));
        return String.format(Locale.ROOT, "foreign CPU %.0f%% of one core", 100.0 * others / 100 / wall);
    }

    private static long cpuTicks(final long pid)
    {
        return CpuTicks.process(pid);
    }

    // ---------------------------------------------------------------- fill

    private static void fill(final int mib, final List<String> brokerOptions) throws Exception
    {
        final Path share = Files.createDirectories(BenchData.dataDir().resolve("fill-share"));
        final Path file = shareFile(share, (long)mib << 20);
        final long size = Files.size(file);
        System.out.printf(Locale.ROOT, "file %s, %d MiB; region 256 MiB, windows 2 MiB (every window a miss); " +
            "broker options %s%n", file, size >> 20, brokerOptions);
        try (BrokerProcess broker = startBroker(share, 256L << 20, 1, brokerOptions);
            PcbAgent agent = PcbAgent.attach(new AgentConfig().runDir(broker.runDir()).guest("g0")))
        {
            System.out.println("| round | dd warm MB/s | pread into 256 MiB rotating buffer (warm) MB/s | agent fills " +
                "(warm source) MB/s | fills / dd | fills / pread-rotating | one fill on its filler thread (warm) " +
                "MB/s | one fill / dd | agent fills (cold source) MB/s | dd cold MB/s | cold fills / dd cold |");
            System.out.println("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
            final ByteBuffer rotating = ByteBuffer.allocateDirect(256 << 20);
            String firstRound = "";
            for (int round = 1; round <= 4; round++)
            {
                sh("cat '" + file + "' > /dev/null");
                final double ddWarm = dd(file);
                final double preadRot = preadRotating(file, rotating);
                final String afterDd = sh("fincore -b -n -o RES,SIZE '" + file + "'");
                final CountersSnapshot before = CountersSnapshot.read(broker.runDir());
                final double agentWarm = agentPass(agent, size);
                final CountersSnapshot after = CountersSnapshot.read(broker.runDir());
                // Bytes per ns of filler time, summed over fills: the speed of one fill, overlap aside.
                final double oneFill = 1e3 * (after.value(CounterType.BYTES_FILLED) - before.value(
                    CounterType.BYTES_FILLED)) / (after.value(CounterType.FILL_TIME) - before.value(CounterType.FILL_TIME));
                final String afterAgent = sh("fincore -b -n -o RES,SIZE '" + file + "'");
                final double agentCold = agentPass(agent, size);
                final double ddCold = dd(file);
                System.out.printf(Locale.ROOT,
                    "| %d | %.0f | %.0f | %.0f | %.2f | %.2f | %.0f | %.2f | %.0f | %.0f | %.2f |%n", round,
                    ddWarm, preadRot, agentWarm, agentWarm / ddWarm, agentWarm / preadRot, oneFill, oneFill / ddWarm,
                    agentCold, ddCold, agentCold / ddCold);
                if (round == 1)
                {
                    firstRound = "fincore RES SIZE of source after dd: " + afterDd.trim() +
                        "; after agent fills: " + afterAgent.trim();
                }
            }
            System.out.println(firstRound);
            sh("dd if='" + file + "' iflag=nocache count=0 status=none");
            agentPass(agent, size);
            System.out.println("after a final agent pass: fincore RES SIZE of source: " +
                sh("fincore -b -n -o RES,SIZE '" + file + "'").trim());
            System.out.println("run dir files (apparent size, allocated KiB, fincore RES):\n" +
                sh("cd '" + broker.runDir() + "' && for f in $(find . -type f); do echo \"$f $(stat -c %s $f) " +
                    "$(du -k $f | cut -f1) $(fincore -b -n -o RES $f)\"; done"));
            System.out.println("meminfo: " + sh("grep -E '^(Shmem|Cached):' /proc/meminfo | tr -s ' ' | tr '\\n' ' '"));
        }
    }

    private static Path shareFile(final Path share, final long size) throws IOException
    {
        final Path file = share.resolve("big.bin");
        if (!Files.isRegularFile(file) || Files.size(file) != size)
        {
            Files.move(BenchData.ensureFile("big-" + size + ".bin", size), file,
                java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        }
        return file;
    }

    private static double agentPass(final PcbAgent agent, final long size) throws Exception
    {
        final long t0 = System.nanoTime();
        long sum = 0;
        long bytes = 0;
        try (PcbFile f = agent.open("s/big.bin"))
        {
            for (long w = 0; w < f.windowCount(); w++)
            {
                try (WindowView view = f.acquire(w))
                {
                    for (int i = 0; i + 8 <= view.length(); i += 64)
                    {
                        sum += view.buffer().getLong(i);
                    }
                    bytes += view.length();
                }
            }
        }
        if (bytes != size)
        {
            throw new IllegalStateException("read " + bytes + " of " + size);
        }
        sink += sum;
        return size / ((System.nanoTime() - t0) / 1e3);
    }

    /** pread of the whole file, 2 MiB at a time, into successive slices of a 256 MiB buffer, as fills land. */
    private static double preadRotating(final Path file, final ByteBuffer buffer) throws IOException
    {
        final long t0 = System.nanoTime();
        long pos = 0;
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ))
        {
            final long size = ch.size();
            while (pos < size)
            {
                final int off = (int)(pos % buffer.capacity());
                final ByteBuffer slice = buffer.duplicate().position(off).limit(off + WINDOW).slice();
                while (slice.hasRemaining())
                {
                    final int n = ch.read(slice, pos + slice.position());
                    if (n < 0)
                    {
                        break;
                    }
                }
                pos += WINDOW;
            }
            return size / ((System.nanoTime() - t0) / 1e3);
        }
    }

    private static double dd(final Path file) throws Exception
    {
        final long t0 = System.nanoTime();
        sh("dd if='" + file + "' of=/dev/null bs=2M status=none");
        return Files.size(file) / ((System.nanoTime() - t0) / 1e3);
    }

    private static String sh(final String command) throws Exception
    {
        final Process p = new ProcessBuilder("bash", "-c", command).redirectErrorStream(true).start();
        final String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(5, TimeUnit.MINUTES) || p.exitValue() != 0)
        {
            throw new IllegalStateException(command + " failed: " + out);
        }
        return out;
    }

    // ---------------------------------------------------------------- memory

    private static void memory(final int n, final long size) throws Exception
    {
        final Path share = Files.createDirectories(BenchData.dataDir().resolve("mem-share"));
        final Path file = shareFile(share, size);
        final long expected = crc(file);
        System.out.printf(Locale.ROOT, "file %s %d MiB, crc32c %08x; %d processes, each a JVM with %s%n", file,
            size >> 20, expected, n, String.join(" ", CHILD_JVM));
        System.out.println("Host memory (MiB) = Shmem + private pages of the readers (and broker) + the source " +
            "file's page cache, " +
            "at three points: before anything starts; when all readers are started (pcb: broker up, all attached, " +
            "file opened); when all have read the file.");
        System.out.println("| readers | started: total | read: total | reading added | of it: Shmem | private | " +
            "source cache | checksums | read time s |");
        System.out.println("|---|---:|---:|---:|---:|---:|---:|---|---:|");
        for (final String mode : new String[] {"plain", "pcb"})
        {
            sh("dd if='" + file + "' iflag=nocache count=0 status=none");
            Thread.sleep(500);
            final double[] before = hostMemory(file, List.of());
            final List<Process> children = new ArrayList<>();
            BrokerProcess broker = null;
            try
            {
                if ("pcb".equals(mode))
                {
                    broker = startBroker(share, Long.highestOneBit(2 * size - 1) << 1, n);
                }
                final List<BufferedReader> outputs = new ArrayList<>();
                for (int i = 0; i < n; i++)
                {
                    final List<String> cmd = "pcb".equals(mode) ?
                        childCommand("child-pcb", broker.runDir().toString(), "g" + i, "s/big.bin") :
                        childCommand("-XX:MaxDirectMemorySize=" + (size + (64 << 20)), "child-plain",
                            file.toString());
                    final Process child = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.INHERIT).start();
                    children.add(child);
                    outputs.add(new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8)));
                }
                for (final BufferedReader output : outputs)
                {
                    if (!"ready".equals(output.readLine()))
                    {
                        throw new IllegalStateException("a reader did not start");
                    }
                }
                Thread.sleep(500);
                final List<Process> measured = new ArrayList<>(children);
                if (null != broker)
                {
                    measured.add(broker.process());
                }
                final double[] started = hostMemory(file, measured);
                final long t0 = System.nanoTime();
                for (final Process child : children)
                {
                    child.getOutputStream().write('\n');
                    child.getOutputStream().flush();
                }
                boolean ok = true;
                for (final BufferedReader output : outputs)
                {
                    final String line = output.readLine();
                    ok &= null != line && Long.parseLong(line.trim(), 16) == expected;
                }
                final double secs = (System.nanoTime() - t0) / 1e9;
                final double[] read = hostMemory(file, measured);
                System.out.printf(Locale.ROOT, "| %d %s | %.0f | %.0f | %.0f | %.0f | %.0f | %.0f | %s | %.1f |%n",
                    n, mode, started[3] - before[3], read[3] - before[3], read[3] - started[3],
                    read[0] - started[0], read[1] - started[1], read[2] - started[2], ok ? "all match" : "MISMATCH",
                    secs);
            }
            finally
            {
                for (final Process c : children)
                {
                    c.getOutputStream().close();
                    if (!c.waitFor(30, TimeUnit.SECONDS))
                    {
                        c.destroyForcibly();
                    }
                }
                if (null != broker)
                {
                    broker.close();
                }
            }
        }
    }

    /** The same lean JVM for both kinds of reader: what is compared is the data they hold, not the JVM. */
    private static final List<String> CHILD_JVM = List.of("-XX:+UseSerialGC", "-Xmx32m", "-XX:TieredStopAtLevel=1");

    /**
     * @return MiB of Shmem, of the processes' private pages, of the file's page cache, and their sum.
     */
    private static double[] hostMemory(final Path file, final List<Process> processes) throws Exception
    {
        final double shmem = shmemKb() / 1024.0;
        long privateKb = 0;
        for (final Process p : processes)
        {
            privateKb += smapsPrivate(p.pid());
        }
        final double cached = Long.parseLong(sh("fincore -b -n -o RES '" + file + "'").trim()) / 1048576.0;
        return new double[] {shmem, privateKb / 1024.0, cached, shmem + privateKb / 1024.0 + cached};
    }

    private static List<String> childCommand(final String... args)
    {
        final List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.addAll(JavaProcess.jvmFlags());
        cmd.addAll(CHILD_JVM);
        int i = 0;
        while (args[i].startsWith("-"))
        {
            cmd.add(args[i++]);
        }
        cmd.add("-cp");
        cmd.add(System.getProperty("java.class.path"));
        cmd.add(Issue6Bench.class.getName());
        while (i < args.length)
        {
            cmd.add(args[i++]);
        }
        return cmd;
    }

    /** @return host-wide Shmem from /proc/meminfo, KiB. */
    private static long shmemKb() throws IOException
    {
        for (final String line : Files.readAllLines(Path.of("/proc/meminfo")))
        {
            if (line.startsWith("Shmem:"))
            {
                return Long.parseLong(line.replaceAll("\\D", ""));
            }
        }
        return 0;
    }

    private static long smapsPrivate(final long pid) throws IOException
    {
        long kb = 0;
        for (final String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "smaps_rollup")))
        {
            if (line.startsWith("Private_"))
            {
                kb += Long.parseLong(line.replaceAll("\\D", ""));
            }
        }
        return kb;
    }

    private static long statusKb(final long pid, final String key) throws IOException
    {
        for (final String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "status")))
        {
            if (line.startsWith(key))
            {
                return Long.parseLong(line.replaceAll("\\D", ""));
            }
        }
        return 0;
    }

    private static long crc(final Path file) throws IOException
    {
        final CRC32C crc = new CRC32C();
        final ByteBuffer buf = ByteBuffer.allocateDirect(WINDOW);
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ))
        {
            while (ch.read(buf) > 0 || buf.position() > 0)
            {
                buf.flip();
                crc.update(buf);
                buf.clear();
            }
        }
        return crc.getValue();
    }

    private static void childPcb(final Path runDir, final String guest, final String path) throws Exception
    {
        final CRC32C crc = new CRC32C();
        try (PcbAgent agent = PcbAgent.attach(new AgentConfig().runDir(runDir).guest(guest));
            PcbFile f = agent.open(path))
        {
            awaitGo();
            for (long w = 0; w < f.windowCount(); w++)
            {
                try (WindowView view = f.acquire(w))
                {
                    crc.update(view.byteBuffer());
                }
            }
            reportAndWait(crc.getValue());
        }
    }

    private static void childPlain(final Path file) throws Exception
    {
        awaitGo();
        final ByteBuffer buf = ByteBuffer.allocateDirect((int)Files.size(file));
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ))
        {
            while (buf.hasRemaining() && ch.read(buf) > 0)
            {
                // Read it all.
            }
        }
        buf.flip();
        final CRC32C crc = new CRC32C();
        crc.update(buf);
        reportAndWait(crc.getValue());
    }

    /** Say "ready", then wait for the parent's go: a line on stdin. */
    private static void awaitGo() throws IOException
    {
        System.out.println("ready");
        System.out.flush();
        if (System.in.read() < 0)
        {
            throw new IOException("parent went away");
        }
    }

    /** Print the checksum, then stay alive (memory still held) until the parent closes our stdin. */
    private static void reportAndWait(final long crc) throws IOException
    {
        final PrintStream out = System.out;
        out.printf("%08x%n", crc);
        out.flush();
        System.in.transferTo(OutputStream.nullOutputStream());
    }

    // ---------------------------------------------------------------- scale

    private static void scale(final int manyFiles) throws Exception
    {
        System.out.println("| files in share | attached guests | p50 us | p90 us | p99 us | p99.9 us | max us | " +
            "broker RSS MiB | broker heap used KiB (after GC.run) |");
        System.out.println("|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        for (final int files : new int[] {1_000, manyFiles, 1_000})
        {
            final Path share = BenchData.dataDir().resolve("scale-share-" + files);
            makeFiles(share, files);
            for (final int configured : new int[] {1, 64})
            {
                System.out.println("| broker configured with " + configured + " guest(s) | | | | | | | | |");
                scaleRun(share, files, configured);
            }
        }
    }

    private static void scaleRun(final Path share, final int files, final int configured) throws Exception
    {
        {
            try (BrokerProcess broker = startBroker(share, 64L << 20, configured);
                PcbAgent agent = PcbAgent.attach(
                    new AgentConfig().runDir(broker.runDir()).guest("g0").retainedWindows(0));
                PcbFile f = agent.open("s/d0/f0"))
            {
                for (final int guests : configured == 1 ? new int[] {1} : new int[] {1, 64})
                {
                    Process idlers = null;
                    if (guests > 1)
                    {
                        idlers = new ProcessBuilder(childCommand("-Xmx256m", "child-idlers",
                            broker.runDir().toString(), Integer.toString(guests - 1)))
                            .redirectError(ProcessBuilder.Redirect.INHERIT).start();
                        final String line = new BufferedReader(new InputStreamReader(idlers.getInputStream(),
                            StandardCharsets.UTF_8)).readLine();
                        if (!"attached".equals(line))
                        {
                            throw new IllegalStateException("idlers: " + line);
                        }
                    }
                    final Histogram h = new Histogram(10_000_000_000L, 3);
                    for (int i = 0; i < 300_000; i++)
                    {
                        f.acquire(0).close();
                    }
                    for (int i = 0; i < 1_000_000; i++)
                    {
                        final long t0 = System.nanoTime();
                        f.acquire(0).close();
                        h.recordValue(System.nanoTime() - t0);
                    }
                    final long pid = broker.pid();
                    sh("jcmd " + pid + " GC.run");
                    final String heap = sh("jcmd " + pid + " GC.heap_info");
                    final java.util.regex.Matcher m =
                        java.util.regex.Pattern.compile("total \\d+K, used (\\d+)K").matcher(heap);
                    final long used = m.find() ? Long.parseLong(m.group(1)) : -1;
                    System.out.printf(Locale.ROOT, "| %d | %d | %.2f | %.2f | %.2f | %.2f | %.1f | %.1f | %d |%n",
                        files, guests, h.getValueAtPercentile(50) / 1e3, h.getValueAtPercentile(90) / 1e3,
                        h.getValueAtPercentile(99) / 1e3, h.getValueAtPercentile(99.9) / 1e3, h.getMaxValue() / 1e3,
                        statusKb(pid, "VmRSS:") / 1024.0, used);
                    if (null != idlers)
                    {
                        idlers.getOutputStream().close();
                        if (!idlers.waitFor(30, TimeUnit.SECONDS))
                        {
                            idlers.destroyForcibly();
                        }
                    }
                }
            }
        }
    }

    private static void makeFiles(final Path share, final int files) throws IOException
    {
        final Path marker = share.resolve(".complete");
        if (Files.exists(marker))
        {
            return;
        }
        final long t0 = System.nanoTime();
        final byte[] content = new byte[64];
        final int perDir = 1_000;
        for (int d = 0; d * perDir < files; d++)
        {
            final Path dir = Files.createDirectories(share.resolve("d" + d));
            for (int i = 0; i < perDir && d * perDir + i < files; i++)
            {
                Files.write(dir.resolve("f" + i), content);
            }
        }
        Files.createFile(marker);
        System.err.printf(Locale.ROOT, "created %d files in %.1f s%n", files, (System.nanoTime() - t0) / 1e9);
    }

    private static void childIdlers(final Path runDir, final int count) throws Exception
    {
        final List<PcbAgent> agents = new ArrayList<>();
        try
        {
            for (int i = 1; i <= count; i++)
            {
                agents.add(PcbAgent.attach(new AgentConfig().runDir(runDir).guest("g" + i)));
            }
            System.out.println("attached");
            System.out.flush();
            System.in.transferTo(OutputStream.nullOutputStream());
        }
        finally
        {
            for (final PcbAgent a : agents)
            {
                a.close();
            }
        }
    }

    // ---------------------------------------------------------------- broker with N guests

    /** A broker in its own JVM serving share "s" to guests g0..g(N-1), with 2 MiB windows. */
    private static BrokerProcess startBroker(final Path share, final long region, final int guests) throws IOException
    {
        return startBroker(share, region, guests, List.of());
    }

    private static BrokerProcess startBroker(
        final Path share, final long region, final int guests, final List<String> options) throws IOException
    {
        final List<String> args = new ArrayList<>(List.of("--share", "s=" + share,
            "--region-size", Long.toString(region), "--window-size", Integer.toString(WINDOW)));
        for (int i = 0; i < guests; i++)
        {
            args.add("--guest");
            args.add("g" + i);
        }
        args.addAll(options);
        // Many guests: a control region each to create before "ready".
        return BrokerProcess.start(BenchData.newRunDir(), Duration.ofSeconds(60), args);
    }
}
