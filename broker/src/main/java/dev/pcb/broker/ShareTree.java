package dev.pcb.broker;

import dev.pcb.nativeshim.ErrnoException;
import dev.pcb.nativeshim.Linux;
import dev.pcb.protocol.TreeIdentity;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The tree versions of one share (docs/versions.md): a share configured as a symbolic link to a directory is
 * versioned, every good flip of the link a new {@link TreeVersion}; a plain directory has one version for ever.
 * Conductor thread only, but for the constructor (broker start-up) and {@link #link}.
 */
final class ShareTree implements AutoCloseable
{
    private final Path link;
    private final String initialTarget;
    private final List<TreeVersion> versions = new ArrayList<>();
    private TreeVersion current;
    private long advances;
    private long badFlips;
    private boolean changed = true;

    /**
     * Resolve the configured path: a link to its version directory (refused as the watcher refuses a bad flip),
     * a directory to itself.
     */
    ShareTree(final Path configured) throws ErrnoException
    {
        if (Files.isSymbolicLink(configured))
        {
            link = configured.toAbsolutePath();
            final TreeWatcher.Flip flip = TreeWatcher.resolve(null, link, target(link));
            if (null != flip.reason())
            {
                throw new IllegalArgumentException("versioned share " + flip.reason());
            }
            initialTarget = flip.target();
            current = new TreeVersion(1, flip.realPath(), flip.fd(), flip.identity());
        }
        else
        {
            link = null;
            initialTarget = null;
            final String root = configured.toAbsolutePath().toString();
            current = new TreeVersion(1, root, Linux.openDirectory(root), TreeIdentity.NONE);
        }
        versions.add(current);
    }

    private static String target(final Path link)
    {
        try
        {
            return Files.readSymbolicLink(link).toString();
        }
        catch (final java.io.IOException ex)
        {
            throw new IllegalArgumentException("versioned share " + link + ": " + ex);
        }
    }

    /** @return true when the share is a link whose flips make new versions. */
    boolean isVersioned()
    {
        return null != link;
    }

    /** @return the configured link, absolute; null for a plain directory. */
    Path link()
    {
        return link;
    }

    /** @return the link's target as first read, null for a plain directory. */
    String initialTarget()
    {
        return initialTarget;
    }

    /** @return the version new sessions start on. */
    TreeVersion current()
    {
        return current;
    }

    /** @return every version served since the broker started, oldest first. */
    List<TreeVersion> versions()
    {
        return versions;
    }

    /** @return the version of that number, or null. */
    TreeVersion version(final long number)
    {
        final int index = (int)(number - 1);
        return index >= 0 && index < versions.size() ? versions.get(index) : null;
    }

    long advances()
    {
        return advances;
    }

    long badFlips()
    {
        return badFlips;
    }

    /**
     * @return versions that are current or still used.
     */
    int versionsInUse()
    {
        int inUse = 0;
        for (final TreeVersion version : versions)
        {
            if (version == current || !version.isUnused())
            {
                inUse++;
            }
        }
        return inUse;
    }

    /**
     * A link read by the watcher: a new current version, or a bad flip counted (the previous version stays).
     *
     * @return the new current version, or null when nothing changed.
     */
    TreeVersion onFlip(final TreeWatcher.Flip flip)
    {
        if (null != flip.reason())
        {
            badFlips++;
            changed = true;
            return null;
        }
        if (flip.realPath().equals(current.path()))
        {
            // Flipped away and back, or a bad flip undone: the same directory, still current.
            Linux.close(flip.fd());
            return null;
        }
        final TreeVersion previous = current;
        current = new TreeVersion(versions.size() + 1, flip.realPath(), flip.fd(), flip.identity());
        versions.add(current);
        closeIfUnused(previous);
        changed = true;
        return current;
    }

    /**
     * A session starts on the current version.
     */
    TreeVersion enter()
    {
        current.sessionEntered();
        changed = true;
        return current;
    }

    /**
     * A session leaves a version (detach, or advance).
     */
    void leave(final TreeVersion version)
    {
        version.sessionLeft();
        changed = true;
        closeIfUnused(version);
    }

    /**
     * Move a session from {@code from} to the current version.
     */
    TreeVersion advance(final TreeVersion from)
    {
        advances++;
        return move(from, current);
    }

    /**
     * Move a session from one version to another (the same one: nothing changes).
     *
     * @return {@code to}.
     */
    TreeVersion move(final TreeVersion from, final TreeVersion to)
    {
        if (from != to)
        {
            to.sessionEntered();
            changed = true;
            leave(from);
        }
        return to;
    }

    /**
     * The version a RESUME names, if this broker holds it open already: the current one, or one resumed by another
     * session.
     *
     * @return the version, or null when its directory must be looked up ({@link TreeWatcher#reopen}).
     */
    TreeVersion find(final TreeIdentity identity)
    {
        for (final TreeVersion version : versions)
        {
            if (version.rootFd() >= 0 && version.identity().equals(identity))
            {
                return version;
            }
        }
        return null;
    }

    /**
     * A version directory looked up again for a RESUME: served again as a version of its own (not current), or the
     * one already open under that identity when another RESUME got there first.
     *
     * @param flip what {@link TreeWatcher#reopen} opened; its descriptor is this tree's from now on.
     * @return the version to put the session on.
     */
    TreeVersion resumed(final TreeWatcher.Flip flip)
    {
        final TreeVersion known = find(flip.identity());
        if (null != known)
        {
            Linux.close(flip.fd());
            return known;
        }
        final TreeVersion version = new TreeVersion(versions.size() + 1, flip.realPath(), flip.fd(), flip.identity());
        versions.add(version);
        changed = true;
        return version;
    }

    void handleOpened(final TreeVersion version)
    {
        version.handleOpened();
        changed = true;
    }

    void handleClosed(final TreeVersion version)
    {
        version.handleClosed();
        changed = true;
        closeIfUnused(version);
    }

    void requestCompleted(final TreeVersion version)
    {
        version.requestCompleted();
        closeIfUnused(version);
    }

    /**
     * @return true once since the versions, their users or the counts last changed.
     */
    boolean takeChanged()
    {
        final boolean was = changed;
        changed = false;
        return was;
    }

    private void closeIfUnused(final TreeVersion version)
    {
        if (version != current && version.isUnused())
        {
            version.closeRoot();
        }
    }

    /** {@inheritDoc} */
    public void close()
    {
        versions.forEach(TreeVersion::closeRoot);
    }
}
