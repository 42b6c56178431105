package dev.pcb.testsupport;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;

/**
 * Commands run as an ordinary user from a test that runs as root: {@code nobody} (uid 65534) in group
 * {@code nogroup} (gid 65534) and no other group, through {@code setpriv}. A {@code pcb} JVM needs its class path
 * readable by that user; entries that are not (the jars in root's ~/.m2) are copied once per test JVM into a
 * world-readable directory under /tmp, removed when the JVM exits.
 */
public final class Unprivileged
{
    /** The user's id. */
    public static final int UID = 65534;
    /** Its only group's id. */
    public static final int GID = 65534;
    /** That group's name, for {@code pcb broker --run-group}. */
    public static final String GROUP = "nogroup";

    private static final Set<PosixFilePermission> WORLD_READABLE = PosixFilePermissions.fromString("rwxr-xr-x");
    private static Path copiedClassPath;

    private Unprivileged()
    {
    }

    /**
     * A command prefixed with {@code setpriv}, so it runs as the user.
     *
     * @param command program and arguments.
     * @return the whole command line.
     */
    public static List<String> command(final List<String> command)
    {
        final List<String> all = new ArrayList<>(List.of("setpriv", "--reuid=" + UID, "--regid=" + GID,
            "--clear-groups", "--"));
        all.addAll(command);
        return all;
    }

    /**
     * {@code bash -c SCRIPT} as the user.
     *
     * @param script the script.
     * @return a builder ready to start.
     */
    public static ProcessBuilder bash(final String script)
    {
        return new ProcessBuilder(command(List.of("bash", "-c", script)));
    }

    /**
     * {@code pcb ARGS} in a new JVM as the user, with a class path the user can read.
     *
     * @param args pcb arguments.
     * @return a builder ready to start.
     */
    public static ProcessBuilder pcb(final String... args)
    {
        final List<String> java = new ArrayList<>(JavaProcess.pcbCommand(args));
        final int cp = java.indexOf("-cp");
        java.set(cp + 1, readableClassPath());
        return new ProcessBuilder(command(java));
    }

    /**
     * A directory the user owns, to mount on: created in a fresh world-searchable directory under /tmp (a JUnit
     * temporary directory is root's, mode 0700).
     *
     * @param name its name.
     * @return the directory; {@link FileTrees#delete(Path)} its parent when done.
     * @throws IOException when it cannot be made.
     */
    public static Path ownedDirectory(final String name) throws IOException
    {
        final Path parent = Files.createTempDirectory("pcb-unprivileged-");
        Files.setPosixFilePermissions(parent, WORLD_READABLE);
        final Path directory = Files.createDirectory(parent.resolve(name));
        chown(directory);
        return directory;
    }

    /**
     * Give a file or directory to the user.
     *
     * @param path what to give.
     * @throws IOException when chown fails.
     */
    public static void chown(final Path path) throws IOException
    {
        Files.setAttribute(path, "unix:uid", UID);
        Files.setAttribute(path, "unix:gid", GID);
    }

    private static synchronized String readableClassPath()
    {
        try
        {
            if (null == copiedClassPath)
            {
                copiedClassPath = Files.createTempDirectory("pcb-unprivileged-cp-");
                Files.setPosixFilePermissions(copiedClassPath, WORLD_READABLE);
                final Path copies = copiedClassPath;
                Runtime.getRuntime().addShutdownHook(new Thread(() ->
                {
                    try
                    {
                        FileTrees.delete(copies);
                    }
                    catch (final IOException ignore)
                    {
                        // Best effort at exit: a leftover in /tmp fails nothing.
                    }
                }, "pcb-unprivileged-cleanup"));
            }
            final List<String> entries = new ArrayList<>();
            int index = 0;
            for (final String entry : System.getProperty("java.class.path").split(java.io.File.pathSeparator))
            {
                final Path path = Path.of(entry).toAbsolutePath();
                if (!Files.exists(path) || worldReadable(path))
                {
                    entries.add(entry);
                    continue;
                }
                final Path copy = copiedClassPath.resolve(index++ + "-" + path.getFileName());
                if (!Files.exists(copy))
                {
                    copyReadable(path, copy);
                }
                entries.add(copy.toString());
            }
            return String.join(java.io.File.pathSeparator, entries);
        }
        catch (final IOException ex)
        {
            throw new UncheckedIOException(ex);
        }
    }

    /** Whether others may read the entry and search every directory above it. */
    private static boolean worldReadable(final Path path) throws IOException
    {
        if (!Files.getPosixFilePermissions(path).contains(PosixFilePermission.OTHERS_READ))
        {
            return false;
        }
        for (Path parent = path.getParent(); null != parent; parent = parent.getParent())
        {
            if (!Files.getPosixFilePermissions(parent).contains(PosixFilePermission.OTHERS_EXECUTE))
            {
                return false;
            }
        }
        return !Files.isDirectory(path) ||
            Files.getPosixFilePermissions(path).contains(PosixFilePermission.OTHERS_EXECUTE);
    }

    private static void copyReadable(final Path from, final Path to) throws IOException
    {
        try (Stream<Path> paths = Files.walk(from))
        {
            for (final Path source : (Iterable<Path>)paths::iterator)
            {
                final Path target = to.resolve(from.relativize(source).toString());
                if (Files.isDirectory(source))
                {
                    Files.createDirectories(target);
                }
                else
                {
                    Files.copy(source, target, StandardCopyOption.REPLACE_EXISTING);
                }
                Files.setPosixFilePermissions(target, WORLD_READABLE);
            }
        }
    }
}
