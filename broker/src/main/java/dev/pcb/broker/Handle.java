package dev.pcb.broker;

import org.agrona.collections.Long2LongHashMap;

/**
 * An open file of one client: the version it reads and how many times it pinned each window of it.
 */
final class Handle
{
    private final long id;
    private final FileVersion version;
    private final TreeVersion tree;
    private final Long2LongHashMap pins = new Long2LongHashMap(0);

    Handle(final long id, final FileVersion version, final TreeVersion tree)
    {
        this.tree = tree;
        this.id = id;
        this.version = version;
    }

    long id()
    {
        return id;
    }

    FileVersion version()
    {
        return version;
    }

    /**
     * @return the tree version the file was opened under; counted until the handle closes.
     */
    TreeVersion tree()
    {
        return tree;
    }

    void pin(final long fileWindow)
    {
        pins.put(fileWindow, pins.get(fileWindow) + 1);
    }

    /**
     * @return false when the window was not pinned through this handle.
     */
    boolean unpin(final long fileWindow)
    {
        final long count = pins.get(fileWindow);
        if (count <= 0)
        {
            return false;
        }
        if (1 == count)
        {
            pins.remove(fileWindow);
        }
        else
        {
            pins.put(fileWindow, count - 1);
        }
        return true;
    }

    Long2LongHashMap pins()
    {
        return pins;
    }
}
