package dev.pcb.fs;

import dev.pcb.nativeshim.Errno;
import dev.pcb.nativeshim.ErrnoException;
import dev.pcb.nativeshim.Linux;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.logging.Logger;

/**
 * A mounted FUSE filesystem and how it was made. As root: open /dev/fuse and mount {@code fuse.pcb} read-only with
 * mount(2) and {@code fd=N}. As an ordinary user, the way libfuse does it: {@code fusermount3} (setuid root) mounts
 * and passes the /dev/fuse descriptor back over a socketpair with {@code SCM_RIGHTS}; it stays as the
 * {@code auto_unmount} helper, which unmounts a mount whose server died (kill -9) once this process's end of the
 * socket closes. The descriptor goes to a {@link FuseServer}. Every failure is an {@link IOException} whose message
 * is one line naming the problem.
 */
public final class FuseMount implements AutoCloseable
{
    /** The FUSE device. */
    public static final Path DEVICE = Path.of("/dev/fuse");
    /** Filesystem type shown in /proc/mounts. */
    public static final String TYPE = "fuse.pcb";
    /** The setuid helper that mounts and unmounts FUSE filesystems for ordinary users (Debian package fuse3). */
    public static final String FUSERMOUNT = "fusermount3";
    /** Where fusermount3 reads {@code user_allow_other}. */
    static final Path FUSE_CONF = Path.of("/etc/fuse.conf");
    /** The environment variable naming the descriptor of fusermount3's end of the socket. */
    static final String COMMFD_ENV = "_FUSE_COMMFD";
    /** Descriptor number of the socket in fusermount3 (0-2 are its standard streams). */
    static final int COMMFD = 3;
    /** How long fusermount3 may take to unmount. */
    static final long FUSERMOUNT_TIMEOUT_MS = 30_000;
    /** How long the auto_unmount helper may take to go once its socket is closed. */
    static final long HELPER_EXIT_TIMEOUT_MS = 2_000;

    private static final Logger LOG = Logger.getLogger(FuseMount.class.getName());

    private final int fd;
    private final int helperSocket;
    private final int helperPid;
    private boolean closed;

    private FuseMount(final int fd, final int helperSocket, final int helperPid)
    {
        this.fd = fd;
        this.helperSocket = helperSocket;
        this.helperPid = helperPid;
    }

    /**
     * Check the mount point and the machine, then mount: with mount(2) as root, else through fusermount3.
     *
     * @param mountPoint an existing directory that is not a mount point yet (as an ordinary user: one that user may
     *                   write, as fusermount3 demands).
     * @param source     what /proc/mounts shows as the source, e.g. {@code pcb:SHARE}.
     * @return the mount, whose {@link #fd()} is the /dev/fuse descriptor now bound to it.
     * @throws IOException naming the problem.
     */
    public static FuseMount mount(final Path mountPoint, final String source) throws IOException
    {
        check(mountPoint);
        final Path target = mountPoint.toAbsolutePath().normalize();
        return privileged() ? mountAsRoot(mountPoint, target, source) :
            mountThroughFusermount(mountPoint, target, source, fusermount(System.getenv("PATH")));
    }

    /**
     * The /dev/fuse descriptor of this mount, for its {@link FuseServer}.
     *
     * @return the descriptor; {@link #close()} closes it.
     */
    public int fd()
    {
        return fd;
    }

    /**
     * Close the /dev/fuse descriptor and, for a mount made by fusermount3, the socket to its auto_unmount helper,
     * and reap the helper. Call after unmounting: the helper then finds the mount gone and leaves it alone; had it
     * still been mounted with its server gone, the helper would unmount it lazily.
     */
    public synchronized void close()
    {
        if (closed)
        {
            return;
        }
        closed = true;
        Linux.close(fd);
        if (helperSocket >= 0)
        {
            Linux.close(helperSocket);
            reap(helperPid, HELPER_EXIT_TIMEOUT_MS);
        }
    }

    /**
     * Check, before anything is started, that a mount could succeed here.
     *
     * @param mountPoint the mount point.
     * @throws IOException naming the problem: missing or busy mount point, no /dev/fuse, not root and no
     *                     fusermount3 on PATH.
     */
    public static void check(final Path mountPoint) throws IOException
    {
        final Path target = mountPoint.toAbsolutePath().normalize();
        if (!Files.isDirectory(target))
        {
            throw new IOException(mountPoint + ": no such directory (the mount point must exist)");
        }
        if (isMountPoint(target))
        {
            throw new IOException(mountPoint + ": busy, already a mount point (pcb umount " + mountPoint + ")");
        }
        if (!Files.exists(DEVICE))
        {
            throw new IOException("no " + DEVICE + ": this kernel has no FUSE (modprobe fuse)");
        }
        if (!privileged())
        {
            fusermount(System.getenv("PATH"));
        }
    }

    /**
     * Unmount; the server of the mount sees ENODEV and ends. As root with umount2(2), else with
     * {@code fusermount3 -u} (which unmounts only mounts of the calling user).
     *
     * @param mountPoint the mount point.
     * @param lazy       detach even while files are open (MNT_DETACH, {@code fusermount3 -u -z}).
     * @throws IOException naming the problem: not mounted, busy, not permitted.
     */
    public static void unmount(final Path mountPoint, final boolean lazy) throws IOException
    {
        final Path target = mountPoint.toAbsolutePath().normalize();
        if (!privileged())
        {
            unmountThroughFusermount(mountPoint, target, lazy, fusermount(System.getenv("PATH")));
            return;
        }
        try
        {
            Linux.umount2(target.toString(), lazy ? Linux.MNT_DETACH : 0);
        }
        catch (final ErrnoException ex)
        {
            switch (ex.errno())
            {
                case Errno.EINVAL:
                    throw new IOException(mountPoint + ": not a mount point", ex);
                case Errno.EBUSY:
                    throw new IOException(mountPoint + ": busy (files open or a process's working directory)", ex);
                case Errno.EPERM:
                    throw new IOException(mountPoint + ": unmounting needs root", ex);
                case Errno.ENOENT:
                    throw new IOException(mountPoint + ": no such directory", ex);
                default:
                    throw new IOException(mountPoint + ": umount failed: " + Errno.name(ex.errno()), ex);
            }
        }
    }

    /**
     * Whether a directory is a mount point now, from /proc/self/mountinfo.
     *
     * @param directory absolute, normalized path.
     * @return true when something is mounted there.
     * @throws IOException when mountinfo cannot be read.
     */
    public static boolean isMountPoint(final Path directory) throws IOException
    {
        final String wanted = directory.toString().replace(" ", "\\040");
        final List<String> lines = Files.readAllLines(Path.of("/proc/self/mountinfo"));
        for (final String line : lines)
        {
            final String[] fields = line.split(" ");
            if (fields.length > 4 && fields[4].equals(wanted))
            {
                return true;
            }
        }
        return false;
    }

    /**
     * The options {@code pcb mount} gives fusermount3, as libfuse would for a read-only filesystem that lets the
     * kernel check permissions: the source as {@code fsname} (commas and backslashes escaped, as fusermount3
     * unescapes them), {@code subtype=pcb} (so the type is {@code fuse.pcb}, as with mount(2)), {@code ro},
     * {@code nosuid}, {@code nodev}, {@code default_permissions}, the 1 MiB {@code max_read}, {@code auto_unmount},
     * and {@code allow_other} only when asked (fusermount3 refuses it unless /etc/fuse.conf has
     * {@code user_allow_other}).
     *
     * @param source     the source, e.g. {@code pcb:SHARE/DIR}.
     * @param allowOther whether other users (root included) may use the mount.
     * @return the {@code -o} argument.
     */
    static String fusermountOptions(final String source, final boolean allowOther)
    {
        final String fsname = source.replace("\\", "\\\\").replace(",", "\\,");
        return "fsname=" + fsname + ",subtype=pcb,ro,nosuid,nodev,default_permissions,max_read=" +
            FuseWorker.MAX_READ + ",auto_unmount" + (allowOther ? ",allow_other" : "");
    }

    /**
     * Whether fusermount3 lets ordinary users ask for {@code allow_other}: a line {@code user_allow_other} in
     * /etc/fuse.conf, as fusermount3 reads it.
     *
     * @param fuseConf the configuration file; missing means no.
     * @return true when allowed.
     * @throws IOException when it exists but cannot be read.
     */
    static boolean userAllowOther(final Path fuseConf) throws IOException
    {
        if (!Files.exists(fuseConf))
        {
            return false;
        }
        for (final String line : Files.readAllLines(fuseConf, StandardCharsets.UTF_8))
        {
            if ("user_allow_other".equals(line.strip()))
            {
                return true;
            }
        }
        return false;
    }

    /**
     * Find fusermount3 on a PATH, as posix_spawnp (libfuse's fallback) would; the first executable one wins.
     *
     * @param path the PATH value; null or empty means none.
     * @return the program.
     * @throws IOException naming the problem when PATH has none.
     */
    static Path fusermount(final String path) throws IOException
    {
        if (null != path)
        {
            for (final String directory : path.split(File.pathSeparator))
            {
                if (!directory.isEmpty())
                {
                    final Path candidate = Path.of(directory, FUSERMOUNT);
                    if (Files.isRegularFile(candidate) && Files.isExecutable(candidate))
                    {
                        return candidate.toAbsolutePath();
                    }
                }
            }
        }
        throw new IOException("no " + FUSERMOUNT + " on PATH: an ordinary user mounts through it " +
            "(Debian package fuse3), or run pcb mount as root");
    }

    private static boolean privileged()
    {
        return 0 == Linux.getuid();
    }

    private static FuseMount mountAsRoot(final Path mountPoint, final Path target, final String source)
        throws IOException
    {
        final int fd;
        try
        {
            fd = Linux.openFile(DEVICE.toString(), Linux.O_RDWR);
        }
        catch (final ErrnoException ex)
        {
            throw new IOException(DEVICE + ": " + ex.getMessage(), ex);
        }
        final String options = "fd=" + fd + ",rootmode=40000,user_id=0,group_id=0,allow_other," +
            "default_permissions,max_read=" + FuseWorker.MAX_READ;
        try
        {
            Linux.mount(source, target.toString(), TYPE, Linux.MS_RDONLY | Linux.MS_NOSUID | Linux.MS_NODEV,
                options);
        }
        catch (final ErrnoException ex)
        {
            Linux.close(fd);
            throw new IOException(mountPoint + ": mount failed: " + Errno.name(ex.errno()) +
                (Errno.EBUSY == ex.errno() ? " (busy)" : ""), ex);
        }
        return new FuseMount(fd, -1, -1);
    }

    /**
     * libfuse's {@code fuse_mount_fusermount}: a socketpair, {@code fusermount3 -o OPTIONS -- MOUNTPOINT} with
     * {@code _FUSE_COMMFD=3} and its end of the socket as descriptor 3 (posix_spawn with exactly those descriptors:
     * ProcessBuilder passes none but 0-2), and the /dev/fuse descriptor received with {@code SCM_RIGHTS}. Its
     * standard output and error go to a memfd, so its complaint becomes this one line and nothing lands on
     * {@code pcb mount}'s standard output, which carries only the "mounted" line.
     */
    private static FuseMount mountThroughFusermount(final Path mountPoint, final Path target, final String source,
        final Path fusermount) throws IOException
    {
        final String options = fusermountOptions(source, userAllowOther(FUSE_CONF));
        int[] pair = null;
        int output = -1;
        try
        {
            pair = Linux.socketPair();
            output = Linux.memfdCreate("fusermount3-output", 0);
            final int pid = Linux.spawn(fusermount.toString(),
                new String[]{FUSERMOUNT, "-o", options, "--", target.toString()}, environment(),
                new int[]{0, output, output, pair[1]});
            Linux.close(pair[1]);
            pair[1] = -1;
            final int fd = Linux.receiveFd(pair[0]);
            if (fd < 0)
            {
                // It closed the socket by exiting: reaped, everything it said is in the memfd.
                final int status = reap(pid, FUSERMOUNT_TIMEOUT_MS);
                final String said = readAll(output);
                throw new IOException(mountPoint + ": " + FUSERMOUNT + " failed" +
                    (said.isEmpty() ? " (exit status " + status + ")" : ": " + said));
            }
            final String said = readAll(output);
            if (!said.isEmpty())
            {
                LOG.warning(FUSERMOUNT + " said: " + said);
            }
            final FuseMount mount = new FuseMount(fd, pair[0], pid);
            pair[0] = -1;
            return mount;
        }
        catch (final ErrnoException ex)
        {
            throw new IOException(mountPoint + ": mounting through " + fusermount + ": " + ex.getMessage(), ex);
        }
        finally
        {
            if (output >= 0)
            {
                Linux.close(output);
            }
            if (null != pair)
            {
                for (final int end : pair)
                {
                    if (end >= 0)
                    {
                        Linux.close(end);
                    }
                }
            }
        }
    }

    private static void unmountThroughFusermount(final Path mountPoint, final Path target, final boolean lazy,
        final Path fusermount) throws IOException
    {
        if (!isMountPoint(target))
        {
            throw new IOException(mountPoint + (Files.isDirectory(target) ? ": not a mount point" :
                ": no such directory"));
        }
        final List<String> command = new ArrayList<>(List.of(fusermount.toString(), "-u"));
        if (lazy)
        {
            command.add("-z");
        }
        command.add("--");
        command.add(target.toString());
        final Process process = new ProcessBuilder(command).redirectErrorStream(true)
            .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null"))).start();
        try
        {
            if (!process.waitFor(FUSERMOUNT_TIMEOUT_MS, TimeUnit.MILLISECONDS))
            {
                process.destroyForcibly();
                throw new IOException(mountPoint + ": " + FUSERMOUNT + " -u did not end within " +
                    FUSERMOUNT_TIMEOUT_MS + " ms");
            }
        }
        catch (final InterruptedException ex)
        {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new IOException(mountPoint + ": interrupted while " + FUSERMOUNT + " -u ran", ex);
        }
        if (0 != process.exitValue())
        {
            final String said = oneLine(new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8));
            if (said.contains("Device or resource busy"))
            {
                throw new IOException(mountPoint + ": busy (files open or a process's working directory)");
            }
            throw new IOException(mountPoint + ": " + FUSERMOUNT + " -u failed: " + said);
        }
    }

    /** This process's environment with {@code _FUSE_COMMFD} naming descriptor 3. */
    private static String[] environment()
    {
        final List<String> env = new ArrayList<>();
        for (final Map.Entry<String, String> entry : System.getenv().entrySet())
        {
            if (!COMMFD_ENV.equals(entry.getKey()))
            {
                env.add(entry.getKey() + '=' + entry.getValue());
            }
        }
        env.add(COMMFD_ENV + '=' + COMMFD);
        return env.toArray(new String[0]);
    }

    private static String readAll(final int fd) throws IOException
    {
        return oneLine(Files.readString(Path.of("/proc/self/fd/" + fd), StandardCharsets.UTF_8));
    }

    /** fusermount3's messages as one line, without its "fusermount3: " prefix. */
    static String oneLine(final String output)
    {
        return String.join("; ", output.strip().lines().map(String::strip).filter((line) -> !line.isEmpty())
            .map((line) -> line.startsWith(FUSERMOUNT + ": ") ? line.substring(FUSERMOUNT.length() + 2) : line)
            .toArray(String[]::new));
    }

    /**
     * Wait for a spawned child, at most {@code timeoutMs}.
     *
     * @return its exit status, or -1 when it is still running (it is then left; it goes with this process).
     */
    private static int reap(final int pid, final long timeoutMs)
    {
        final long deadlineNs = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
        try
        {
            while (true)
            {
                final int status = Linux.waitpid(pid, false);
                if (status >= 0 || System.nanoTime() - deadlineNs > 0)
                {
                    return status;
                }
                Thread.sleep(10);
            }
        }
        catch (final ErrnoException ex)
        {
            return -1;
        }
        catch (final InterruptedException ex)
        {
            Thread.currentThread().interrupt();
            return -1;
        }
    }
}
