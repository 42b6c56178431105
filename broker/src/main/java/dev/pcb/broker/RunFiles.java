package dev.pcb.broker;

import dev.pcb.nativeshim.Linux;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.GroupPrincipal;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;
import java.util.Set;

import static java.lang.System.Logger.Level.WARNING;

/**
 * Who may touch the run directory, and how the broker writes in it without being turned against its own files.
 * <p>
 * Anyone who can write a region file can forge what guests read or act as a guest, so the directory must belong to
 * the broker's user and be writable by nobody else: a new one is made mode {@code 0700} ({@code 0750} with a run
 * group), an existing one owned by another user, writable by group or others, or a symlink is refused. Inside it, no
 * file is ever opened through a symlink: small files are written under a temporary name created
 * {@code O_CREAT | O_EXCL | O_NOFOLLOW} and renamed over the real one (a planted link is replaced, its target left
 * alone), and a region file is reused only when it is a regular file of the broker's user with one link; anything
 * else found there is removed and created afresh.
 * <pre>
 *                      no run group   --run-group G
 *  run directory       0700           0750, group G
 *  share-*.data        0600           0640, group G   (QEMU maps it read-only)
 *  guest-*.ctl         0600           0660, group G   (QEMU maps it read-write)
 *  guest-*.sock        0600           0660, group G   (pcb broker --doorbell: QEMU connects, which needs write)
 *  counters.dat, broker.pid, guest-*.shares, inspect.txt
 *                      0600           0640, group G
 * </pre>
 */
final class RunFiles
{
    private static final System.Logger LOG = System.getLogger("pcb.broker");
    private static final int GROUP_OR_OTHERS_WRITE = 0022;
    private static final int MODE_BITS = 07777;

    private final Path dir;
    private final GroupPrincipal group;
    private final int uid;

    private RunFiles(final Path dir, final GroupPrincipal group, final int uid)
    {
        this.dir = dir;
        this.group = group;
        this.uid = uid;
    }

    /**
     * Create the run directory, or check the one that is there, before anything is written in it.
     *
     * @param runDir    the directory.
     * @param groupName group given read access, or null.
     * @return the checked directory.
     * @throws IOException naming the directory, its owner and mode, when it cannot be trusted.
     */
    static RunFiles prepare(final Path runDir, final String groupName) throws IOException
    {
        final GroupPrincipal group = group(runDir, groupName);
        final RunFiles files = new RunFiles(runDir, group, Linux.geteuid());
        final int mode = null == group ? 0700 : 0750;
        if (null != runDir.getParent())
        {
            Files.createDirectories(runDir.getParent());
        }
        try
        {
            Files.createDirectory(runDir);
            files.restrict(runDir, mode);
        }
        catch (final FileAlreadyExistsException ex)
        {
            files.requireTrusted();
            if (null != group)
            {
                files.restrict(runDir, mode);
            }
        }
        return files;
    }

    /**
     * The files of a run directory {@link #prepare(Path, String)} checked already, for a writer that comes later.
     *
     * @param config the broker's configuration.
     * @return the run directory's files.
     * @throws IOException when the run group is unknown.
     */
    static RunFiles of(final BrokerConfig config) throws IOException
    {
        return new RunFiles(config.runDir(), group(config.runDir(), config.runGroup()), Linux.geteuid());
    }

    /**
     * Give a file the broker made in the run directory the mode of the files host tools read.
     *
     * @param file a file of the broker's user in the run directory.
     * @throws IOException when its mode cannot be set.
     */
    void hostReadable(final Path file) throws IOException
    {
        restrict(file, null == group ? 0600 : 0640);
    }

    /**
     * Before a region file is mapped: a trusted one is kept (QEMU may map it still); a symlink, anything not a
     * regular file, a file of another user or with several links is removed, so the mapping creates it afresh
     * ({@code O_CREAT | O_NOFOLLOW}, mode 0600).
     *
     * @param file the region file, in the run directory.
     * @throws IOException when it cannot be removed.
     */
    void removeUntrustedRegionFile(final Path file) throws IOException
    {
        final String untrusted = untrustedReason(file);
        if (null != untrusted)
        {
            LOG.log(WARNING, file + ": " + untrusted + "; removed and created afresh");
            Files.delete(file);
        }
    }

    /**
     * After a region file is mapped: give it the mode (and group) QEMU needs.
     *
     * @param file        the region file, now the broker's own.
     * @param guestWrites true for control regions, which QEMU maps read-write.
     * @throws IOException when its mode cannot be set.
     */
    void regionFileMapped(final Path file, final boolean guestWrites) throws IOException
    {
        restrict(file, null == group ? 0600 : guestWrites ? 0660 : 0640);
    }

    /**
     * After a doorbell socket is bound: give it the mode (and group) a QEMU of the run group needs to connect
     * ({@code connect(2)} needs write permission on a socket; libvirt runs QEMU as its own user).
     *
     * @param socket the socket, just bound by the broker in its run directory.
     * @throws IOException when its mode cannot be set.
     */
    void socketBound(final Path socket) throws IOException
    {
        // A socket cannot be opened, so the no-follow view (which opens) cannot change it; following is safe here:
        // the broker has just bound this name in a directory nobody else can write.
        final PosixFileAttributeView view = Files.getFileAttributeView(socket, PosixFileAttributeView.class);
        if (null != group)
        {
            view.setGroup(group);
        }
        view.setPermissions(permissions(null == group ? 0600 : 0660));
    }

    /**
     * The run directory.
     *
     * @return its path.
     */
    Path dir()
    {
        return dir;
    }

    /**
     * Replace a small file atomically: written under a temporary name created exclusively, then renamed over the
     * old one, so readers see the old or the new content and a symlink in its place is replaced, never followed.
     *
     * @param file    a file in the run directory.
     * @param content its new text.
     * @throws IOException when it cannot be written.
     */
    void replace(final Path file, final String content) throws IOException
    {
        final Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        try (FileChannel channel = createExclusive(tmp))
        {
            final ByteBuffer bytes = ByteBuffer.wrap(content.getBytes(StandardCharsets.UTF_8));
            while (bytes.hasRemaining())
            {
                channel.write(bytes);
            }
        }
        Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    private FileChannel createExclusive(final Path file) throws IOException
    {
        // A stale file (or link) of this name from a previous broker goes first: deleting a link never follows it.
        Files.deleteIfExists(file);
        final FileChannel channel = FileChannel.open(file, Set.of(StandardOpenOption.CREATE_NEW,
            StandardOpenOption.READ, StandardOpenOption.WRITE, LinkOption.NOFOLLOW_LINKS));
        try
        {
            hostReadable(file);
            return channel;
        }
        catch (final IOException | RuntimeException ex)
        {
            channel.close();
            throw ex;
        }
    }

    private void requireTrusted() throws IOException
    {
        final Map<String, Object> a = Files.readAttributes(dir, "unix:uid,mode,isSymbolicLink,isDirectory",
            LinkOption.NOFOLLOW_LINKS);
        final int owner = (Integer)a.get("uid");
        final int mode = (Integer)a.get("mode") & MODE_BITS;
        final String problem;
        if ((Boolean)a.get("isSymbolicLink"))
        {
            problem = "is a symbolic link";
        }
        else if (!(Boolean)a.get("isDirectory"))
        {
            problem = "is not a directory";
        }
        else if (owner != uid)
        {
            problem = "is owned by " + ownerName(dir) + " (uid " + owner + "), not by the broker's uid " + uid;
        }
        else if ((mode & GROUP_OR_OTHERS_WRITE) != 0)
        {
            problem = "is writable by " + ((mode & 0002) != 0 ? "others" : "its group");
        }
        else
        {
            return;
        }
        throw new IOException("run directory " + dir + " " + problem + " (owner " + ownerName(dir) + ", mode " +
            String.format("%04o", mode) + "): refusing it, since whoever can write there can forge what guests " +
            "read; remove it or give it to the broker's user with mode 0700");
    }

    private String untrustedReason(final Path file) throws IOException
    {
        if (!Files.exists(file, LinkOption.NOFOLLOW_LINKS))
        {
            return null;
        }
        final Map<String, Object> a = Files.readAttributes(file, "unix:uid,nlink,isRegularFile",
            LinkOption.NOFOLLOW_LINKS);
        if (!(Boolean)a.get("isRegularFile"))
        {
            return Files.isSymbolicLink(file) ? "a symbolic link" : "not a regular file";
        }
        if ((Integer)a.get("uid") != uid)
        {
            return "owned by " + ownerName(file) + ", not the broker's user";
        }
        if ((Integer)a.get("nlink") != 1)
        {
            return "has " + a.get("nlink") + " links";
        }
        return null;
    }

    private void restrict(final Path path, final int mode) throws IOException
    {
        // Only after the entry is known to be the broker's own regular file or directory: both calls follow links.
        final PosixFileAttributeView view = Files.getFileAttributeView(path, PosixFileAttributeView.class,
            LinkOption.NOFOLLOW_LINKS);
        if (null != group)
        {
            view.setGroup(group);
        }
        view.setPermissions(permissions(mode));
    }

    private static GroupPrincipal group(final Path runDir, final String groupName) throws IOException
    {
        return null == groupName ? null :
            runDir.getFileSystem().getUserPrincipalLookupService().lookupPrincipalByGroupName(groupName);
    }

    private static Set<PosixFilePermission> permissions(final int mode)
    {
        final StringBuilder sb = new StringBuilder(9);
        final String letters = "rwxrwxrwx";
        for (int bit = 0; bit < 9; bit++)
        {
            sb.append((mode & (0400 >> bit)) != 0 ? letters.charAt(bit) : '-');
        }
        return PosixFilePermissions.fromString(sb.toString());
    }

    private static String ownerName(final Path path)
    {
        try
        {
            return Files.getOwner(path, LinkOption.NOFOLLOW_LINKS).getName();
        }
        catch (final IOException ex)
        {
            return "unknown";
        }
    }
}
