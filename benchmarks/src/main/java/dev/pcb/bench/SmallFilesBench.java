package dev.pcb.bench;

import dev.pcb.agent.AgentConfig;
import dev.pcb.agent.DirEntry;
import dev.pcb.agent.PcbAgent;
import dev.pcb.agent.PcbFile;
import dev.pcb.agent.WindowView;
import dev.pcb.layout.DataRegionDescriptor;
import dev.pcb.layout.RunDirectory;
import dev.pcb.layout.WindowDescriptor;
import dev.pcb.nativeshim.MappedRegion;
import dev.pcb.protocol.FileType;
import dev.pcb.testsupport.BrokerProcess;
import dev.pcb.testsupport.FileTrees;
import org.agrona.concurrent.UnsafeBuffer;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

/**
 * Issue 9's benchmark: a /usr-like tree of small files (sizes drawn like a real /usr: most under 16 KiB, a few
 * large) read whole through the agent. Reports the region memory used per byte of file data (windows in use times
 * the window size, over the bytes read; target at most 1.25), files read per second through the agent, and, in the
 * same run, a plain host {@code cat} of every file for comparison.
 * <p>
 * Arguments: file count (default 20000), runs (default 3).
 */
public final class SmallFilesBench
{
    private SmallFilesBench()
    {
    }

    /**
     * Run the benchmark and print a Markdown table.
     *
     * @param args file count, runs.
     * @throws Exception on failure.
     */
    public static void main(final String[] args) throws Exception
    {
        final int files = args.length > 0 ? Integer.parseInt(args[0]) : 20_000;
        final int runs = args.length > 1 ? Integer.parseInt(args[1]) : 3;
        final Path tree = Files.createTempDirectory(Path.of("/var/tmp"), "pcb-small-files-");
        try
        {
            final long total = createTree(tree, files, 42);
            final int window = 2 << 20;
            final long region = Long.highestOneBit(total * 2 - 1) << 1;
            System.out.printf(Locale.ROOT, "tree: %d files, %.1f MiB; region %d MiB, windows of %d KiB%n", files,
                total / 1048576.0, region >> 20, window >> 10);
            try (BrokerProcess broker = BrokerProcess.start(BenchData.newRunDir(), "--share", "usr=" + tree,
                "--guest", "vm1", "--region-size", Long.toString(region), "--window-size", Integer.toString(window));
                PcbAgent agent = PcbAgent.attach(new AgentConfig().runDir(broker.runDir()).guest("vm1")
                    .connectTimeout(Duration.ofSeconds(30))))
            {
                final List<String> paths = new ArrayList<>();
                walk(agent, "usr", paths);
                System.out.println("| run | agent: files/s | agent: MiB/s | host cat: files/s | agent / cat |");
                System.out.println("|---|---|---|---|---|");
                for (int run = 1; run <= runs; run++)
                {
                    final long start = System.nanoTime();
                    long bytes = 0;
                    for (final String path : paths)
                    {
                        bytes += readAll(agent, path);
                    }
                    final double agentSeconds = (System.nanoTime() - start) / 1e9;
                    final double catSeconds = cat(tree);
                    System.out.printf(Locale.ROOT, "| %d%s | %.0f | %.0f | %.0f | %.2f |%n", run,
                        run == 1 ? " (fills)" : " (hits)", paths.size() / agentSeconds,
                        bytes / agentSeconds / 1048576, paths.size() / catSeconds, catSeconds / agentSeconds);
                }
                final long used = usedWindows(broker.runDir()) * (long)window;
                System.out.printf(Locale.ROOT, "region memory used per byte of file data: %.3f (%d windows of 2 MiB " +
                    "for %.1f MiB of files)%n", (double)used / total, used / window, total / 1048576.0);
            }
        }
        finally
        {
            FileTrees.delete(tree);
        }
    }

    private static long readAll(final PcbAgent agent, final String path) throws Exception
    {
        long sum = 0;
        try (PcbFile file = agent.open(path))
        {
            for (long w = 0; w < file.windowCount(); w++)
            {
                try (WindowView view = file.acquire(w))
                {
                    // Touch every cache line, as a consumer of the bytes would.
                    for (int i = 0; i + 8 <= view.length(); i += 64)
                    {
                        sum += view.buffer().getLong(i);
                    }
                }
            }
            return file.size() + (sum == 42 ? 1 : 0);
        }
    }

    private static double cat(final Path tree) throws Exception
    {
        final long start = System.nanoTime();
        final Process cat = new ProcessBuilder("sh", "-c", "find . -type f -exec cat {} + > /dev/null")
            .directory(tree.toFile()).inheritIO().start();
        if (!cat.waitFor(10, TimeUnit.MINUTES) || cat.exitValue() != 0)
        {
            throw new IllegalStateException("cat failed");
        }
        return (System.nanoTime() - start) / 1e9;
    }

    private static void walk(final PcbAgent agent, final String dir, final List<String> out) throws Exception
    {
        for (final DirEntry entry : agent.list(dir))
        {
            final String path = dir + "/" + entry.name();
            if (FileType.DIRECTORY == entry.type())
            {
                walk(agent, path, out);
            }
            else
            {
                out.add(path);
            }
        }
    }

    private static long usedWindows(final Path runDir) throws Exception
    {
        try (MappedRegion region = MappedRegion.map(RunDirectory.dataRegionFile(runDir, "usr"), false))
        {
            final UnsafeBuffer header = new UnsafeBuffer(region.address(), DataRegionDescriptor.SUPERBLOCK_LENGTH);
            final int windows = header.getInt(DataRegionDescriptor.WINDOW_COUNT_OFFSET);
            final UnsafeBuffer table = new UnsafeBuffer(region.address(), DataRegionDescriptor.descriptorOffset(windows));
            long used = 0;
            for (int i = 0; i < windows; i++)
            {
                if (WindowDescriptor.STATE_FREE !=
                    table.getIntVolatile(DataRegionDescriptor.descriptorOffset(i) + WindowDescriptor.STATE_OFFSET))
                {
                    used++;
                }
            }
            return used;
        }
    }

    /**
     * A tree with /usr-like sizes: 60% under 4 KiB, 30% 4-16 KiB, 9.5% 16-64 KiB, 0.5% 64 KiB - 1 MiB.
     */
    static long createTree(final Path root, final int files, final long seed) throws Exception
    {
        final SplittableRandom random = new SplittableRandom(seed);
        final byte[] pool = new byte[1 << 20];
        random.nextBytes(pool);
        long total = 0;
        for (int i = 0; i < files; i++)
        {
            final Path dir = root.resolve("d" + (i / 100 % 50)).resolve("s" + (i / 100));
            if (i % 100 == 0)
            {
                Files.createDirectories(dir);
            }
            final int p = random.nextInt(1000);
            final int size = p < 600 ? 100 + random.nextInt(4 * 1024) :
                p < 900 ? 4 * 1024 + random.nextInt(12 * 1024) :
                p < 995 ? 16 * 1024 + random.nextInt(48 * 1024) : 64 * 1024 + random.nextInt(960 * 1024);
            final byte[] content = new byte[size];
            System.arraycopy(pool, random.nextInt(pool.length - size + 1), content, 0, size);
            Files.write(dir.resolve("f" + i), content);
            total += size;
        }
        return total;
    }
}
