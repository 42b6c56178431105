package dev.pcb.fs;

import dev.pcb.protocol.FileAttributes;

import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The nodes the kernel holds, by id and by host identity and version, with the kernel's lookup counts: each LOOKUP
 * reply and each READDIRPLUS entry adds one, FORGET and BATCH_FORGET take them away, and a node at zero is dropped.
 * The root (node 1) is never dropped. Each node also keeps the (parent, name) entries it was handed out under, at
 * most {@link #MAX_ENTRIES_PER_NODE}, so that an advance can tell the kernel to drop every dentry it has
 * ({@link #drainEntries}). Lookups and forgets take one lock; reads of a node by id take none.
 */
public final class NodeTable
{
    /** Node id of the root, {@code FUSE_ROOT_ID}. */
    public static final long ROOT_ID = 1;
    /**
     * Most (parent, name) entries kept per node (hard links of one file). Past it a dentry may outlive an advance
     * for up to the entry timeout; an OPEN through it still gets the new version (ESTALE and a second lookup).
     */
    static final int MAX_ENTRIES_PER_NODE = 8;

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
     * The node of a looked-up entry, counting one lookup: the existing node when the host file has the same
     * identity and version, else a new one.
     *
     * @param parent     the directory node it was looked up in.
     * @param name       its name there.
     * @param attributes what the host has there now.
     * @return the node.
     */
    public synchronized Node lookup(final Node parent, final String name, final FileAttributes attributes)
    {
        final String path = parent.path() + "/" + name;
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
        addEntry(node, parent.id(), name);
        return node;
    }

    private static void addEntry(final Node node, final long parent, final String name)
    {
        for (int i = 0; i < node.entries; i++)
        {
            if (node.parents[i] == parent && node.names[i].equals(name))
            {
                return;
            }
        }
        if (node.entries == node.parents.length)
        {
            if (node.entries == MAX_ENTRIES_PER_NODE)
            {
                return;
            }
            node.parents = Arrays.copyOf(node.parents, node.entries * 2);
            node.names = Arrays.copyOf(node.names, node.entries * 2);
        }
        node.parents[node.entries] = parent;
        node.names[node.entries] = name;
        node.entries++;
    }

    /**
     * Every (parent, name) entry handed to the kernel since the last drain, forgotten here: the kernel is about to
     * be told to drop them all (an advance). Entries of nodes already forgotten are gone with their nodes.
     *
     * @param each receives parent node id and name of each entry; called under the table's lock, so it must not
     *             block on the kernel.
     * @return entries passed.
     */
    public synchronized int drainEntries(final EntryConsumer each)
    {
        int count = 0;
        for (final Node node : byId.values())
        {
            for (int i = 0; i < node.entries; i++)
            {
                each.accept(node.parents[i], node.names[i]);
                node.names[i] = null;
                count++;
            }
            node.entries = 0;
        }
        return count;
    }

    /** Receives one (parent, name) entry. */
    @FunctionalInterface
    public interface EntryConsumer
    {
        /**
         * @param parent parent node id.
         * @param name   entry name.
         */
        void accept(long parent, String name);
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
