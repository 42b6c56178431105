package dev.pcb.fs;

import dev.pcb.protocol.FileAttributes;
import dev.pcb.protocol.FileType;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;

class NodeTableTest
{
    private static FileAttributes file(final long inode, final long size, final long mtime)
    {
        return new FileAttributes().set(FileType.REGULAR, 0100644, size, mtime, mtime, inode, 9, 1);
    }

    private static FileAttributes directory(final long inode, final long mtime)
    {
        return new FileAttributes().set(FileType.DIRECTORY, 040755, 4096, mtime, mtime, inode, 9, 2);
    }

    @Test
    void aReplacedOrRewrittenFileIsANewNodeAndAChmodIsNot()
    {
        final NodeTable table = new NodeTable("data", directory(2, 1));
        final Node root = table.get(NodeTable.ROOT_ID);
        final Node first = table.lookup(root, "f", file(10, 100, 1));
        assertNotEquals(NodeTable.ROOT_ID, first.id());
        assertSame(first, table.lookup(root, "f", file(10, 100, 1)));
        assertNotEquals(first.id(), table.lookup(root, "f", file(11, 100, 1)).id(), "mv over it: another inode");
        assertNotEquals(first.id(), table.lookup(root, "f", file(10, 100, 2)).id(), "rewritten in place");
        final FileAttributes chmod = file(10, 100, 1).set(FileType.REGULAR, 0100600, 100, 1, 5, 10, 9, 1);
        final Node same = table.lookup(root, "f", chmod);
        assertSame(first, same);
        assertEquals(0100600, same.attributes().mode());
        final Node dir = table.lookup(root, "d", directory(20, 1));
        assertSame(dir, table.lookup(root, "d", directory(20, 7)), "a directory is one node across entry changes");
    }

    @Test
    void forgetDropsANodeOnlyWhenEveryLookupIsForgotten()
    {
        final NodeTable table = new NodeTable("data", directory(2, 1));
        final Node root = table.get(NodeTable.ROOT_ID);
        final Node node = table.lookup(root, "f", file(10, 1, 1));
        table.lookup(root, "f", file(10, 1, 1));
        table.forget(node.id(), 1);
        assertSame(node, table.get(node.id()));
        table.forget(node.id(), 1);
        assertNull(table.get(node.id()));
        assertNotEquals(node.id(), table.lookup(root, "f", file(10, 1, 1)).id(), "ids are never reused");
        table.forget(NodeTable.ROOT_ID, 100);
        assertEquals("data", table.get(NodeTable.ROOT_ID).path());
    }

    @Test
    void concurrentLookupsAndForgetsBalance() throws Exception
    {
        final NodeTable table = new NodeTable("data", directory(2, 1));
        final Node root = table.get(NodeTable.ROOT_ID);
        final int threads = 4;
        final int rounds = 20_000;
        final CountDownLatch start = new CountDownLatch(1);
        final List<Thread> workers = new ArrayList<>();
        for (int t = 0; t < threads; t++)
        {
            final Thread thread = new Thread(() ->
            {
                try
                {
                    start.await();
                }
                catch (final InterruptedException ex)
                {
                    return;
                }
                for (int i = 0; i < rounds; i++)
                {
                    final Node node = table.lookup(root, "f" + (i % 8), file(100 + i % 8, 1, 1));
                    table.forget(node.id(), 1);
                }
            });
            workers.add(thread);
            thread.start();
        }
        start.countDown();
        for (final Thread thread : workers)
        {
            thread.join(30_000);
        }
        assertEquals(1, table.size(), "only the root is left once every lookup is forgotten");
    }

    @Test
    void handleTableReusesFreedNumbersAndRefusesWhenFull()
    {
        final HandleTable<String> handles = new HandleTable<>(2);
        final long a = handles.add("a");
        final long b = handles.add("b");
        assertEquals(-1, handles.add("c"));
        assertEquals("b", handles.remove(b));
        assertNull(handles.remove(b));
        assertNull(handles.get(b));
        assertEquals(b, handles.add("d"));
        assertEquals("a", handles.get(a));
        assertNull(handles.get(-1));
        assertNull(handles.get(99));
        assertEquals(2, handles.size());
    }

    @Test
    void drainEntriesNamesEveryEntryHandedOutOnceAndForgetsThem()
    {
        final NodeTable table = new NodeTable("data", directory(2, 1));
        final Node root = table.get(NodeTable.ROOT_ID);
        final Node dir = table.lookup(root, "d", directory(20, 1));
        table.lookup(dir, "f", file(10, 1, 1));
        table.lookup(dir, "f", file(10, 1, 1));
        table.lookup(root, "hardlink", file(10, 1, 1));
        final Node gone = table.lookup(root, "gone", file(11, 1, 1));
        table.forget(gone.id(), 1);
        final List<String> entries = new ArrayList<>();
        assertEquals(3, table.drainEntries((parent, name) -> entries.add(parent + "/" + name)));
        entries.sort(null);
        assertEquals(List.of(NodeTable.ROOT_ID + "/d", NodeTable.ROOT_ID + "/hardlink", dir.id() + "/f"), entries);
        assertEquals(0, table.drainEntries((parent, name) -> entries.add(name)), "drained: nothing twice");
        for (int i = 0; i < 2 * NodeTable.MAX_ENTRIES_PER_NODE; i++)
        {
            table.lookup(root, "link" + i, file(10, 1, 1));
        }
        assertEquals(NodeTable.MAX_ENTRIES_PER_NODE, table.drainEntries((parent, name) -> { }), "bounded per node");
    }
}
