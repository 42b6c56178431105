package dev.pcb.cli;

import dev.pcb.agent.DirEntry;
import dev.pcb.agent.PcbAgent;
import dev.pcb.agent.PcbFile;
import dev.pcb.agent.WindowView;
import dev.pcb.protocol.FileAttributes;
import dev.pcb.protocol.FileType;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.Callable;

/**
 * {@code pcb agent}: read shares through the broker from the command line, on the host or inside a VM.
 */
@Command(
    name = "agent",
    mixinStandardHelpOptions = true,
    description = {
        "Read shared files through the broker. Paths are SHARE/PATH.",
        "On the host give --run-dir and --guest; inside a VM the ivshmem devices are found by themselves."
    },
    subcommands = {
        AgentCommand.Ls.class,
        AgentCommand.Stat.class,
        AgentCommand.Cat.class,
        AgentCommand.Sha256.class,
        AgentCommand.Cp.class
    })
public final class AgentCommand implements Runnable
{
    @CommandLine.Mixin
    AgentOptions options = new AgentOptions();

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    /** {@inheritDoc} */
    public void run()
    {
        throw new CommandLine.ParameterException(spec.commandLine(), "missing command: ls, stat, cat, sha256 or cp");
    }

    PcbAgent attach() throws IOException
    {
        return options.attach(spec);
    }

    /**
     * Copy a whole file through views, window by window, to a sink; returns bytes copied.
     */
    static long copy(final PcbFile file, final WindowSink sink) throws IOException
    {
        long copied = 0;
        for (long w = 0, n = file.windowCount(); w < n; w++)
        {
            try (WindowView view = file.acquire(w))
            {
                sink.accept(view);
                copied += view.length();
            }
        }
        return copied;
    }

    /**
     * Receives each window of a file in order.
     */
    @FunctionalInterface
    interface WindowSink
    {
        void accept(WindowView view) throws IOException;
    }

    /** {@code pcb agent ls}. */
    @Command(name = "ls", mixinStandardHelpOptions = true, description = "List a directory (or show one file).")
    static final class Ls implements Callable<Integer>
    {
        @ParentCommand
        AgentCommand parent;

        @Parameters(paramLabel = "SHARE/PATH", description = "Directory to list.")
        String path;

        @Option(names = "-l", description = "Long format: type, size, name.")
        boolean longFormat;

        /** {@inheritDoc} */
        public Integer call() throws IOException
        {
            try (PcbAgent agent = parent.attach())
            {
                final PrintWriter out = parent.spec.commandLine().getOut();
                final FileAttributes attributes = agent.stat(path);
                if (!attributes.isDirectory())
                {
                    out.println(longFormat ? FileType.tag(attributes.type()) + " " + attributes.size() + " " + path : path);
                    return 0;
                }
                for (final DirEntry entry : agent.list(path))
                {
                    if (longFormat)
                    {
                        out.printf("%s %12d %s%n", FileType.tag(entry.type()), entry.size(), entry.name());
                    }
                    else
                    {
                        out.println(entry.name() + (FileType.DIRECTORY == entry.type() ? "/" : ""));
                    }
                }
                out.flush();
                return 0;
            }
        }
    }

    /** {@code pcb agent stat}. */
    @Command(name = "stat", mixinStandardHelpOptions = true, description = "Show a path's attributes.")
    static final class Stat implements Callable<Integer>
    {
        @ParentCommand
        AgentCommand parent;

        @Parameters(paramLabel = "SHARE/PATH", description = "Path to stat.")
        String path;

        /** {@inheritDoc} */
        public Integer call() throws IOException
        {
            try (PcbAgent agent = parent.attach())
            {
                final FileAttributes a = agent.stat(path);
                final PrintWriter out = parent.spec.commandLine().getOut();
                out.println("  path: " + path);
                out.println("  type: " + typeName(a.type()));
                out.println("  size: " + a.size());
                out.println("  mode: " + Integer.toOctalString(a.mode() & 07777));
                out.println(" inode: " + a.inode() + "  device: " + a.device() + "  links: " + a.linkCount());
                out.println(" mtime: " + instant(a.mtimeNanos()));
                out.println(" ctime: " + instant(a.ctimeNanos()));
                out.flush();
                return 0;
            }
        }

        private static String typeName(final int type)
        {
            switch (type)
            {
                case FileType.REGULAR: return "regular file";
                case FileType.DIRECTORY: return "directory";
                case FileType.SYMLINK: return "symbolic link";
                default: return "other";
            }
        }

        private static Instant instant(final long nanos)
        {
            return Instant.ofEpochSecond(Math.floorDiv(nanos, 1_000_000_000L), Math.floorMod(nanos, 1_000_000_000L));
        }
    }

    /** {@code pcb agent cat}. */
    @Command(name = "cat", mixinStandardHelpOptions = true, description = "Write a file to standard output.")
    static final class Cat implements Callable<Integer>
    {
        @ParentCommand
        AgentCommand parent;

        @Parameters(paramLabel = "SHARE/PATH", description = "File to print.")
        String path;

        /** {@inheritDoc} */
        public Integer call() throws IOException
        {
            try (PcbAgent agent = parent.attach(); PcbFile file = agent.open(path))
            {
                final OutputStream out = System.out;
                final byte[] chunk = new byte[64 * 1024];
                copy(file, (view) ->
                {
                    for (int at = 0; at < view.length(); at += chunk.length)
                    {
                        final int n = Math.min(chunk.length, view.length() - at);
                        view.buffer().getBytes(at, chunk, 0, n);
                        out.write(chunk, 0, n);
                    }
                });
                out.flush();
                return 0;
            }
        }
    }

    /** {@code pcb agent sha256}. */
    @Command(name = "sha256", mixinStandardHelpOptions = true,
        description = "Print the SHA-256 of files, read zero-copy, like sha256sum.")
    static final class Sha256 implements Callable<Integer>
    {
        @ParentCommand
        AgentCommand parent;

        @Parameters(paramLabel = "SHARE/PATH", arity = "1..*", description = "Files to hash.")
        List<String> paths;

        @Option(names = "--stats", description = "Also print bytes read and time taken on stderr.")
        boolean stats;

        /** {@inheritDoc} */
        public Integer call() throws IOException, NoSuchAlgorithmException
        {
            try (PcbAgent agent = parent.attach())
            {
                final PrintWriter out = parent.spec.commandLine().getOut();
                final long startNs = System.nanoTime();
                long bytes = 0;
                for (final String path : paths)
                {
                    try (PcbFile file = agent.open(path))
                    {
                        out.println(HexFormat.of().formatHex(digest(file)) + "  " + path);
                        bytes += file.size();
                    }
                }
                out.flush();
                if (stats)
                {
                    final PrintWriter err = parent.spec.commandLine().getErr();
                    err.println("read " + bytes + " bytes in " + (System.nanoTime() - startNs) / 1000 + " us");
                    err.flush();
                }
                return 0;
            }
        }

        static byte[] digest(final PcbFile file) throws IOException, NoSuchAlgorithmException
        {
            final MessageDigest digest = MessageDigest.getInstance("SHA-256");
            copy(file, (view) -> digest.update(view.byteBuffer()));
            return digest.digest();
        }
    }

    /** {@code pcb agent cp}. */
    @Command(name = "cp", mixinStandardHelpOptions = true, description = "Copy a shared file to a local file.")
    static final class Cp implements Callable<Integer>
    {
        @ParentCommand
        AgentCommand parent;

        @Parameters(index = "0", paramLabel = "SHARE/PATH", description = "File to copy.")
        String path;

        @Parameters(index = "1", paramLabel = "DEST", description = "Local file to write (a directory: keep the name).")
        Path dest;

        @Option(names = "--progress", description = "Show progress on stderr.")
        boolean progress;

        /** {@inheritDoc} */
        public Integer call() throws IOException
        {
            Path target = dest;
            if (Files.isDirectory(target))
            {
                target = target.resolve(Path.of(path).getFileName().toString());
            }
            try (PcbAgent agent = parent.attach();
                PcbFile file = agent.open(path);
                FileChannel out = FileChannel.open(target, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                    StandardOpenOption.TRUNCATE_EXISTING))
            {
                final Progress meter = new Progress(progress ? parent.spec.commandLine().getErr() : null,
                    path, file.size());
                final long copied = copy(file, (view) ->
                {
                    final ByteBuffer src = view.byteBuffer();
                    while (src.hasRemaining())
                    {
                        out.write(src);
                    }
                    meter.advance(view.length());
                });
                meter.done();
                return copied == file.size() ? 0 : Pcb.EXIT_FAILURE;
            }
        }
    }
}
