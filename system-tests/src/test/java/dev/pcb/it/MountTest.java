package dev.pcb.it;

import dev.pcb.testsupport.TestShare;
import dev.pcb.testsupport.BrokerProcess;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A share mounted with {@code pcb mount} (broker and mount each in their own process, the real kernel FUSE) read by
 * unmodified programs: cat, cmp, sha256sum, ls, find, tar, a binary, the dynamic loader, python.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(120)
class MountTest
{
    private Path dir;
    private Path source;
    private Path mnt;
    private TestShare share;
    private BrokerProcess broker;
    private MountProcess mount;

    @BeforeAll
    void mount(@TempDir final Path tempDir) throws Exception
    {
        dir = tempDir;
        source = Files.createDirectory(dir.resolve("share"));
        // One level deeper than the share, so "../secret" beside the mount point names nothing.
        mnt = Files.createDirectories(dir.resolve("m/mnt"));
        share = TestShare.create(source);
        for (int i = 0; i < 300; i++)
        {
            Files.writeString(source.resolve("tree/packed-" + i + ".txt"), "small file " + i + "\n".repeat(i % 7));
        }
        Files.createDirectories(source.resolve("bin"));
        Files.copy(Path.of("/bin/ls"), source.resolve("bin/pcb-ls"), StandardCopyOption.COPY_ATTRIBUTES);
        Files.createDirectories(source.resolve("lib"));
        Files.copy(Path.of("/lib/x86_64-linux-gnu/libselinux.so.1"), source.resolve("lib/libselinux.so.1"));
        Files.createDirectories(source.resolve("py"));
        Files.writeString(source.resolve("py/pcbmod.py"), "VALUE = 6 * 7\n");
        Files.setPosixFilePermissions(source.resolve("tree/a/small.txt"), PosixFilePermissions.fromString("r--r-----"));
        Files.createSymbolicLink(source.resolve("link-to-window"), Path.of("window"));
        Files.createSymbolicLink(source.resolve("tree/link-up"), Path.of("../one-byte"));
        Files.writeString(dir.resolve("secret"), "host secret outside the share");
        Files.createSymbolicLink(source.resolve("escape"), Path.of("../secret"));
        Files.createSymbolicLink(source.resolve("absolute-escape"), dir.resolve("secret"));

        broker = BrokerProcess.start(BrokerProcess.newRunDir("mount"), "--share", "data=" + source,
            "--guest", "vm1", "--region-size", Long.toString(TestShare.REGION),
            "--window-size", Integer.toString(TestShare.WINDOW));
        mount = MountProcess.start(broker, "vm1", "data", mnt);
    }

    @AfterAll
    void unmount() throws Exception
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
            if (null != broker)
            {
                broker.close();
            }
        }
    }

    @Test
    void coreFilesReadWithCatCmpAndSha256Equal() throws Exception
    {
        final StringBuilder script = new StringBuilder("set -e\n");
        for (final String name : share.files().keySet())
        {
            script.append("cmp ").append(source.resolve(name)).append(' ').append(mnt.resolve(name)).append('\n');
            script.append("cat ").append(mnt.resolve(name)).append(" | cmp - ").append(source.resolve(name))
                .append('\n');
        }
        Shell.run(dir, 60, script.toString()).assertSuccess();

        final Shell sums = Shell.run(source, 60,
            "find . -type f -print0 | sort -z | xargs -0 sha256sum > ../sums && cd " + mnt + " && sha256sum -c " + dir + "/sums")
            .assertSuccess();
        assertTrue(sums.stdout().contains("./larger-than-region: OK"), sums.stdout());
        assertTrue(sums.stdout().contains("./tree/packed-299.txt: OK"), sums.stdout());
        assertTrue(!sums.stdout().contains("FAILED"), sums.stdout());
    }

    @Test
    void lsAndFindShowTheSourceTree() throws Exception
    {
        // Owners are not compared: pcb shows every file as root's, and the source is root's here too.
        final String ls = "ls -lRn --time-style=+%s . | grep -v '^total'";
        assertEquals(Shell.run(source, 30, ls).assertSuccess().stdout(), Shell.run(mnt, 30, ls).assertSuccess().stdout());
        final String find = "find . -printf '%p %s %y %m %l %T@\\n' | sort";
        final String expected = Shell.run(source, 30, find).assertSuccess().stdout();
        assertEquals(expected, Shell.run(mnt, 30, find).assertSuccess().stdout());
        assertTrue(expected.contains("./link-to-window 6 l 777 window"), expected);
    }

    @Test
    void tarOfTheMountExtractsToTheSameBytes() throws Exception
    {
        final Path out = Files.createDirectory(dir.resolve("untar-" + System.nanoTime()));
        Shell.run(dir, 60, "tar -C " + mnt + " -cf - . | tar -C " + out + " -xf - && diff -r --no-dereference " +
            source + " " + out).assertSuccess();
    }

    @Test
    void programsRunFromTheMount() throws Exception
    {
        final Shell ls = Shell.run(dir, 30, mnt + "/bin/pcb-ls " + mnt + "/py").assertSuccess();
        assertEquals("pcbmod.py\n", ls.stdout());

        final Shell loaded = Shell.run(dir, 30, "LD_LIBRARY_PATH=" + mnt + "/lib LD_DEBUG=libs /bin/ls / 2>&1 >/dev/null")
            .assertSuccess();
        assertTrue(loaded.stdout().contains("calling init: " + mnt + "/lib/libselinux.so.1"), loaded.stdout());

        final Shell python = Shell.run(dir, 30, "python3 -B -c 'import sys; sys.path.insert(0, \"" + mnt +
            "/py\"); import pcbmod; print(pcbmod.VALUE, pcbmod.__file__)'").assertSuccess();
        assertEquals("42 " + mnt + "/py/pcbmod.py\n", python.stdout());
    }

    @Test
    void mmapGivesTheTrueBytes() throws Exception
    {
        final String name = "larger-than-region";
        final Shell mapped = Shell.run(dir, 30, "python3 -c 'import mmap, hashlib\n" +
            "f = open(\"" + mnt.resolve(name) + "\", \"rb\")\n" +
            "m = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)\n" +
            "print(hashlib.sha256(m[:]).hexdigest())'").assertSuccess();
        assertEquals(TestShare.sha256(source.resolve(name)) + "\n", mapped.stdout());
    }

    @Test
    void everyWriteFailsWithReadOnlyFileSystem() throws Exception
    {
        final List<String> writes = List.of(
            "echo x > new-file",
            "echo x >> one-byte",
            "mkdir new-dir",
            "chmod 600 window",
            "mv window moved",
            "truncate -s 0 window",
            "rm one-byte",
            "ln -s window new-link",
            "touch window");
        for (final String write : writes)
        {
            final Shell shell = Shell.run(mnt, 30, write);
            assertNotEquals(0, shell.exitCode(), write);
            assertTrue(shell.stderr().contains("Read-only file system"), write + ": " + shell.stderr());
        }
        assertEquals(TestShare.sha256(source.resolve("window")), TestShare.sha256(mnt.resolve("window")));
    }

    @Test
    void missingPathsAnswerNoSuchFile() throws Exception
    {
        final Shell shell = Shell.run(mnt, 30, "cat no-such-file; ls tree/none/deeper");
        assertTrue(shell.stderr().contains("cat: no-such-file: No such file or directory"), shell.stderr());
        assertTrue(shell.stderr().contains("tree/none/deeper': No such file or directory"), shell.stderr());
    }

    @Test
    void symlinksAppearAsStoredAndNeverReachOutsideTheShare() throws Exception
    {
        assertEquals("window\n", Shell.run(mnt, 30, "readlink link-to-window").assertSuccess().stdout());
        assertEquals(TestShare.sha256(source.resolve("window")), TestShare.sha256(mnt.resolve("link-to-window")));
        assertEquals(TestShare.sha256(source.resolve("one-byte")), TestShare.sha256(mnt.resolve("tree/link-up")));
        // "../secret" resolves beside the mount point, where there is no such file: never to the host's.
        assertEquals("../secret\n", Shell.run(mnt, 30, "readlink escape").assertSuccess().stdout());
        final Shell escape = Shell.run(mnt, 30, "cat escape");
        assertTrue(escape.stderr().contains("No such file or directory"), escape.stderr());
        final Shell absolute = Shell.run(mnt, 30, "readlink absolute-escape").assertSuccess();
        assertEquals(dir.resolve("secret") + "\n", absolute.stdout(), "shown as stored; resolved by the reader's side");
    }

    @Test
    void statfsAndXattrsAnswerLikeAnEmptyReadOnlyFilesystem() throws Exception
    {
        final Shell df = Shell.run(mnt, 30, "stat -f -c '%T %l' .").assertSuccess();
        assertEquals("fuseblk 255\n", df.stdout().replace("fuse ", "fuseblk "));
        final Shell xattrs = Shell.run(mnt, 30, "python3 -c 'import os\nprint(os.listxattr(\"window\"))\n" +
            "try:\n    os.getxattr(\"window\", \"user.x\")\nexcept OSError as e:\n    print(e.strerror)'")
            .assertSuccess();
        assertEquals("[]\nNo data available\n", xattrs.stdout());
    }
}
