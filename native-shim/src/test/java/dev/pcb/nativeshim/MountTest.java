package dev.pcb.nativeshim;

import com.sun.jna.Memory;
import com.sun.jna.Pointer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class MountTest
{
    @TempDir
    Path dir;

    @Test
    void mountsReadOnlyAndUnmounts() throws Exception
    {
        assertEquals(0, Linux.getuid(), "these tests run as root, as pcb mount does");
        final Path target = Files.createDirectory(dir.resolve("mnt"));
        Linux.mount("pcb-test", target.toString(), "tmpfs", Linux.MS_RDONLY | Linux.MS_NOSUID, "size=1m");
        try
        {
            assertTrue(Files.readString(Path.of("/proc/self/mountinfo")).contains(" " + target + " "));
            final ErrnoException readOnly = assertThrows(ErrnoException.class,
                () -> Linux.openFile(target.resolve("x").toString(), Linux.O_CREAT | Linux.O_WRONLY));
            assertEquals(Errno.EROFS, readOnly.errno());
        }
        finally
        {
            Linux.umount2(target.toString(), 0);
        }
        assertFalse(Files.readString(Path.of("/proc/self/mountinfo")).contains(" " + target + " "));
        final ErrnoException notMounted = assertThrows(ErrnoException.class,
            () -> Linux.umount2(target.toString(), 0));
        assertEquals(Errno.EINVAL, notMounted.errno());
    }

    @Test
    void unknownFilesystemTypeIsNamed() throws Exception
    {
        final Path target = Files.createDirectory(dir.resolve("mnt"));
        final ErrnoException ex = assertThrows(ErrnoException.class,
            () -> Linux.mount("x", target.toString(), "no-such-fs", 0, ""));
        assertEquals(Errno.ENODEV, ex.errno());
    }

    @Test
    void ordinaryMemoryCanBePinnedAndUnmappedCannot()
    {
        try (Memory memory = new Memory(4096))
        {
            assertTrue(Linux.canPin(Pointer.nativeValue(memory), 4096));
        }
        assertFalse(Linux.canPin(4096, 4096), "page 1 is never mapped");
    }

    @Test
    void readAndWritevMoveBytesThroughAPipe() throws Exception
    {
        final Path file = dir.resolve("file");
        Files.write(file, new byte[]{1, 2, 3});
        final int fd = Linux.openFile(file.toString(), Linux.O_RDWR);
        try (Memory memory = new Memory(16))
        {
            assertEquals(3, Linux.read(fd, Pointer.nativeValue(memory), 16));
            assertEquals(2, memory.getByte(1));
            final long[] iov = {Pointer.nativeValue(memory), 2, Pointer.nativeValue(memory), 1};
            assertEquals(3, Linux.writev(fd, iov, 2));
        }
        finally
        {
            Linux.close(fd);
        }
        assertEquals(6, Files.size(file));
        assertEquals(-Errno.EBADF, Linux.writev(-1, new long[2], 1));
    }

    @Test
    void readlinkatGivesTheTargetAsStored() throws Exception
    {
        Files.createSymbolicLink(dir.resolve("up"), Path.of("../../etc/passwd"));
        Files.write(dir.resolve("plain"), new byte[1]);
        final int fd = Linux.openDirectory(dir.toString());
        try
        {
            assertEquals("../../etc/passwd", Linux.readlinkat(fd, "up"));
            assertEquals(Errno.EINVAL, assertThrows(ErrnoException.class, () -> Linux.readlinkat(fd, "plain")).errno());
        }
        finally
        {
            Linux.close(fd);
        }
    }
}
