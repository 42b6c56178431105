package dev.pcb.nativeshim;

import com.sun.jna.Memory;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.concurrent.TimeUnit;

import static dev.pcb.nativeshim.Linux.O_DIRECTORY;
import static dev.pcb.nativeshim.Linux.O_PATH;
import static dev.pcb.nativeshim.Linux.O_RDONLY;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

class OpenBeneathTest
{
    private static final String HELLO = "hello from inside";

    @TempDir
    Path temp;

    private int shareFd = -1;

    @BeforeEach
    void createShare() throws IOException
    {
        final Path share = Files.createDirectory(temp.resolve("share"));
        Files.writeString(temp.resolve("outside.txt"), "secret");
        Files.createDirectories(share.resolve("a/c"));
        Files.writeString(share.resolve("a/b.txt"), HELLO);
        Files.createSymbolicLink(share.resolve("inside"), Paths.get("a/b.txt"));
        Files.createSymbolicLink(share.resolve("insideDir"), Paths.get("a"));
        Files.createSymbolicLink(share.resolve("a/sibling"), Paths.get("../a/b.txt"));
        Files.createSymbolicLink(share.resolve("escape"), Paths.get("/etc"));
        Files.createSymbolicLink(share.resolve("escapeRelative"), Paths.get("../outside.txt"));
        Files.createSymbolicLink(share.resolve("a/up"), Paths.get("../../outside.txt"));
        shareFd = Linux.openDirectory(share.toString());
    }

    @AfterEach
    void closeShare() throws IOException
    {
        if (shareFd >= 0)
        {
            Linux.close(shareFd);
        }
        TestSupport.deleteSymlinks(temp);
    }

    @Test
    @Timeout(10)
    void aFifoWithoutWriterOpensAtOnceWithONonblockThroughOpenat2AndTheWalk() throws Exception
    {
        final Path fifo = temp.resolve("share/a/pipe");
        final Process mkfifo = new ProcessBuilder("mkfifo", fifo.toString()).start();
        assertTrue(mkfifo.waitFor(10, TimeUnit.SECONDS) && 0 == mkfifo.exitValue(), "mkfifo failed");
        final int flags = O_RDONLY | Linux.O_NONBLOCK | Linux.O_NOCTTY;
        Linux.close(Linux.openBeneath(shareFd, "a/pipe", flags));
        Linux.close(Linux.openBeneathByWalk(shareFd, "a/pipe", flags));
        // O_PATH, which Catalog uses to learn the type first, never opens the FIFO itself.
        final int path = Linux.openBeneath(shareFd, "a/pipe", O_PATH);
        try
        {
            final StatxResult stat = new StatxResult();
            Linux.fstat(path, stat);
            assertEquals(0x1000, stat.mode() & 0xF000, "a FIFO");
        }
        finally
        {
            Linux.close(path);
        }
    }

    @Test
    void kernelHasOpenat2()
    {
        // The rest of the openat2 tests are skipped on a kernel before 5.6; the walk tests still run there.
        assumeTrue(Linux.usesOpenat2(), "openat2 unavailable: openBeneath walks");
    }

    @Test
    void rejectsAbsolutePath()
    {
        assertErrno(Errno.EXDEV, () -> Linux.openBeneath(shareFd, "/etc/passwd", O_RDONLY));
        assertErrno(Errno.EXDEV, () -> Linux.openBeneath(shareFd, "/", O_RDONLY));
    }

    @Test
    void rejectsDotDot()
    {
        assertErrno(Errno.EXDEV, () -> Linux.openBeneath(shareFd, "..", O_RDONLY));
        assertErrno(Errno.EXDEV, () -> Linux.openBeneath(shareFd, "../outside.txt", O_RDONLY));
        assertErrno(Errno.EXDEV, () -> Linux.openBeneath(shareFd, "a/../../outside.txt", O_RDONLY));
        // ".." is refused even where it would stay inside, so both modes accept exactly the same paths.
        assertErrno(Errno.EXDEV, () -> Linux.openBeneath(shareFd, "a/../a/b.txt", O_RDONLY));
    }

    @Test
    void rejectsMalformedPaths()
    {
        assertErrno(Errno.ENOENT, () -> Linux.openBeneath(shareFd, "", O_RDONLY));
        assertErrno(Errno.EINVAL, () -> Linux.openBeneath(shareFd, "a//b.txt", O_RDONLY));
        assertErrno(Errno.EINVAL, () -> Linux.openBeneath(shareFd, "a/", O_RDONLY));
        assertErrno(Errno.EINVAL, () -> Linux.openBeneath(shareFd, "a/b.txt\0/x", O_RDONLY));
    }

    @Test
    void rejectsSymlinksLeadingOut()
    {
        assumeTrue(Linux.usesOpenat2());
        assertErrno(Errno.EXDEV, () -> Linux.openBeneath(shareFd, "escape/passwd", O_RDONLY));
        assertErrno(Errno.EXDEV, () -> Linux.openBeneath(shareFd, "escape", O_RDONLY | O_DIRECTORY));
        assertErrno(Errno.EXDEV, () -> Linux.openBeneath(shareFd, "escapeRelative", O_RDONLY));
        assertErrno(Errno.EXDEV, () -> Linux.openBeneath(shareFd, "a/up", O_RDONLY));
    }

    @Test
    void followsSymlinksThatStayInside() throws IOException
    {
        assumeTrue(Linux.usesOpenat2());
        assertEquals(HELLO, readAll(Linux.openBeneath(shareFd, "inside", O_RDONLY)));
        assertEquals(HELLO, readAll(Linux.openBeneath(shareFd, "insideDir/b.txt", O_RDONLY)));
        assertEquals(HELLO, readAll(Linux.openBeneath(shareFd, "a/sibling", O_RDONLY)));
    }

    @Test
    void opensNestedFile() throws IOException
    {
        assertEquals(HELLO, readAll(Linux.openBeneath(shareFd, "a/b.txt", O_RDONLY)));
        assertEquals(HELLO, readAll(Linux.openBeneath(shareFd, "./a/./b.txt", O_RDONLY)));
    }

    @Test
    void nonexistentIsEnoent()
    {
        assertErrno(Errno.ENOENT, () -> Linux.openBeneath(shareFd, "missing", O_RDONLY));
        assertErrno(Errno.ENOENT, () -> Linux.openBeneath(shareFd, "a/missing/x", O_RDONLY));
    }

    @Test
    void opensDirectory() throws IOException
    {
        final int fd = Linux.openBeneath(shareFd, "a/c", O_RDONLY | O_DIRECTORY);
        try
        {
            final StatxResult stat = new StatxResult();
            Linux.fstat(fd, stat);
            assertTrue(stat.isDirectory());
            // The directory fd works as the root of a further openBeneath.
            assertErrno(Errno.EXDEV, () -> Linux.openBeneath(fd, "../b.txt", O_RDONLY));
        }
        finally
        {
            Linux.close(fd);
        }
        assertErrno(Errno.ENOTDIR, () -> Linux.openBeneath(shareFd, "a/b.txt", O_RDONLY | O_DIRECTORY));
        assertErrno(Errno.ENOTDIR, () -> Linux.openBeneath(shareFd, "a/b.txt/x", O_RDONLY));
    }

    @Test
    void messageNamesCallAndErrno()
    {
        assumeTrue(Linux.usesOpenat2());
        final ErrnoException ex = assertThrows(
            ErrnoException.class, () -> Linux.openBeneath(shareFd, "share/../etc/passwd", O_RDONLY));
        assertEquals("openat2(share/../etc/passwd): EXDEV (Invalid cross-device link)", ex.getMessage());
        assertEquals("openat2", ex.call());
        assertEquals(Errno.EXDEV, ex.errno());
    }

    @Test
    void walkRejectsEscapes()
    {
        assertErrno(Errno.EXDEV, () -> Linux.openBeneathByWalk(shareFd, "/etc/passwd", O_RDONLY));
        assertErrno(Errno.EXDEV, () -> Linux.openBeneathByWalk(shareFd, "../outside.txt", O_RDONLY));
        assertErrno(Errno.EXDEV, () -> Linux.openBeneathByWalk(shareFd, "a/../../outside.txt", O_RDONLY));
        assertErrno(Errno.EINVAL, () -> Linux.openBeneathByWalk(shareFd, "a//b.txt", O_RDONLY));
        assertErrno(Errno.ENOENT, () -> Linux.openBeneathByWalk(shareFd, "", O_RDONLY));
    }

    @Test
    void walkFollowsNoSymlinkAtAll()
    {
        assertErrno(Errno.ELOOP, () -> Linux.openBeneathByWalk(shareFd, "escape/passwd", O_RDONLY));
        assertErrno(Errno.ELOOP, () -> Linux.openBeneathByWalk(shareFd, "escape", O_RDONLY | O_DIRECTORY));
        assertErrno(Errno.ELOOP, () -> Linux.openBeneathByWalk(shareFd, "escapeRelative", O_RDONLY));
        assertErrno(Errno.ELOOP, () -> Linux.openBeneathByWalk(shareFd, "inside", O_RDONLY));
        assertErrno(Errno.ELOOP, () -> Linux.openBeneathByWalk(shareFd, "inside", O_PATH));
        assertErrno(Errno.ELOOP, () -> Linux.openBeneathByWalk(shareFd, "insideDir/b.txt", O_RDONLY));
        assertErrno(Errno.ELOOP, () -> Linux.openBeneathByWalk(shareFd, "insideDir", O_RDONLY | O_DIRECTORY));
        final ErrnoException ex = assertThrows(
            ErrnoException.class, () -> Linux.openBeneathByWalk(shareFd, "insideDir/b.txt", O_RDONLY));
        assertEquals("openat(insideDir/b.txt): ELOOP (Too many levels of symbolic links)", ex.getMessage());
    }

    @Test
    void walkOpensFilesAndDirectories() throws IOException
    {
        assertEquals(HELLO, readAll(Linux.openBeneathByWalk(shareFd, "a/b.txt", O_RDONLY)));
        assertEquals(HELLO, readAll(Linux.openBeneathByWalk(shareFd, "./a/./b.txt", O_RDONLY)));
        final int dirFd = Linux.openBeneathByWalk(shareFd, "a/c", O_RDONLY | O_DIRECTORY);
        final StatxResult stat = new StatxResult();
        Linux.fstat(dirFd, stat);
        Linux.close(dirFd);
        assertTrue(stat.isDirectory());
        assertErrno(Errno.ENOENT, () -> Linux.openBeneathByWalk(shareFd, "a/missing/x", O_RDONLY));
        assertErrno(Errno.ENOTDIR, () -> Linux.openBeneathByWalk(shareFd, "a/b.txt/x", O_RDONLY));
        assertErrno(Errno.ENOTDIR, () -> Linux.openBeneathByWalk(shareFd, "a/b.txt", O_RDONLY | O_DIRECTORY));
    }

    @Test
    void walkLeaksNoDescriptors() throws IOException
    {
        final long before = openDescriptors();
        for (int i = 0; i < 200; i++)
        {
            // Each fails after the walk has opened intermediate directories, which must all be closed.
            assertErrno(Errno.ENOENT, () -> Linux.openBeneathByWalk(shareFd, "a/c/missing", O_RDONLY));
            assertErrno(Errno.ELOOP, () -> Linux.openBeneathByWalk(shareFd, "a/sibling", O_RDONLY));
            assertErrno(Errno.ENOTDIR, () -> Linux.openBeneathByWalk(shareFd, "a/b.txt/x", O_RDONLY));
            Linux.close(Linux.openBeneathByWalk(shareFd, "a/c", O_PATH));
        }
        assertEquals(before, openDescriptors());
    }

    private static long openDescriptors() throws IOException
    {
        try (var entries = Files.list(Paths.get("/proc/self/fd")))
        {
            return entries.count();
        }
    }

    private static String readAll(final int fd) throws IOException
    {
        try (Memory memory = new Memory(4096))
        {
            final long n = Linux.preadFully(fd, TestSupport.address(memory), 4096, 0);
            return new String(memory.getByteArray(0, (int)n), StandardCharsets.UTF_8);
        }
        finally
        {
            Linux.close(fd);
        }
    }

    interface Open
    {
        int open() throws ErrnoException;
    }

    static void assertErrno(final int errno, final Open open)
    {
        final ErrnoException ex = assertThrows(ErrnoException.class, () ->
        {
            final int fd = open.open();
            Linux.close(fd);
        });
        assertEquals(Errno.name(errno), Errno.name(ex.errno()), ex.getMessage());
    }
}
