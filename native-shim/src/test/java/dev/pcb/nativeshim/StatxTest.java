package dev.pcb.nativeshim;

import com.sun.jna.Memory;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.StandardOpenOption;

import static dev.pcb.nativeshim.OpenBeneathTest.assertErrno;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

class StatxTest
{
    @TempDir
    Path share;

    private int shareFd = -1;
    private final StatxResult stat = new StatxResult();

    @BeforeEach
    void open() throws IOException
    {
        shareFd = Linux.openDirectory(share.toString());
    }

    @AfterEach
    void close() throws IOException
    {
        Linux.close(shareFd);
        TestSupport.deleteSymlinks(share);
    }

    @Test
    void reportsSizeTypeAndIdentityLikeTheJdk() throws IOException
    {
        final Path file = share.resolve("f");
        Files.write(file, new byte[12345]);
        Linux.statx(shareFd, "f", false, stat);

        assertEquals(12345, stat.size());
        assertTrue(stat.isRegularFile());
        assertFalse(stat.isDirectory());
        assertFalse(stat.isSymlink());
        assertEquals(1, stat.nlink());
        assertEquals(((Number)Files.getAttribute(file, "unix:ino")).longValue(), stat.inode());
        final long dev = ((Number)Files.getAttribute(file, "unix:dev")).longValue();  // glibc makedev encoding
        final long major = ((dev >>> 8) & 0xfff) | ((dev >>> 32) & ~0xfffL);
        final long minor = (dev & 0xff) | ((dev >>> 12) & ~0xffL);
        assertEquals((major << 32) | minor, stat.device());
        assertEquals(((Number)Files.getAttribute(file, "unix:mode")).intValue(), stat.mode());
        assertTrue(stat.blocks() * 512 >= 12345 || stat.blocks() == 0);

        final int fd = Linux.openBeneath(shareFd, "f", Linux.O_RDONLY);
        final StatxResult viaFd = new StatxResult();
        Linux.fstat(fd, viaFd);
        Linux.close(fd);
        assertEquals(stat.inode(), viaFd.inode());
        assertEquals(stat.device(), viaFd.device());
        assertEquals(stat.size(), viaFd.size());
        assertEquals(stat.mtimeNanos(), viaFd.mtimeNanos());
    }

    @Test
    void inodeIsStableAcrossRename() throws IOException
    {
        Files.writeString(share.resolve("old"), "content");
        Linux.statx(shareFd, "old", false, stat);
        final long inode = stat.inode();
        final long device = stat.device();

        Files.createDirectory(share.resolve("dir"));
        Files.move(share.resolve("old"), share.resolve("dir/new"));
        Linux.statx(shareFd, "dir/new", false, stat);
        assertEquals(inode, stat.inode());
        assertEquals(device, stat.device());
        assertErrno(Errno.ENOENT, () ->
        {
            Linux.statx(shareFd, "old", false, stat);
            return Linux.openBeneath(shareFd, "old", 0);
        });
    }

    @Test
    void mtimeAndCtimeChangeAfterWrite() throws Exception
    {
        final Path file = share.resolve("f");
        Files.writeString(file, "v1");
        Linux.statx(shareFd, "f", true, stat);
        final long mtime = stat.mtimeNanos();
        final long ctime = stat.ctimeNanos();
        assertEquals(Files.getLastModifiedTime(file).toInstant().getEpochSecond(), mtime / 1_000_000_000L);

        Thread.sleep(50);  // beyond the kernel's coarse timestamp granularity
        Files.writeString(file, "v2", StandardOpenOption.APPEND);
        Linux.statx(shareFd, "f", true, stat);
        assertTrue(stat.mtimeNanos() > mtime, stat.toString());
        assertTrue(stat.ctimeNanos() > ctime, stat.toString());
        assertEquals(4, stat.size());
    }

    @Test
    void deletedButOpenFileStaysReadable() throws IOException
    {
        final byte[] content = TestSupport.randomBytes(10_000, 7);
        Files.write(share.resolve("doomed"), content);
        final int fd = Linux.openBeneath(shareFd, "doomed", Linux.O_RDONLY);
        try (Memory memory = new Memory(content.length))
        {
            Linux.fstat(fd, stat);
            final long inode = stat.inode();
            final long device = stat.device();

            Files.delete(share.resolve("doomed"));
            Files.write(share.resolve("doomed"), new byte[3]);  // a new file under the old name

            Linux.fstat(fd, stat);
            assertEquals(0, stat.nlink());
            assertEquals(inode, stat.inode());
            assertEquals(device, stat.device());
            assertEquals(content.length, stat.size());
            assertEquals(content.length, Linux.preadFully(fd, TestSupport.address(memory), content.length, 0));
            assertArrayEquals(content, memory.getByteArray(0, content.length));

            Linux.statx(shareFd, "doomed", false, stat);
            assertEquals(3, stat.size());
            assertTrue(inode != stat.inode());
        }
        finally
        {
            Linux.close(fd);
        }
    }

    @Test
    void symlinksAreReportedOrFollowedWithinTheShare() throws IOException
    {
        Files.writeString(share.resolve("target"), "12345");
        Files.createSymbolicLink(share.resolve("link"), Paths.get("target"));
        Files.createSymbolicLink(share.resolve("escape"), Paths.get("/etc/passwd"));
        Files.createDirectory(share.resolve("d"));

        Linux.statx(shareFd, "link", false, stat);
        assertTrue(stat.isSymlink());
        Linux.statx(shareFd, "escape", false, stat);
        assertTrue(stat.isSymlink());
        Linux.statx(shareFd, "d", false, stat);
        assertTrue(stat.isDirectory());

        assumeTrue(Linux.usesOpenat2());
        Linux.statx(shareFd, "link", true, stat);
        assertTrue(stat.isRegularFile());
        assertEquals(5, stat.size());
        assertErrno(Errno.EXDEV, () ->
        {
            Linux.statx(shareFd, "escape", true, stat);
            return 0;
        });
    }

    @Test
    void confinedLikeOpenBeneath() throws IOException
    {
        Files.createDirectory(share.resolve("d"));
        Files.createSymbolicLink(share.resolve("etc"), Paths.get("/etc"));
        for (final String path : new String[]{"/etc/passwd", "../x", "d/../../x"})
        {
            final ErrnoException ex = assertThrows(ErrnoException.class, () -> Linux.statx(shareFd, path, false, stat));
            assertEquals(Errno.EXDEV, ex.errno(), ex.getMessage());
        }
        // An intermediate symlink would otherwise reveal /etc/passwd's metadata.
        final ErrnoException ex = assertThrows(
            ErrnoException.class, () -> Linux.statx(shareFd, "etc/passwd", false, stat));
        assertTrue(ex.errno() == Errno.EXDEV || ex.errno() == Errno.ELOOP, ex.getMessage());
    }

    @Test
    void fstatOfClosedDescriptorIsEbadf()
    {
        final ErrnoException ex = assertThrows(ErrnoException.class, () -> Linux.fstat(1_000_000, stat));
        assertEquals("statx(fd 1000000): EBADF (Bad file descriptor)", ex.getMessage());
    }
}
