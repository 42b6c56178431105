package dev.pcb.fs;

import dev.pcb.protocol.FileAttributes;

import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The nodes the kernel holds, by id and by host identity and version, with the kernel's lookup counts: each LOOKUP
 * reply and each READDIRPLUS entry adds one, FORGET and BATCH_FORGET take them away, and a node at zero is dropped.
 * The root (node 1) is never dropped. Lookups and forgets take one lock; reads of a node by id take none.
 */
public final class NodeTable
{
    /** Node id of the root, {@code FUSE_ROOT_ID}. */
    public static final long ROOT_ID = 1;

    private final Map<Long, Node> byId = new ConcurrentHashMap<>();
    private final Map<Key, Node> byKey = new HashMap<>();
    private long nextId = ROOT_ID + 1;

    /**
     * A table with its root.
     *
     * @param rootPath       agent path of the root directory.
     * @param rootAttributes its attributes.
     */
    public NodeTable(final String rootPath, final FileAttributes rootAttributes)
    {
        final Node root = new Node(ROOT_ID, Key.of(rootAttributes), rootPath, rootAttributes);
        root.lookups = 1;
        byId.put(ROOT_ID, root);
    }

    /**
     * The node of a looked-up path, counting one lookup: the existing node when the host file has the same
     * identity and version, else a new one.
     *
     * @param path       agent path looked up.
     * @param attributes what the host has there now.
     * @return the node.
     */
    public synchronized Node lookup(final String path, final FileAttributes attributes)
    {
        final Key key = Key.of(attributes);
        Node node = byKey.get(key);
        if (null == node)
        {
            node = new Node(nextId++, key, path, attributes);
            byKey.put(key, node);
            byId.put(node.id(), node);
        }
        else
        {
            node.path(path);
            // Same bytes; mode, link count and ctime may have changed (chmod, ln).
            node.attributes().copyFrom(attributes);
        }
        node.lookups++;
        return node;
    }

    /**
     * A node by id.
     *
     * @param id node id from a request header.
     * @return the node, or null when the kernel names one it forgot (a kernel bug) or never had.
     */
    public Node get(final long id)
    {
        return byId.get(id);
    }

    /**
     * Take lookups away; drop the node at zero.
     *
     * @param id      node id.
     * @param nlookup lookups forgotten.
     */
    public synchronized void forget(final long id, final long nlookup)
    {
        if (ROOT_ID == id)
        {
            return;
        }
        final Node node = byId.get(id);
        if (null == node)
        {
            return;
        }
        node.lookups -= nlookup;
        if (node.lookups <= 0)
        {
            byId.remove(id);
            byKey.remove(node.key(), node);
        }
    }

    /** @return nodes known, the root included. */
    public int size()
    {
        return byId.size();
    }

    /**
     * Identity and version: directories by (device, inode) alone, since their mtime moves with every entry added.
     *
     * @param device host device.
     * @param inode  host inode.
     * @param size   size, or -1 for a directory.
     * @param mtime  mtime ns, or -1 for a directory.
     */
    record Key(long device, long inode, long size, long mtime)
    {
        static Key of(final FileAttributes a)
        {
            return a.isDirectory() ? new Key(a.device(), a.inode(), -1, -1) :
                new Key(a.device(), a.inode(), a.size(), a.mtimeNanos());
        }
    }
}
