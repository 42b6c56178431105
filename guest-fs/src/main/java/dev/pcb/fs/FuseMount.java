package dev.pcb.fs;

import dev.pcb.nativeshim.Errno;
import dev.pcb.nativeshim.ErrnoException;
import dev.pcb.nativeshim.Linux;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Mounting and unmounting a FUSE filesystem with mount(2) and umount2(2), as root: open /dev/fuse, mount
 * {@code fuse.pcb} read-only with {@code fd=N}, and hand the descriptor to a {@link FuseServer}. Every failure is
 * an {@link IOException} whose message is one line naming the problem.
 */
public final class FuseMount
{
    /** The FUSE device. */
    public static final Path DEVICE = Path.of("/dev/fuse");
    /** Filesystem type shown in /proc/mounts. */
    public static final String TYPE = "fuse.pcb";

    private FuseMount()
    {
    }

    /**
     * Check the mount point and the machine, open /dev/fuse and mount.
     *
     * @param mountPoint an existing empty-or-not directory that is not a mount point yet.
     * @param source     what /proc/mounts shows as the source, e.g. {@code pcb:SHARE}.
     * @return the /dev/fuse descriptor now bound to the mount.
     * @throws IOException naming the problem.
     */
    public static int mount(final Path mountPoint, final String source) throws IOException
    {
        check(mountPoint);
        final Path target = mountPoint.toAbsolutePath().normalize();
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
        return fd;
    }

    /**
     * Check, before anything is started, that a mount could succeed here.
     *
     * @param mountPoint the mount point.
     * @throws IOException naming the problem: missing or busy mount point, no /dev/fuse, not root.
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
        if (0 != Linux.getuid())
        {
            throw new IOException("pcb mount needs root: it mounts with mount(2); mounting through fusermount3 " +
                "as an ordinary user is not supported yet");
        }
    }

    /**
     * Unmount; the server of the mount sees ENODEV and ends.
     *
     * @param mountPoint the mount point.
     * @param lazy       detach even while files are open (MNT_DETACH).
     * @throws IOException naming the problem: not mounted, busy, not root.
     */
    public static void unmount(final Path mountPoint, final boolean lazy) throws IOException
    {
        final Path target = mountPoint.toAbsolutePath().normalize();
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
}
