package dev.pcb.nativeshim;

import com.sun.jna.Memory;
import com.sun.jna.Native;
import com.sun.jna.Pointer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

import static dev.pcb.nativeshim.TestSupport.address;
import static dev.pcb.nativeshim.TestSupport.alignedAddress;
import static dev.pcb.nativeshim.TestSupport.alignedMemory;
import static dev.pcb.nativeshim.TestSupport.bytes;
import static dev.pcb.nativeshim.TestSupport.pages;
import static dev.pcb.nativeshim.TestSupport.randomBytes;
import static dev.pcb.nativeshim.TestSupport.residentPages;
import static dev.pcb.nativeshim.TestSupport.writeSynced;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

class ReadTest
{
    private static final int SIZE = 1024 * 1024 + 7;

    @TempDir
    Path dir;

    @Test
    void preadFullyReadsExactBytesIntoNativeMemory() throws IOException
    {
        final byte[] content = randomBytes(SIZE, 1);
        final Path file = dir.resolve("f");
        Files.write(file, content);
        final int fd = Linux.openFile(file.toString(), Linux.O_RDONLY);
        try (Memory memory = new Memory(SIZE + 100))
        {
            memory.clear();
            assertEquals(SIZE, Linux.preadFully(fd, address(memory), SIZE, 0));
            assertArrayEquals(content, memory.getByteArray(0, SIZE));

            assertEquals(1000, Linux.preadFully(fd, address(memory) + 3, 1000, 5000));
            assertArrayEquals(Arrays.copyOfRange(content, 5000, 6000), memory.getByteArray(3, 1000));

            final ByteBuffer direct = ByteBuffer.allocateDirect(4096);
            final long directAddress = Pointer.nativeValue(Native.getDirectBufferPointer(direct));
            assertEquals(4096, Linux.preadFully(fd, directAddress, 4096, 65536));
            final byte[] fromBuffer = new byte[4096];
            direct.get(fromBuffer);
            assertArrayEquals(Arrays.copyOfRange(content, 65536, 65536 + 4096), fromBuffer);
        }
        finally
        {
            Linux.close(fd);
        }
    }

    @Test
    void preadFullyStopsAtEndOfFile() throws IOException
    {
        final Path shortFile = dir.resolve("short");
        Files.write(shortFile, new byte[]{1, 2, 3});
        final Path empty = Files.createFile(dir.resolve("empty"));
        final int fd = Linux.openFile(shortFile.toString(), Linux.O_RDONLY);
        final int emptyFd = Linux.openFile(empty.toString(), Linux.O_RDONLY);
        try (Memory memory = new Memory(8192))
        {
            memory.setMemory(0, 8192, (byte)0x77);
            assertEquals(3, Linux.preadFully(fd, address(memory), 8192, 0));
            assertArrayEquals(new byte[]{1, 2, 3, 0x77}, memory.getByteArray(0, 4));
            assertEquals(1, Linux.preadFully(fd, address(memory), 8192, 2));
            assertEquals(0, Linux.preadFully(fd, address(memory), 8192, 3));
            assertEquals(0, Linux.preadFully(fd, address(memory), 8192, 1L << 40));
            assertEquals(0, Linux.preadFully(fd, address(memory), 0, 0));
            assertEquals(0, Linux.preadFully(emptyFd, address(memory), 8192, 0));
        }
        finally
        {
            Linux.close(fd);
            Linux.close(emptyFd);
        }
    }

    @Test
    void preadErrorsNameTheErrno() throws IOException
    {
        final int dirFd = Linux.openDirectory(dir.toString());
        try (Memory memory = new Memory(16))
        {
            final ErrnoException isDir = assertThrows(
                ErrnoException.class, () -> Linux.preadFully(dirFd, address(memory), 16, 0));
            assertEquals("pread(fd " + dirFd + ", offset 0, length 16): EISDIR (Is a directory)", isDir.getMessage());
        }
        finally
        {
            Linux.close(dirFd);
        }

        final Path file = dir.resolve("f");
        Files.write(file, new byte[16]);
        final int fd = Linux.openFile(file.toString(), Linux.O_RDONLY);
        try
        {
            // The kernel checks the address: a bad one is an error, not a crash of the JVM.
            final ErrnoException badAddress = assertThrows(
                ErrnoException.class, () -> Linux.preadFully(fd, 8L, 16, 0));
            assertEquals(Errno.EFAULT, badAddress.errno());
        }
        finally
        {
            Linux.close(fd);
        }
    }

    @Test
    void fadviseDontneedDropsPagesFromPageCache() throws IOException
    {
        assumeFalse(TestSupport.isTmpfs(dir), "tmpfs pages cannot leave the page cache");
        final byte[] content = randomBytes(SIZE, 2);
        final Path file = dir.resolve("f");
        writeSynced(file, content);
        final int fd = Linux.openFile(file.toString(), Linux.O_RDONLY);
        try (Memory memory = new Memory(SIZE))
        {
            Linux.preadFully(fd, address(memory), SIZE, 0);
            assertEquals(pages(SIZE), residentPages(file), "a buffered read leaves the file cached");

            Linux.posixFadvise(fd, 0, SIZE, Linux.POSIX_FADV_DONTNEED);
            assertEquals(0, residentPages(file));

            Linux.posixFadvise(fd, 0, 0, Linux.POSIX_FADV_SEQUENTIAL);
            Linux.posixFadvise(fd, 0, 0, Linux.POSIX_FADV_NORMAL);
            final ErrnoException ex = assertThrows(
                ErrnoException.class, () -> Linux.posixFadvise(fd, 0, 0, 99));
            assertEquals(Errno.EINVAL, ex.errno());
            assertTrue(ex.getMessage().startsWith("posix_fadvise(fd " + fd), ex.getMessage());
        }
        finally
        {
            Linux.close(fd);
        }
    }

    @Test
    void readWithoutCachingLeavesNoPagesCached() throws IOException
    {
        assumeFalse(TestSupport.isTmpfs(dir), "tmpfs pages cannot leave the page cache");
        final byte[] content = randomBytes(SIZE, 3);
        final Path file = dir.resolve("f");
        writeSynced(file, content);
        final int fd = Linux.openFile(file.toString(), Linux.O_RDONLY);
        try (Memory memory = new Memory(SIZE))
        {
            Linux.posixFadvise(fd, 0, 0, Linux.POSIX_FADV_DONTNEED);
            assertEquals(SIZE - 100, DirectReader.readWithoutCaching(fd, address(memory), SIZE, 100, false));
            assertArrayEquals(Arrays.copyOfRange(content, 100, SIZE), memory.getByteArray(0, SIZE - 100));
            assertEquals(0, residentPages(file), "partial first page dropped too");

            // An unaligned window in the middle: the two pages it touches are dropped, neighbours are not read.
            assertEquals(5000, DirectReader.readWithoutCaching(fd, address(memory), 5000, 10_000, false));
            assertArrayEquals(Arrays.copyOfRange(content, 10_000, 15_000), memory.getByteArray(0, 5000));
            assertEquals(0, residentPages(file));
        }
        finally
        {
            Linux.close(fd);
        }
    }

    @Test
    void readWithoutCachingThroughODirect() throws IOException
    {
        assumeTrue(Linux.supportsODirect(dir.toString()), "no O_DIRECT on " + dir);
        final int size = 3 * DirectReader.ALIGNMENT + 123;
        final byte[] content = randomBytes(size, 4);
        final Path file = dir.resolve("f");
        writeSynced(file, content);
        final int fd = Linux.openFile(file.toString(), Linux.O_RDONLY | Linux.O_DIRECT);
        final Memory memory = alignedMemory(8L * DirectReader.ALIGNMENT);
        try
        {
            Linux.posixFadvise(fd, 0, 0, Linux.POSIX_FADV_DONTNEED);
            final long address = alignedAddress(memory);
            final long length = 8L * DirectReader.ALIGNMENT;
            assertEquals(size, DirectReader.readWithoutCaching(fd, address, length, 0, true));
            assertArrayEquals(content, bytes(address, size));
            assertEquals(0, residentPages(file));

            assertEquals(DirectReader.ALIGNMENT + 123,
                DirectReader.readWithoutCaching(fd, address, length, 2L * DirectReader.ALIGNMENT, true));
            assertArrayEquals(Arrays.copyOfRange(content, 2 * DirectReader.ALIGNMENT, size),
                bytes(address, DirectReader.ALIGNMENT + 123));
            assertEquals(0, DirectReader.readWithoutCaching(fd, address, length, 4L * DirectReader.ALIGNMENT, true));
            assertEquals(0, residentPages(file));

            assertThrows(IllegalArgumentException.class,
                () -> DirectReader.readWithoutCaching(fd, address + 1, length, 0, true));
            assertThrows(IllegalArgumentException.class,
                () -> DirectReader.readWithoutCaching(fd, address, 100, 0, true));
            assertThrows(IllegalArgumentException.class,
                () -> DirectReader.readWithoutCaching(fd, address, length, 512, true));
        }
        finally
        {
            memory.close();
            Linux.close(fd);
        }
    }

    @Test
    void bufferedTailFallbackReadsWhatODirectCannot() throws IOException
    {
        assumeTrue(Linux.supportsODirect(dir.toString()), "no O_DIRECT on " + dir);
        final int size = 2 * DirectReader.ALIGNMENT + 999;
        final byte[] content = randomBytes(size, 5);
        final Path file = dir.resolve("f");
        writeSynced(file, content);
        final int fd = Linux.openFile(file.toString(), Linux.O_RDONLY | Linux.O_DIRECT);
        try (Memory memory = new Memory(size))
        {
            // Unaligned offset and length: refused on the O_DIRECT descriptor itself ...
            final ErrnoException ex = assertThrows(ErrnoException.class,
                () -> Linux.preadFully(fd, address(memory) + 1, 999, 2L * DirectReader.ALIGNMENT + 1));
            assertEquals(Errno.EINVAL, ex.errno());
            // ... but read by the fallback through a second, buffered open, even after the file is gone.
            Files.delete(file);
            assertEquals(998, DirectReader.preadBuffered(fd, address(memory), 5000, 2L * DirectReader.ALIGNMENT + 1));
            assertArrayEquals(Arrays.copyOfRange(content, 2 * DirectReader.ALIGNMENT + 1, size),
                memory.getByteArray(0, 998));
        }
        finally
        {
            Linux.close(fd);
        }
    }

    @Test
    void emptyFileReadsNothing() throws IOException
    {
        final Path file = Files.createFile(dir.resolve("empty"));
        final int fd = Linux.openFile(file.toString(), Linux.O_RDONLY);
        try (Memory memory = new Memory(4096))
        {
            assertEquals(0, DirectReader.readWithoutCaching(fd, address(memory), 4096, 0, false));
        }
        finally
        {
            Linux.close(fd);
        }
    }

    @Test
    void supportsODirectProbesTheFilesystem() throws IOException
    {
        assertFalse(Linux.supportsODirect("/dev/shm"), "tmpfs holds files in the page cache");
        assertFalse(Linux.supportsODirect(dir.resolve("missing").toString()));
        if ("ext4".equals(Files.getFileStore(dir).type()) || "xfs".equals(Files.getFileStore(dir).type()))
        {
            assertTrue(Linux.supportsODirect(dir.toString()));
        }
        try (var entries = Files.list(dir))
        {
            assertEquals(0, entries.count(), "the probe file is removed");
        }
    }
}
