package dev.pcb.it;

import dev.pcb.testsupport.TestShare;
import dev.pcb.testsupport.BrokerProcess;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Through the mount, a file held open ({@code exec 3<}) keeps the version it opened while the host removes it,
 * renames another over it or rewrites it in place; a new open after the timeout sees the new bytes.
 */
@Timeout(120)
class MountCoherenceTest
{
    private static final int SIZE = 2 * 1024 * 1024 + 4321;

    @TempDir
    Path dir;

    private Path source;
    private Path mnt;
    private BrokerProcess broker;
    private MountProcess mount;

    @BeforeEach
    void start() throws Exception
    {
        source = Files.createDirectory(dir.resolve("share"));
        mnt = Files.createDirectory(dir.resolve("mnt"));
        broker = BrokerProcess.start(BrokerProcess.newRunDir("mount-coherence"), "--share", "data=" + source,
            "--guest", "vm1", "--region-size", "8M", "--window-size", Integer.toString(TestShare.WINDOW));
    }

    @AfterEach
    void stop() throws Exception
    {
        try
        {
            if (null != mount)
            {
                mount.close();
            }
        }
        finally
        {
            broker.close();
        }
    }

    @Test
    void heldOpenFilesKeepTheirVersionAndNewOpensSeeTheNewOne() throws Exception
    {
        final SplittableRandom random = new SplittableRandom(15);
        final byte[] old = bytes(random);
        final byte[] fresh = bytes(random);
        for (final String name : new String[]{"removed", "renamed", "inplace"})
        {
            Files.write(source.resolve(name), old);
        }
        Files.write(dir.resolve("fresh"), fresh);
        mount = MountProcess.start(broker, "vm1", "data", mnt, "--timeout", "0.5");

        final Shell shell = Shell.run(dir, 60, String.join("\n",
            "exec 3< mnt/removed",
            "rm share/removed && cp fresh share/removed",
            "cat <&3 > held-removed",
            "exec 3< mnt/renamed",
            "cp fresh share/renamed.tmp && mv share/renamed.tmp share/renamed",
            "cat <&3 > held-renamed",
            "exec 3< mnt/inplace",
            "dd if=fresh of=share/inplace conv=notrunc status=none",
            "cat <&3 > held-inplace 2> held-inplace.err; echo $? > held-inplace.rc",
            "exec 3<&-",
            "sleep 1",
            "cat mnt/removed > new-removed && cat mnt/renamed > new-renamed && cat mnt/inplace > new-inplace"));
        shell.assertSuccess();

        assertArrayEquals(old, Files.readAllBytes(dir.resolve("held-removed")), "held across rm");
        assertArrayEquals(old, Files.readAllBytes(dir.resolve("held-renamed")), "held across mv over it");
        final byte[] inplace = Files.readAllBytes(dir.resolve("held-inplace"));
        final int rc = Integer.parseInt(Files.readString(dir.resolve("held-inplace.rc")).trim());
        assertArrayEquals(Arrays.copyOf(old, inplace.length), inplace, "in place: only old bytes, never mixed");
        if (0 == rc)
        {
            assertEquals(old.length, inplace.length, "a read that succeeded gave the whole old version");
        }
        else
        {
            assertTrue(Files.readString(dir.resolve("held-inplace.err")).contains("Stale file handle"),
                Files.readString(dir.resolve("held-inplace.err")));
        }
        for (final String name : new String[]{"removed", "renamed", "inplace"})
        {
            assertArrayEquals(fresh, Files.readAllBytes(dir.resolve("new-" + name)), "new open of " + name);
        }
    }

    private static byte[] bytes(final SplittableRandom random)
    {
        final byte[] bytes = new byte[SIZE];
        random.nextBytes(bytes);
        return bytes;
    }
}
