package dev.pcb.cli;

import dev.pcb.agent.DirEntry;
import dev.pcb.agent.PcbAgent;
import dev.pcb.agent.PcbException;
import dev.pcb.agent.PcbFile;
import dev.pcb.agent.ShareRegion;
import dev.pcb.agent.WindowView;
import dev.pcb.protocol.FileAttributes;
import dev.pcb.protocol.FileType;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * {@code pcb warm}: pre-fill the windows of files (or of every file under directories) so the first real reader
 * hits memory instead of the disk. Each window is acquired, which makes the broker fill it, and released at once,
 * so warming pins nothing: the windows stay filled until eviction needs them.
 */
@Command(
    name = "warm",
    mixinStandardHelpOptions = true,
    description = {
        "Pre-fill the windows of files, or of every file under directories, with a progress line.",
        "Paths are SHARE/PATH. On the host give --run-dir and --guest; inside a VM the devices are found by themselves."
    })
public final class WarmCommand implements Callable<Integer>
{
    @CommandLine.Mixin
    AgentOptions options = new AgentOptions();

    @Option(names = "--progress", negatable = true, defaultValue = "true", fallbackValue = "true",
        description = "Show a progress line on stderr (default: on).")
    boolean progress;

    @Parameters(paramLabel = "SHARE/PATH", arity = "1..*", description = "Files or directories to warm.")
    List<String> paths;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    /** {@inheritDoc} */
    public Integer call() throws IOException
    {
        final PrintWriter out = spec.commandLine().getOut();
        final PrintWriter err = spec.commandLine().getErr();
        final long startNs = System.nanoTime();
        try (PcbAgent agent = attach())
        {
            final Map<String, Long> files = new LinkedHashMap<>();
            int failures = 0;
            int filesFailed = 0;
            for (final String path : paths)
            {
                try
                {
                    collect(agent, trim(path), files);
                }
                catch (final PcbException ex)
                {
                    err.println("pcb warm: " + path + ": " + ex.getMessage());
                    failures++;
                }
            }
            warnIfLargerThanRegion(agent, files, err);

            long total = 0;
            for (final long size : files.values())
            {
                total += size;
            }
            final Progress meter = new Progress(progress ? err : null, "warm", total);
            long windows = 0;
            long bytes = 0;
            for (final Map.Entry<String, Long> entry : files.entrySet())
            {
                try (PcbFile file = agent.open(entry.getKey()))
                {
                    for (long w = 0, n = file.windowCount(); w < n; w++)
                    {
                        // Acquire makes the broker fill the window; closing the view releases it at once.
                        try (WindowView view = file.acquire(w))
                        {
                            meter.advance(view.length());
                            bytes += view.length();
                            windows++;
                        }
                    }
                }
                catch (final PcbException ex)
                {
                    // A file removed or changed since it was listed: say so, warm the others.
                    if (progress)
                    {
                        err.println();
                    }
                    err.println("pcb warm: " + entry.getKey() + ": " + ex.getMessage());
                    failures++;
                    filesFailed++;
                }
            }
            meter.done();
            out.println("warmed " + (files.size() - filesFailed) + " file(s), " + windows +
                " window(s), " + bytes + " bytes (" + Sizes.format(bytes) + ") in " +
                Durations.seconds((System.nanoTime() - startNs) / 1e9) +
                (failures > 0 ? ", " + failures + " failure(s)" : ""));
            out.flush();
            return 0 == failures ? 0 : Pcb.EXIT_FAILURE;
        }
    }

    private PcbAgent attach() throws IOException
    {
        return options.attach(spec);
    }

    private static String trim(final String path)
    {
        String p = path;
        while (p.length() > 1 && p.endsWith("/"))
        {
            p = p.substring(0, p.length() - 1);
        }
        return p;
    }

    /**
     * Regular files under a path with their sizes, depth first in name order; symlinks and devices are skipped.
     */
    private static void collect(final PcbAgent agent, final String path, final Map<String, Long> files)
        throws PcbException
    {
        final FileAttributes attributes = agent.stat(path);
        if (attributes.isRegularFile())
        {
            files.put(path, attributes.size());
            return;
        }
        if (!attributes.isDirectory())
        {
            return;
        }
        final List<String> dirs = new ArrayList<>();
        dirs.add(path);
        while (!dirs.isEmpty())
        {
            final String dir = dirs.remove(dirs.size() - 1);
            final List<String> subdirs = new ArrayList<>();
            for (final DirEntry entry : agent.list(dir))
            {
                final String child = dir + "/" + entry.name();
                if (FileType.REGULAR == entry.type())
                {
                    files.put(child, entry.size());
                }
                else if (FileType.DIRECTORY == entry.type())
                {
                    subdirs.add(child);
                }
            }
            // Pushed in reverse so the walk visits subdirectories in name order.
            for (int i = subdirs.size() - 1; i >= 0; i--)
            {
                dirs.add(subdirs.get(i));
            }
        }
    }

    /**
     * Warming more than a share's region holds only evicts what was warmed first: say so before spending the I/O.
     */
    private static void warnIfLargerThanRegion(final PcbAgent agent, final Map<String, Long> files, final PrintWriter err)
    {
        for (final ShareRegion share : agent.shares())
        {
            long windows = 0;
            for (final Map.Entry<String, Long> entry : files.entrySet())
            {
                if (entry.getKey().startsWith(share.name() + "/") || entry.getKey().equals(share.name()))
                {
                    windows += (entry.getValue() + share.windowSize() - 1) / share.windowSize();
                }
            }
            if (windows > share.windowCount())
            {
                err.println("pcb warm: warning: " + windows + " windows requested but share " + share.name() +
                    " holds " + share.windowCount() + "; the first ones warmed will be evicted again " +
                    "(enlarge the broker's --region-size)");
            }
        }
    }
}
