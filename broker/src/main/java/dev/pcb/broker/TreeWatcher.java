package dev.pcb.broker;

import dev.pcb.layout.RunDirectory;
import dev.pcb.nativeshim.ErrnoException;
import dev.pcb.nativeshim.Linux;
import dev.pcb.nativeshim.StatxResult;
import dev.pcb.protocol.TreeIdentity;
import org.agrona.concurrent.ManyToOneConcurrentArrayQueue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.concurrent.locks.LockSupport;

import static java.lang.System.Logger.Level.WARNING;

/**
 * The blocking half of tree versions (docs/versions.md), off the conductor: every {@link #INTERVAL_MS} it re-reads
 * the link of each versioned share and, when the target changed, resolves and opens the new version directory and
 * hands it to the conductor through a queue ({@link #drain}); and it writes the {@code versions-SHARE} files the
 * conductor hands it as text ({@link #publish}), atomically by a temporary file and rename.
 */
final class TreeWatcher
{
    /** How often each link is read again. */
    static final long INTERVAL_MS = 100;

    private static final System.Logger LOG = System.getLogger("pcb.broker");

    /**
     * A link read, or a version directory looked up again for RESUME: the version directory opened (fd >= 0) with
     * its identity, or refused (reason set, identity {@link TreeIdentity#NONE}).
     */
    record Flip(Share share, String target, String realPath, int fd, TreeIdentity identity, String reason)
    {
        static Flip refused(final Share share, final String target, final String reason)
        {
            return new Flip(share, target, null, -1, TreeIdentity.NONE, reason);
        }
    }

    private final List<Share> shares;
    private final Path runDir;
    private final String[] lastTargets;
    private final AtomicReferenceArray<String> pendingFiles;
    private final ManyToOneConcurrentArrayQueue<Flip> flips = new ManyToOneConcurrentArrayQueue<>(64);
    private volatile Thread runner;

    TreeWatcher(final List<Share> shares, final Path runDir)
    {
        this.shares = shares;
        this.runDir = runDir;
        this.lastTargets = new String[shares.size()];
        this.pendingFiles = new AtomicReferenceArray<>(shares.size());
        for (int i = 0; i < shares.size(); i++)
        {
            lastTargets[i] = shares.get(i).tree().initialTarget();
        }
    }

    /**
     * Read every versioned share's link once and write the files handed over; watcher thread (or a test's).
     *
     * @return links that changed.
     */
    int checkOnce()
    {
        int changed = 0;
        for (int i = 0; i < shares.size(); i++)
        {
            final Share share = shares.get(i);
            if (share.tree().isVersioned() && check(i, share))
            {
                changed++;
            }
        }
        writeFiles();
        return changed;
    }

    private boolean check(final int index, final Share share)
    {
        final Path link = share.tree().link();
        String target;
        try
        {
            target = Files.readSymbolicLink(link).toString();
        }
        catch (final IOException | UnsupportedOperationException ex)
        {
            target = "(not a link: " + ex.getMessage() + ")";
        }
        if (target.equals(lastTargets[index]))
        {
            return false;
        }
        final Flip flip = resolve(share, link, target);
        if (!flips.offer(flip))
        {
            // The conductor is behind: read the link again next time rather than lose the flip.
            if (flip.fd() >= 0)
            {
                Linux.close(flip.fd());
            }
            return false;
        }
        lastTargets[index] = target;
        return true;
    }

    /**
     * Resolve a link's target to a version directory beneath the link's parent and open it.
     */
    static Flip resolve(final Share share, final Path link, final String target)
    {
        final Path real;
        try
        {
            real = link.toRealPath();
        }
        catch (final IOException ex)
        {
            return Flip.refused(share, target, link + " -> " + target + ": points nowhere (" + ex + ")");
        }
        return open(share, link, target, link + " -> " + target, real, null);
    }

    /**
     * Look up again, for a session that held it under a broker that since restarted, a version directory beside
     * the link (docs/versions.md, broker restart): the same checks as a flip, and it must still be the directory
     * the identity names (device and inode), not another made under its name. Blocking: a metadata worker runs it.
     *
     * @return the directory opened, or refused with the reason.
     */
    static Flip reopen(final Share share, final Path link, final TreeIdentity wanted)
    {
        final String shown = link.toAbsolutePath().getParent() + "/" + wanted.path();
        final Path real;
        try
        {
            real = link.toAbsolutePath().getParent().resolve(wanted.path()).toRealPath();
        }
        catch (final IOException | java.nio.file.InvalidPathException ex)
        {
            return Flip.refused(share, wanted.path(), shown + ": no longer there (" + ex + ")");
        }
        return open(share, link, wanted.path(), shown, real, wanted);
    }

    private static Flip open(
        final Share share, final Path link, final String target, final String shown, final Path real,
        final TreeIdentity wanted)
    {
        final Path parent;
        try
        {
            parent = link.toAbsolutePath().getParent().toRealPath();
        }
        catch (final IOException ex)
        {
            return Flip.refused(share, target, link + ": parent directory unreadable (" + ex + ")");
        }
        if (!real.startsWith(parent) || real.equals(parent))
        {
            return Flip.refused(share, target, shown + ": resolves to " + real + ", outside the link's directory " +
                parent);
        }
        if (!Files.isDirectory(real))
        {
            return Flip.refused(share, target, shown + ": " + real + " is not a directory");
        }
        final int fd;
        try
        {
            fd = Linux.openDirectory(real.toString());
        }
        catch (final ErrnoException ex)
        {
            return Flip.refused(share, target, shown + ": cannot open " + real + " (" + ex.getMessage() + ")");
        }
        // The identity is taken from the descriptor, so it names the directory opened, whatever was renamed since.
        final StatxResult stat = new StatxResult();
        try
        {
            Linux.fstat(fd, stat);
        }
        catch (final ErrnoException ex)
        {
            Linux.close(fd);
            return Flip.refused(share, target, shown + ": cannot stat " + real + " (" + ex.getMessage() + ")");
        }
        if (null != wanted && (stat.device() != wanted.device() || stat.inode() != wanted.inode()))
        {
            Linux.close(fd);
            return Flip.refused(share, target, shown + " is another directory now (device " + stat.device() +
                ", inode " + stat.inode() + "; was device " + wanted.device() + ", inode " + wanted.inode() + ")");
        }
        final TreeIdentity identity = TreeIdentity.of(stat.device(), stat.inode(), parent.relativize(real).toString());
        return new Flip(share, target, real.toString(), fd, identity, null);
    }

    /**
     * Take the flips read since the last call; conductor thread.
     */
    int drain(final java.util.function.Consumer<Flip> handler)
    {
        return flips.drain(handler);
    }

    /**
     * Hand over the text of a share's versions file; conductor thread, never blocks (a newer text replaces one not
     * written yet).
     */
    void publish(final Share share, final String text)
    {
        pendingFiles.set(shares.indexOf(share), text);
        final Thread thread = runner;
        if (null != thread)
        {
            LockSupport.unpark(thread);
        }
    }

    private void writeFiles()
    {
        for (int i = 0; i < shares.size(); i++)
        {
            final String text = pendingFiles.getAndSet(i, null);
            if (null == text)
            {
                continue;
            }
            final Path file = RunDirectory.versionsFile(runDir, shares.get(i).name());
            final Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
            try
            {
                Files.deleteIfExists(tmp);
                Files.writeString(tmp, text, StandardCharsets.UTF_8, java.nio.file.StandardOpenOption.CREATE_NEW,
                    java.nio.file.StandardOpenOption.WRITE);
                Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            }
            catch (final IOException ex)
            {
                LOG.log(WARNING, "cannot write " + file + ": " + ex);
            }
        }
    }

    /**
     * Run {@link #checkOnce} every {@link #INTERVAL_MS} until interrupted; with no versioned share, only when a file
     * was handed over (an idle broker's process then has no thread waking ten times a second for nothing).
     */
    void run()
    {
        runner = Thread.currentThread();
        boolean versioned = false;
        for (final Share share : shares)
        {
            versioned |= share.tree().isVersioned();
        }
        while (!Thread.currentThread().isInterrupted())
        {
            try
            {
                checkOnce();
                if (versioned)
                {
                    Thread.sleep(INTERVAL_MS);
                }
                else
                {
                    LockSupport.park(this);
                }
            }
            catch (final InterruptedException ex)
            {
                Thread.currentThread().interrupt();
            }
            catch (final RuntimeException ex)
            {
                LOG.log(WARNING, "tree watcher: " + ex);
            }
        }
    }
}
