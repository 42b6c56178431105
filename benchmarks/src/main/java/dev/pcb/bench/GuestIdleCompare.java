package dev.pcb.bench;

import dev.pcb.layout.CounterType;
import dev.pcb.layout.CountersSnapshot;
import dev.pcb.testsupport.BrokerProcess;
import dev.pcb.testsupport.FileTrees;
import dev.pcb.testsupport.JavaProcess;
import dev.pcb.testsupport.PcbCommand;
import dev.pcb.testsupport.qemu.DoorbellGuestSetup;
import dev.pcb.testsupport.qemu.QemuArgs;
import dev.pcb.testsupport.qemu.QemuGuest;
import org.agrona.CloseHelper;

import java.io.IOException;
import java.io.PrintStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

/**
 * Issue 18 item 3, the guest half: a <b>doorbell</b> guest ({@code pcb broker --doorbell}, the control region an
 * {@code ivshmem-doorbell} device bound to vfio-pci, the agent waiting on MSI-X) against a <b>polling</b> guest (the
 * same build's broker without {@code --doorbell}, {@code ivshmem-plain}), in one run: two brokers, one TCG guest
 * each, started together, both q35 with {@code intel-iommu} (the set-up of {@link DoorbellGuestSetup}; the polling
 * guest gets the same machine so that only the doorbell differs). In each guest {@link GuestIdleProbe} runs the real
 * agent; the host drives it through a second serial port.
 * Once both probes are attached and warmed up (2,000 acquires each) and 40 s have passed:
 * <ol>
 *     <li>idle CPU over 10 s, twice, both setups in the same seconds: each broker and each QEMU process on the host
 *     ({@code /proc/PID/stat}), the guest agent's JVM and the whole guest inside it (the guest's own counts);</li>
 *     <li>the first acquire+release after 1 s, 10 s and 60 s of idleness, timed in the guest: the host asks one
 *     setup, waits for its answer, then the other, who goes first alternating sample by sample.</li>
 * </ol>
 * <pre>
 * GuestIdleCompare --guest-cp CLASSPATH --cache-dir DIR --out FILE.md [--samples 3,3,2] [--idle-ms 10000]
 * </pre>
 * {@code --guest-cp} is the class path the guest's probe runs with (host paths; entries ending in {@code /*} are
 * directories of jars). Console logs go next to {@code --out}.
 */
public final class GuestIdleCompare
{
    private static final long[] IDLE_MS = {1_000, 10_000, 60_000};
    private static final String SHARE = "guest-idle-share";
    private static final Duration BOOT_TIMEOUT = Duration.ofSeconds(360);
    private static final Duration ANSWER_MARGIN = Duration.ofSeconds(120);
    /** After the guests' warm-up: their JVMs finish compiling and the brokers go idle before anything is measured. */
    private static final long SETTLE_MS = 40_000;

    private GuestIdleCompare()
    {
    }

    /** One setup: its broker, its guest, the guest's command port and its answers. */
    private static final class Setup implements AutoCloseable
    {
        final String name;
        final boolean doorbell;
        final BlockingQueue<String> answers = new LinkedBlockingQueue<>();
        BrokerProcess broker;
        QemuGuest guest;
        long qemuPid;
        Path commandSocket;
        SocketChannel commands;
        PrintStream log;

        Setup(final String name, final boolean doorbell)
        {
            this.name = name;
            this.doorbell = doorbell;
        }

        void startBroker(final Path share) throws IOException
        {
            final List<String> args = new ArrayList<>(List.of("--share", "s=" + share, "--guest", "vm1",
                "--region-size", "4m", "--window-size", "64k"));
            if (doorbell)
            {
                args.add("--doorbell");
            }
            broker = BrokerProcess.start(BenchData.newRunDir(), Duration.ofSeconds(60), args);
        }

        void startGuest(final Path cacheDir, final String guestClassPath, final Path logFile) throws Exception
        {
            log = new PrintStream(Files.newOutputStream(logFile), true, StandardCharsets.UTF_8);
            commandSocket = broker.runDir().resolve("bench-cmd.sock");
            final List<String> qemuArgs = new ArrayList<>(QemuArgs.shellWords(qemuArgs(broker.runDir())));
            // The second serial port, /dev/ttyS1 in the guest: the host's commands to the probe.
            qemuArgs.addAll(List.of("-chardev", "socket,id=benchcmd,path=" +
                QemuArgs.optionValue(commandSocket.toString()) + ",server=on,wait=off",
                "-serial", "chardev:benchcmd"));
            final List<String> java = new ArrayList<>();
            java.add(QemuGuest.hostJava().toString());
            java.addAll(JavaProcess.jvmFlags());
            java.addAll(List.of("-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-Xmx128m"));
            // The doorbell guest's agent binds its device to vfio-pci itself (it runs as root, the guest has an IOMMU).
            final String script = "cd /tmp\n" +
                "stty -F /dev/ttyS1 raw -echo || exit 20\n" +
                QemuArgs.render(java) + " -cp " + QemuArgs.shellQuote(guestClassPath) + " " +
                GuestIdleProbe.class.getName() + " /dev/ttyS1 s/f.bin || exit 21\n";
            guest = QemuGuest.builder()
                .name(name)
                .cacheDir(cacheDir)
                .memoryMiB(512)
                .earlyQemuArgs(DoorbellGuestSetup.EARLY_QEMU_ARGS.toArray(new String[0]))
                .kernelArgs(DoorbellGuestSetup.KERNEL_ARGS)
                .qemuArgs(qemuArgs.toArray(new String[0]))
                .script(script)
                .consoleListener((line) ->
                {
                    log.println(line);
                    final int at = line.indexOf(GuestIdleProbe.PREFIX);
                    if (at >= 0)
                    {
                        answers.add(line.substring(at));
                        System.out.println("[" + name + "] " + line.substring(at));
                    }
                })
                .build();
            final Set<Long> before = ProcessHandle.current().children().map(ProcessHandle::pid)
                .collect(Collectors.toSet());
            guest.start();
            qemuPid = ProcessHandle.current().children().map(ProcessHandle::pid)
                .filter((pid) -> !before.contains(pid)).findFirst()
                .orElseThrow(() -> new IOException(name + ": no QEMU process"));
        }

        void connect() throws Exception
        {
            final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (true)
            {
                try
                {
                    final SocketChannel channel = SocketChannel.open(StandardProtocolFamily.UNIX);
                    channel.connect(UnixDomainSocketAddress.of(commandSocket));
                    commands = channel;
                    return;
                }
                catch (final IOException ex)
                {
                    if (System.nanoTime() > deadline || !guest.isAlive())
                    {
                        throw new IOException(name + ": cannot connect to " + commandSocket + ":\n" +
                            guest.console(), ex);
                    }
                    Thread.sleep(200);
                }
            }
        }

        void send(final String command) throws IOException
        {
            final ByteBuffer bytes = ByteBuffer.wrap((command + "\n").getBytes(StandardCharsets.US_ASCII));
            while (bytes.hasRemaining())
            {
                commands.write(bytes);
            }
        }

        /** The next answer that starts with {@code PREFIX + word}, at most {@code timeout} from now. */
        String await(final String word, final Duration timeout) throws Exception
        {
            final long deadline = System.nanoTime() + timeout.toNanos();
            while (true)
            {
                final String answer = answers.poll(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
                if (null == answer)
                {
                    throw new IOException(name + ": no '" + word + "' answer in " + timeout + ":\n" +
                        tail(guest.console()));
                }
                if (answer.startsWith(GuestIdleProbe.PREFIX + "error"))
                {
                    throw new IOException(name + ": " + answer);
                }
                if (answer.startsWith(GuestIdleProbe.PREFIX + word))
                {
                    return answer;
                }
            }
        }

        String[] ask(final String command, final Duration timeout) throws Exception
        {
            send(command);
            final String word = command.split(" ")[0];
            return await(word, timeout).substring(GuestIdleProbe.PREFIX.length()).split(" ");
        }

        @Override
        public void close() throws Exception
        {
            if (null != commands)
            {
                try
                {
                    send("quit");
                    guest.waitFor(Duration.ofSeconds(30));
                }
                catch (final Exception ex)
                {
                    System.err.println(name + ": guest did not stop: " + ex.getMessage());
                }
                CloseHelper.quietClose(commands);
            }
            CloseHelper.quietClose(guest);
            CloseHelper.quietClose(broker);
            if (null != log)
            {
                log.close();
            }
        }
    }

    /**
     * Run both phases and write Markdown.
     *
     * @param args options, see the class comment.
     * @throws Exception when a broker, a guest or a probe fails.
     */
    public static void main(final String[] args) throws Exception
    {
        String guestCp = null;
        Path cacheDir = null;
        Path out = null;
        int[] samples = {3, 3, 2};
        long idleMs = 10_000;
        for (int i = 0; i < args.length; i++)
        {
            switch (args[i])
            {
                case "--guest-cp" -> guestCp = args[++i];
                case "--cache-dir" -> cacheDir = Path.of(args[++i]);
                case "--out" -> out = Path.of(args[++i]);
                case "--samples" ->
                {
                    final String[] s = args[++i].split(",");
                    samples = new int[] {Integer.parseInt(s[0]), Integer.parseInt(s[1]), Integer.parseInt(s[2])};
                }
                case "--idle-ms" -> idleMs = Long.parseLong(args[++i]);
                default ->
                {
                    System.err.println("usage: GuestIdleCompare --guest-cp CLASSPATH --cache-dir DIR --out FILE.md " +
                        "[--samples 3,3,2] [--idle-ms 10000]");
                    System.exit(2);
                }
            }
        }
        if (null == guestCp || null == cacheDir || null == out)
        {
            System.err.println("GuestIdleCompare: --guest-cp, --cache-dir and --out are required");
            System.exit(2);
        }
        final Path share = Files.createDirectories(BenchData.dataDir().resolve(SHARE));
        Files.write(share.resolve("f.bin"), new byte[4 << 20]);
        final List<Setup> setups = List.of(new Setup("doorbell", true), new Setup("poll", false));
        final StringBuilder md = new StringBuilder();
        try
        {
            for (final Setup setup : setups)
            {
                setup.startBroker(share);
            }
            final String cp = visibleClassPath(guestCp);
            for (final Setup setup : setups)
            {
                setup.startGuest(cacheDir, cp, out.resolveSibling("console-" + setup.name + ".log"));
            }
            final long bootStart = System.nanoTime();
            for (final Setup setup : setups)
            {
                setup.connect();
            }
            for (final Setup setup : setups)
            {
                setup.await("ready", BOOT_TIMEOUT.minusNanos(System.nanoTime() - bootStart));
            }
            System.out.printf(Locale.ROOT, "both guests ready after %.0f s%n", (System.nanoTime() - bootStart) / 1e9);
            run(setups, samples, idleMs, md);
        }
        finally
        {
            for (final Setup setup : setups)
            {
                CloseHelper.quietClose(setup);
            }
            FileTrees.delete(share);
        }
        System.out.println(md);
        Files.writeString(out, md, StandardCharsets.UTF_8);
        System.exit(0);
    }

    private static void run(final List<Setup> setups, final int[] samples, final long idleMs, final StringBuilder md)
        throws Exception
    {
        md.append("| measurement |");
        setups.forEach((s) -> md.append(' ').append(s.name).append(" |"));
        md.append(" foreign CPU, load |\n|---|");
        setups.forEach((s) -> md.append("---:|"));
        md.append("---|\n");

        final Duration idleTimeout = Duration.ofMillis(idleMs).plus(ANSWER_MARGIN);
        Thread.sleep(SETTLE_MS);
        for (int run = 1; run <= 2; run++)
        {
            Thread.sleep(2_000);
            // Both at once: the same seconds for both setups. The guests start their sleep when the command arrives.
            final CpuTicks.Window window = new CpuTicks.Window(pids(setups));
            for (final Setup setup : setups)
            {
                setup.send("idle " + idleMs);
            }
            final List<String[]> idle = new ArrayList<>();
            for (final Setup setup : setups)
            {
                idle.add(setup.await("idle", idleTimeout).substring(GuestIdleProbe.PREFIX.length()).split(" "));
            }
            final String seconds = String.format(Locale.ROOT, "%.0f s", idleMs / 1e3);
            cpuRow(md, "broker CPU, idle guest agent attached (" + seconds + ", run " + run + "), % of a core",
                setups, window, 0);
            cpuRow(md, "QEMU process CPU on the host (same " + seconds + "), % of a core", setups, window, 1);
            md.append("| guest agent JVM's CPU in the guest (guest clock, same window), % of a vCPU |");
            for (final String[] answer : idle)
            {
                md.append(' ').append(guestPercent(answer[2], answer[1])).append(" |");
            }
            md.append(" |\n| whole guest's busy CPU (guest /proc/stat), % of a vCPU |");
            for (final String[] answer : idle)
            {
                md.append(' ').append(guestPercent(answer[3], answer[1])).append(" |");
            }
            md.append(" |\n");
        }

        int sample = 0;
        for (int k = 0; k < IDLE_MS.length; k++)
        {
            if (0 == samples[k])
            {
                continue;
            }
            final List<List<String>> latency = new ArrayList<>();
            final List<List<String>> oversleep = new ArrayList<>();
            final List<List<String>> irqs = new ArrayList<>();
            for (int i = 0; i < setups.size(); i++)
            {
                latency.add(new ArrayList<>());
                oversleep.add(new ArrayList<>());
                irqs.add(new ArrayList<>());
            }
            final CpuTicks.Window window = new CpuTicks.Window(pids(setups));
            for (int t = 0; t < samples[k]; t++, sample++)
            {
                for (int i = 0; i < setups.size(); i++)
                {
                    // Alternate who goes first; the other setup idles meanwhile, longer than its own sleep.
                    final int s = 0 == (sample & 1) ? i : setups.size() - 1 - i;
                    final String[] answer = setups.get(s).ask("one " + IDLE_MS[k],
                        Duration.ofMillis(IDLE_MS[k]).plus(ANSWER_MARGIN));
                    oversleep.get(s).add(answer[2]);
                    latency.get(s).add(answer[3]);
                    irqs.get(s).add(answer[4]);
                }
            }
            final String after = IDLE_MS[k] / 1_000 + " s idle, " + samples[k] + " samples";
            md.append("| first acquire+release in the guest after ").append(after).append(", us |");
            latency.forEach((l) -> md.append(' ').append(String.join(", ", l)).append(" (median ")
                .append(median(l)).append(") |"));
            md.append(' ').append(window.describe()).append(" |\n");
            md.append("| the guest's sleep overshoot before it (its clock), us |");
            oversleep.forEach((l) -> md.append(' ').append(String.join(", ", l)).append(" |"));
            md.append(" |\n| MSI-X interrupts the guest took for it (until ").append(GuestIdleProbe.IRQ_GRACE_MS)
                .append(" ms after) |");
            irqs.forEach((l) -> md.append(' ').append(String.join(", ", l)).append(" |"));
            md.append(" |\n");
        }

        md.append("| broker counters at the end: guest doorbell wake-ups, interrupts sent |");
        for (final Setup setup : setups)
        {
            final CountersSnapshot c = PcbCommand.awaitCounters(setup.broker.runDir(), (x) -> true);
            md.append(' ').append(c.value(CounterType.GUEST_DOORBELL_WAKEUPS, "vm1")).append(", ")
                .append(c.value(CounterType.GUEST_INTERRUPTS, "vm1")).append(" |");
        }
        md.append(" |\n");
    }

    private static String median(final List<String> values)
    {
        final double[] v = values.stream().mapToDouble(Double::parseDouble).toArray();
        return String.format(Locale.ROOT, "%.0f", Spread.of(v).median());
    }

    private static String guestPercent(final String ticks, final String seconds)
    {
        return String.format(Locale.ROOT, "%.2f (%s ticks)", Long.parseLong(ticks) / Double.parseDouble(seconds),
            ticks);
    }

    /** Row of one process per setup: index {@code 2 * s + offset} of the window (broker 0, QEMU 1). */
    private static void cpuRow(
        final StringBuilder md, final String what, final List<Setup> setups, final CpuTicks.Window window,
        final int offset)
    {
        md.append("| ").append(what).append(" |");
        for (int s = 0; s < setups.size(); s++)
        {
            final int index = 2 * s + offset;
            md.append(String.format(Locale.ROOT, " %.2f (%d ticks) |", window.percent(index), window.ticks(index)));
        }
        md.append(' ').append(window.describe()).append(" |\n");
    }

    /** Broker and QEMU of each setup, in order; then this JVM. */
    private static long[] pids(final List<Setup> setups)
    {
        final long[] pids = new long[2 * setups.size() + 1];
        for (int s = 0; s < setups.size(); s++)
        {
            pids[2 * s] = setups.get(s).broker.pid();
            pids[2 * s + 1] = setups.get(s).qemuPid;
        }
        pids[pids.length - 1] = ProcessHandle.current().pid();
        return pids;
    }

    /** The guest's view of a class path: each entry made visible ({@link QemuGuest#visibleInGuest}). */
    private static String visibleClassPath(final String classPath)
    {
        final List<String> entries = new ArrayList<>();
        for (final String entry : classPath.split(":"))
        {
            entries.add(entry.endsWith("/*") ?
                QemuGuest.visibleInGuest(Path.of(entry.substring(0, entry.length() - 2))) + "/*" :
                QemuGuest.visibleInGuest(Path.of(entry)).toString());
        }
        return String.join(":", entries);
    }

    private static String qemuArgs(final Path runDir) throws IOException, InterruptedException
    {
        final Process process = JavaProcess.pcb("qemu-args", "--run-dir", runDir.toString(), "--guest", "vm1")
            .redirectErrorStream(true).start();
        final String printed = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
        if (!process.waitFor(60, TimeUnit.SECONDS) || 0 != process.exitValue())
        {
            throw new IOException("pcb qemu-args failed: " + printed);
        }
        return printed;
    }

    private static String tail(final String console)
    {
        return console.length() <= 4_000 ? console : console.substring(console.length() - 4_000);
    }
}
