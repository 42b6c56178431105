package dev.pcb.cli;

import dev.pcb.testsupport.FileTrees;
import dev.pcb.testsupport.JavaProcess;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * {@code pcb demo}: a broker on a generated sample share, several agent processes reading the same files at once,
 * every checksum verified against the host's, and what it cost in time and host memory.
 */
@Command(
    name = "demo",
    mixinStandardHelpOptions = true,
    description = {
        "Start a broker on a sample share, read it through several agent processes, verify and measure.",
        "With --qemu, boot a real VM and read the share through the agent inside it."
    })
public final class DemoCommand implements Callable<Integer>
{
    @Option(names = "--agents", paramLabel = "N", description = "Agent processes reading at once (default: ${DEFAULT-VALUE}).")
    int agents = 4;

    @Option(names = "--work-dir", paramLabel = "DIR", description = "Where the sample share lives (default: ${DEFAULT-VALUE}).")
    Path workDir = Path.of(".pcb-demo");

    @Option(names = "--qemu", description = "Also boot a QEMU guest (TCG) and read the share from inside it.")
    boolean qemu;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    /** {@inheritDoc} */
    public Integer call() throws Exception
    {
        final PrintWriter out = spec.commandLine().getOut();
        final Path share = workDir.toAbsolutePath().resolve("share");
        out.println("== pcb demo ==");
        out.println("sample share: " + share);
        SampleShare.create(share);
        final Map<String, String> expected = hostChecksums(share);
        out.printf(Locale.ROOT, "%d files, %s; data region %s (the largest file does not fit: it streams)%n",
            expected.size(), Sizes.format(totalSize(share)), Sizes.format(SampleShare.REGION_SIZE));

        final Path runDir = Path.of("/dev/shm", "pcb-demo-" + ProcessHandle.current().pid());
        final long shmemBefore = meminfoKb("Shmem:");
        final Process broker = JavaProcess.pcb("broker", "--run-dir", runDir.toString(), "--share", "demo=" + share,
            "--guest", "vm1", "--guest", "vm2", "--region-size", Long.toString(SampleShare.REGION_SIZE))
            .redirectErrorStream(true).start();
        try
        {
            awaitReady(broker);
            out.println("broker up (pid " + broker.pid() + "), run dir " + runDir);

            final long startNs = System.nanoTime();
            final List<Process> readers = new ArrayList<>();
            for (int i = 0; i < agents; i++)
            {
                final List<String> args = new ArrayList<>(List.of("agent", "--run-dir", runDir.toString(), "--guest",
                    (i % 2 == 0) ? "vm1" : "vm2", "sha256", "--stats"));
                args.addAll(expected.keySet());
                readers.add(JavaProcess.pcb(args.toArray(new String[0])).start());
            }
            int verified = 0;
            long bytesRead = 0;
            long readMicros = 0;
            for (int i = 0; i < readers.size(); i++)
            {
                final Process reader = readers.get(i);
                final String stdout = new String(reader.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
                final String stderr = new String(reader.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
                if (!reader.waitFor(120, TimeUnit.SECONDS) || reader.exitValue() != 0)
                {
                    throw new IOException("agent " + i + " failed: " + stderr.trim());
                }
                for (final String line : stdout.split("\n"))
                {
                    final String[] parts = line.trim().split("\\s+", 2);
                    if (parts.length == 2)
                    {
                        if (!parts[0].equals(expected.get(parts[1])))
                        {
                            throw new IOException("agent " + i + ": checksum mismatch for " + parts[1]);
                        }
                        verified++;
                    }
                }
                final String[] stats = stderr.trim().split("\\s+");
                for (int s = 0; s + 1 < stats.length; s++)
                {
                    if ("read".equals(stats[s]))
                    {
                        bytesRead += Long.parseLong(stats[s + 1]);
                        readMicros = Math.max(readMicros, Long.parseLong(stats[s + 4]));
                    }
                }
            }
            final double wallSeconds = (System.nanoTime() - startNs) / 1e9;
            final long shmemAfter = meminfoKb("Shmem:");
            out.printf(Locale.ROOT, "%d agent processes (guests vm1, vm2) verified %d checksums, all equal to the " +
                "host's%n", agents, verified);
            out.printf(Locale.ROOT, "read %s through the agents; slowest agent read its share in %.2f s " +
                "(%.0f MiB/s aggregate; first reads fill from disk), whole run %.1f s with JVM starts%n",
                Sizes.format(bytesRead), readMicros / 1e6, bytesRead / Math.max(1e-9, readMicros / 1e6) / (1 << 20),
                wallSeconds);
            out.printf(Locale.ROOT, "host shared memory grew by %s for %d readers (region %s, one copy; " +
                "without pcb each reader would cache its own %s)%n",
                Sizes.format(Math.max(0, shmemAfter - shmemBefore) * 1024), agents,
                Sizes.format(SampleShare.REGION_SIZE), Sizes.format(totalSize(share)));

            if (qemu)
            {
                return QemuDemo.run(out, runDir, share, expected);
            }
            return 0;
        }
        finally
        {
            broker.destroy();
            if (!broker.waitFor(20, TimeUnit.SECONDS))
            {
                broker.destroyForcibly();
            }
            FileTrees.delete(runDir);
            out.println("broker stopped, " + runDir + " removed");
            out.flush();
        }
    }

    static void awaitReady(final Process broker) throws IOException
    {
        final StringBuffer seen = new StringBuffer();
        try
        {
            JavaProcess.awaitReady(broker, 30_000, (line) -> seen.append(line).append('\n'));
        }
        catch (final IOException ex)
        {
            throw new IOException("broker did not start (" + ex.getMessage() + "):\n" + seen, ex);
        }
    }

    static Map<String, String> hostChecksums(final Path share) throws IOException, NoSuchAlgorithmException
    {
        final Map<String, String> sums = new LinkedHashMap<>();
        try (Stream<Path> files = Files.walk(share))
        {
            for (final Path file : (Iterable<Path>)files.filter(Files::isRegularFile).sorted()::iterator)
            {
                final String name = share.relativize(file).toString();
                if (name.startsWith("."))
                {
                    continue;
                }
                final MessageDigest digest = MessageDigest.getInstance("SHA-256");
                try (InputStream in = Files.newInputStream(file))
                {
                    final byte[] buffer = new byte[1 << 16];
                    int n;
                    while ((n = in.read(buffer)) > 0)
                    {
                        digest.update(buffer, 0, n);
                    }
                }
                sums.put("demo/" + name, HexFormat.of().formatHex(digest.digest()));
            }
        }
        return sums;
    }

    private static long totalSize(final Path share) throws IOException
    {
        try (Stream<Path> files = Files.walk(share))
        {
            return files.filter(Files::isRegularFile).mapToLong((p) ->
            {
                try
                {
                    return Files.size(p);
                }
                catch (final IOException ex)
                {
                    return 0;
                }
            }).sum();
        }
    }

    static long meminfoKb(final String key) throws IOException
    {
        for (final String line : Files.readAllLines(Path.of("/proc/meminfo")))
        {
            if (line.startsWith(key))
            {
                return Long.parseLong(line.substring(key.length()).trim().split("\\s+")[0]);
            }
        }
        return 0;
    }

}
