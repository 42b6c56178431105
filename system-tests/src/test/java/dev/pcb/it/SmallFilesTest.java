package dev.pcb.it;

import dev.pcb.agent.AgentConfig;
import dev.pcb.agent.DirEntry;
import dev.pcb.agent.DirectoryPage;
import dev.pcb.agent.PcbAgent;
import dev.pcb.agent.PcbFile;
import dev.pcb.agent.WindowView;
import dev.pcb.cli.InspectCommand;
import dev.pcb.protocol.FileType;
import dev.pcb.testsupport.BrokerProcess;
import dev.pcb.testsupport.FileTrees;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A /usr-like tree: tens of thousands of small files, a few large ones, read whole through a region smaller than
 * the tree, byte-exact; and a directory of 100,000 entries listed in pages.
 */
@Timeout(300)
class SmallFilesTest
{
    private static final int FILES = Integer.getInteger("pcb.smallfiles.count", 50_000);

    private Path tree;
    private BrokerProcess broker;
    private PcbAgent agent;

    @AfterEach
    void tearDown() throws Exception
    {
        if (null != agent)
        {
            agent.close();
        }
        if (null != broker)
        {
            broker.close();
        }
        if (null != tree)
        {
            FileTrees.delete(tree);
        }
    }

    @Test
    void aFiftyThousandFileTreeReadsByteExactThroughASmallerRegion() throws Exception
    {
        tree = Files.createTempDirectory(Path.of(System.getProperty("java.io.tmpdir")), "pcb-usr-tree");
        final long total = UsrLikeTree.create(tree, FILES, 42);
        final long region = 64L << 20;
        assertTrue(total > 2 * region, "the tree must not fit the region: " + total);
        start("--region-size", Long.toString(region));

        final List<String> files = new ArrayList<>();
        walk("data", files);
        assertEquals(FILES, files.size(), "every file listed through the agent");

        long bytes = 0;
        for (final String path : files)
        {
            final byte[] expected = Files.readAllBytes(tree.resolve(path.substring("data/".length())));
            try (PcbFile file = agent.open(path))
            {
                final byte[] got = new byte[(int)file.size()];
                for (long w = 0; w < file.windowCount(); w++)
                {
                    try (WindowView view = file.acquire(w))
                    {
                        view.buffer().getBytes(0, got, (int)view.fileOffset(), view.length());
                    }
                }
                assertArrayEquals(expected, got, path);
                bytes += got.length;
            }
        }
        assertEquals(total, bytes);

        final String report = InspectCommand.report(broker.runDir(), 5000);
        final Matcher m = Pattern.compile("pinned=(\\d+) evictions=(\\d+)").matcher(report);
        assertTrue(m.find(), report);
        assertEquals("0", m.group(1), report);
        assertTrue(Long.parseLong(m.group(2)) > 0, "a tree larger than the region must evict: " + report);
    }

    @Test
    void aDirectoryOfAHundredThousandEntriesListsInPages() throws Exception
    {
        tree = Files.createTempDirectory(Path.of(System.getProperty("java.io.tmpdir")), "pcb-big-dir");
        final Path dir = Files.createDirectories(tree.resolve("big"));
        final int entries = 100_000;
        for (int i = 0; i < entries; i++)
        {
            Files.createFile(dir.resolve("f" + i));
        }
        start();
        final Set<String> names = new HashSet<>();
        long cookie = 0;
        int pages = 0;
        do
        {
            final DirectoryPage page = agent.list("data/big", cookie, 1000);
            for (final DirEntry entry : page.entries())
            {
                assertTrue(names.add(entry.name()), "listed twice: " + entry.name());
            }
            cookie = page.nextCookie();
            pages++;
        }
        while (cookie >= 0);
        assertEquals(entries, names.size());
        assertTrue(pages >= 100, "pages: " + pages);
    }

    private void walk(final String dir, final List<String> out) throws Exception
    {
        for (final DirEntry entry : agent.list(dir))
        {
            final String path = dir + "/" + entry.name();
            if (FileType.DIRECTORY == entry.type())
            {
                walk(path, out);
            }
            else
            {
                out.add(path);
            }
        }
    }

    private void start(final String... extra) throws Exception
    {
        final List<String> args = new ArrayList<>(List.of("--share", "data=" + tree, "--guest", "vm1"));
        args.addAll(List.of(extra));
        broker = BrokerProcess.start(BrokerProcess.newRunDir("small"), args.toArray(new String[0]));
        agent = PcbAgent.attach(new AgentConfig().runDir(broker.runDir()).guest("vm1")
            .connectTimeout(Duration.ofSeconds(20)));
    }

    /**
     * A generated tree with file sizes drawn like a real /usr: most under 16 KiB, a few large.
     */
    static final class UsrLikeTree
    {
        private UsrLikeTree()
        {
        }

        /**
         * @return total bytes written.
         */
        static long create(final Path root, final int files, final long seed) throws Exception
        {
            final SplittableRandom random = new SplittableRandom(seed);
            long total = 0;
            final byte[] buffer = new byte[1 << 20];
            random.nextBytes(buffer);
            for (int i = 0; i < files; i++)
            {
                final Path dir = root.resolve("d" + (i / 100 % 50)).resolve("s" + (i / 100));
                if (i % 100 == 0)
                {
                    Files.createDirectories(dir);
                }
                final int size = size(random);
                final byte[] content = new byte[size];
                System.arraycopy(buffer, random.nextInt(buffer.length - size + 1), content, 0, size);
                content[0] = (byte)i;
                Files.write(dir.resolve("f" + i), content);
                total += size;
            }
            return total;
        }

        static int size(final SplittableRandom random)
        {
            final int p = random.nextInt(1000);
            if (p < 600)
            {
                return 100 + random.nextInt(4 * 1024);
            }
            if (p < 900)
            {
                return 4 * 1024 + random.nextInt(12 * 1024);
            }
            if (p < 995)
            {
                return 16 * 1024 + random.nextInt(48 * 1024);
            }
            return 64 * 1024 + random.nextInt(960 * 1024);
        }
    }
}
