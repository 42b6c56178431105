package dev.pcb.fs;

import dev.pcb.protocol.FileAttributes;

/**
 * One node the kernel knows: a node id bound to a host file's identity and version, (device, inode, size, mtime)
 * for files and symlinks and (device, inode) for directories. A host file replaced or rewritten is a new node, and
 * so is every file of another tree version (another version directory holds other inodes). Lookups, and the
 * (parent, name) entries the kernel was given the node under, are kept by the {@link NodeTable} under its lock.
 */
public final class Node
{
    private final long id;
    private final NodeTable.Key key;
    private final FileAttributes attributes = new FileAttributes();
    private volatile String path;
    private volatile String symlinkTarget;
    long lookups;
    /** Parent node ids of the entries handed to the kernel since the last advance, {@link #names} beside them. */
    long[] parents = new long[1];
    String[] names = new String[1];
    int entries;

    Node(final long id, final NodeTable.Key key, final String path, final FileAttributes attributes)
    {
        this.id = id;
        this.key = key;
        this.path = path;
        this.attributes.copyFrom(attributes);
    }

    /** @return the node id, also shown as st_ino. */
    public long id()
    {
        return id;
    }

    NodeTable.Key key()
    {
        return key;
    }

    /** @return the agent path it was last looked up at, {@code SHARE/relative}. */
    public String path()
    {
        return path;
    }

    void path(final String path)
    {
        this.path = path;
    }

    /** @return the attributes of its version; mode and ctime as last looked up. */
    public FileAttributes attributes()
    {
        return attributes;
    }

    /** @return true for a directory. */
    public boolean isDirectory()
    {
        return attributes.isDirectory();
    }

    /** @return the symlink target read once, or null. */
    String symlinkTarget()
    {
        return symlinkTarget;
    }

    void symlinkTarget(final String target)
    {
        symlinkTarget = target;
    }
}
