package dev.pcb.it;

import dev.pcb.testsupport.TestShare;
import dev.pcb.testsupport.BrokerProcess;
import dev.pcb.testsupport.FileTrees;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A 50,000-file tree, larger than the region, mounted and checked with {@code sha256sum -c} and {@code find}.
 */
@Timeout(240)
class MountTreeTest
{
    private static final int FILES = Integer.getInteger("pcb.smallfiles.count", 50_000);

    private Path root;
    private BrokerProcess broker;
    private MountProcess mount;

    @AfterEach
    void tearDown() throws Exception
    {
        try
        {
            if (null != mount)
            {
                mount.close();
            }
            if (null != broker)
            {
                broker.close();
            }
        }
        finally
        {
            if (null != root)
            {
                FileTrees.delete(root);
            }
        }
    }

    @Test
    void everyFileOfAFiftyThousandFileTreeSumsTheSameThroughTheMount() throws Exception
    {
        // On tmpfs: writing and deleting 50,000 files on a loaded disk would take most of the test's time.
        root = Files.createTempDirectory(Path.of("/dev/shm"), "pcb-mount-tree");
        long phaseNs = System.nanoTime();
        final Path source = Files.createDirectory(root.resolve("share"));
        final Path mnt = Files.createDirectory(root.resolve("mnt"));
        final long total = TestShare.smallFileTree(source, FILES, 15);
        final long region = 32L << 20;
        assertTrue(total > 2 * region, "the tree must not fit the region: " + total);
        final long generateMs = (System.nanoTime() - phaseNs) / 1_000_000;
        broker = BrokerProcess.start(BrokerProcess.newRunDir("mount-tree"), "--share", "data=" + source,
            "--guest", "vm1", "--region-size", Long.toString(region));
        mount = MountProcess.start(broker, "vm1", "data", mnt);

        Shell.run(source, 120, "find . -type f -print0 | xargs -0 sha256sum > " + root.resolve("sums"))
            .assertSuccess();
        final long startNs = System.nanoTime();
        final Shell check = Shell.run(mnt, 240, "sha256sum -c --quiet " + root.resolve("sums") +
            " && wc -l < " + root.resolve("sums")).assertSuccess();
        final long checkMs = (System.nanoTime() - startNs) / 1_000_000;
        assertEquals(FILES + "\n", check.stdout(), check.stderr());

        phaseNs = System.nanoTime();
        final String find = "find . -printf '%p %s %y %m\\n' | sort";
        final String expected = Shell.run(source, 60, find).assertSuccess().stdout();
        assertEquals(expected, Shell.run(mnt, 60, find).assertSuccess().stdout());
        final long findMs = (System.nanoTime() - phaseNs) / 1_000_000;
        System.out.println("MountTreeTest: " + FILES + " files, " + total + " bytes: generated in " + generateMs +
            " ms; sha256sum -c through the mount " + checkMs + " ms; find on both " + findMs + " ms");
    }
}
