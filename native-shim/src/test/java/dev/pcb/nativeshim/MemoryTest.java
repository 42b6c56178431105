package dev.pcb.nativeshim;

import com.sun.jna.Memory;
import com.sun.jna.Pointer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.List;

import static dev.pcb.nativeshim.TestSupport.address;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

class MemoryTest
{
    private static final long GIB = 1L << 30;

    private Path shmFile;
    private int fd = -1;

    @BeforeEach
    void createShmFile() throws IOException
    {
        shmFile = Paths.get("/dev/shm", "pcb-native-shim-test-" + Linux.getpid() + '-' + System.nanoTime());
        fd = Linux.openFile(shmFile.toString(), Linux.O_RDWR | Linux.O_CREAT | Linux.O_EXCL);
    }

    @AfterEach
    void deleteShmFile() throws IOException
    {
        Linux.close(fd);
        Files.deleteIfExists(shmFile);
    }

    @Test
    void mapsSparseFileBeyondTwoGibibytes() throws IOException
    {
        final long length = 3 * GIB + 4096;
        Linux.ftruncate(fd, length);
        final long address = Linux.mmap(fd, length, true, 0);
        try
        {
            final Pointer region = new Pointer(address);
            final long above2g = 2 * GIB + 512 * 1024 + 8;
            region.setLong(above2g, 0x0123_4567_89AB_CDEFL);
            region.setLong(length - 8, -2L);
            assertEquals(0x0123_4567_89AB_CDEFL, region.getLong(above2g));
            assertEquals(-2L, region.getLong(length - 8));
            assertEquals(0L, region.getLong(2 * GIB));

            // The stores went to the file: another descriptor reads them at the same offsets.
            final int reader = Linux.openFile(shmFile.toString(), Linux.O_RDONLY);
            try (Memory memory = new Memory(8))
            {
                assertEquals(8, Linux.preadFully(reader, address(memory), 8, above2g));
                assertEquals(0x0123_4567_89AB_CDEFL, memory.getLong(0));
            }
            finally
            {
                Linux.close(reader);
            }

            final StatxResult stat = new StatxResult();
            Linux.fstat(fd, stat);
            assertEquals(length, stat.size());
            assertTrue(stat.blocks() * 512 <= 16L * 1024 * 1024, "still sparse: " + stat);
        }
        finally
        {
            Linux.munmap(address, length);
        }
    }

    @Test
    void madviseOnAMapping() throws IOException
    {
        final int pageSize = Linux.pageSize();
        final long length = 16L * pageSize;
        Linux.ftruncate(fd, length);
        final long address = Linux.mmap(fd, length, true, 0);
        try
        {
            final Pointer region = new Pointer(address);
            for (long offset = 0; offset < length; offset += pageSize)
            {
                region.setLong(offset, offset + 1);
            }
            Linux.madvise(address, length, Linux.MADV_SEQUENTIAL);
            Linux.madvise(address, length, Linux.MADV_RANDOM);
            Linux.madvise(address, length, Linux.MADV_WILLNEED);
            Linux.madvise(address, length, Linux.MADV_NORMAL);

            // DONTNEED drops only this process's mapping of a shared file; the data stays in the file.
            Linux.madvise(address, length, Linux.MADV_DONTNEED);
            assertEquals(1L, region.getLong(0));
            assertEquals(pageSize + 1L, region.getLong(pageSize));

            // REMOVE frees the backing tmpfs pages: the range reads as zeros and the file holds fewer blocks.
            final StatxResult stat = new StatxResult();
            Linux.fstat(fd, stat);
            final long blocksBefore = stat.blocks();
            Linux.madvise(address + 4L * pageSize, 4L * pageSize, Linux.MADV_REMOVE);
            Linux.fstat(fd, stat);
            assertEquals(blocksBefore - 4L * pageSize / 512, stat.blocks());
            assertEquals(0L, region.getLong(4L * pageSize));  // faults a fresh zero page back in
            assertEquals(8L * pageSize + 1, region.getLong(8L * pageSize));

            final ErrnoException ex = assertThrows(
                ErrnoException.class, () -> Linux.madvise(address + 1, pageSize, Linux.MADV_WILLNEED));
            assertEquals("madvise(0x" + Long.toHexString(address + 1) + ", length " + pageSize + ", advice 3): " +
                "EINVAL (Invalid argument)", ex.getMessage());
        }
        finally
        {
            Linux.munmap(address, length);
        }
    }

    @Test
    void madviseHugepageWhereTheKernelHasThp() throws IOException
    {
        assumeTrue(Files.isDirectory(Paths.get("/sys/kernel/mm/transparent_hugepage")), "no THP in this kernel");
        final long length = 4L << 20;
        Linux.ftruncate(fd, length);
        final long address = Linux.mmap(fd, length, true, 0);
        try
        {
            Linux.madvise(address, length, Linux.MADV_HUGEPAGE);
        }
        finally
        {
            Linux.munmap(address, length);
        }
    }

    @Test
    void mmapReadOnlyAndErrors() throws IOException
    {
        Linux.ftruncate(fd, 8192);
        final int readOnly = Linux.openFile(shmFile.toString(), Linux.O_RDONLY);
        try
        {
            final ErrnoException ex = assertThrows(ErrnoException.class, () -> Linux.mmap(readOnly, 8192, true, 0));
            assertEquals(Errno.EACCES, ex.errno(), ex.getMessage());
            final long address = Linux.mmap(readOnly, 8192, false, 0);
            assertEquals(0L, new Pointer(address).getLong(4096));
            Linux.munmap(address, 8192);
            assertEquals(Errno.EINVAL,
                assertThrows(ErrnoException.class, () -> Linux.mmap(readOnly, 4096, false, 100)).errno());
        }
        finally
        {
            Linux.close(readOnly);
        }
    }

    @Test
    void mlockPinsAndMunlockReleases() throws IOException
    {
        final int pageSize = Linux.pageSize();
        Linux.ftruncate(fd, pageSize);
        final long address = Linux.mmap(fd, pageSize, true, 0);
        try
        {
            final long before = lockedKib();
            Linux.mlock(address, pageSize);
            assertEquals(before + pageSize / 1024, lockedKib());
            Linux.munlock(address, pageSize);
            assertEquals(before, lockedKib());
        }
        finally
        {
            Linux.munmap(address, pageSize);
        }
    }

    @Test
    void populateWriteAllocatesAMappingWithoutChangingIt() throws IOException
    {
        final long length = 1 << 20;
        Linux.ftruncate(fd, length);
        final long address = Linux.mmap(fd, length, true, 0);
        try
        {
            final StatxResult stat = new StatxResult();
            new Pointer(address).setLong(4096, 42);
            Linux.fstat(fd, stat);
            assertEquals(4096 / 512, stat.blocks(), "tmpfs allocates a page at first touch");

            Linux.madvise(address, length, Linux.MADV_POPULATE_WRITE);
            Linux.fstat(fd, stat);
            assertEquals(length / 512, stat.blocks(), "every page allocated");
            assertEquals(42, new Pointer(address).getLong(4096), "contents unchanged");
            assertEquals(0, new Pointer(address).getLong(8192));
        }
        finally
        {
            Linux.munmap(address, length);
        }
    }

    @Test
    void fallocateAllocatesAndPunchesHoles() throws IOException
    {
        final StatxResult stat = new StatxResult();
        Linux.fallocate(fd, 0, 0, 1 << 20);
        Linux.fstat(fd, stat);
        assertEquals(1 << 20, stat.size());
        assertEquals((1 << 20) / 512, stat.blocks());

        Linux.fallocate(fd, Linux.FALLOC_FL_PUNCH_HOLE | Linux.FALLOC_FL_KEEP_SIZE, 0, 1 << 19);
        Linux.fstat(fd, stat);
        assertEquals(1 << 20, stat.size());
        assertEquals((1 << 19) / 512, stat.blocks());

        final ErrnoException ex = assertThrows(
            ErrnoException.class, () -> Linux.fallocate(fd, Linux.FALLOC_FL_PUNCH_HOLE, 0, 4096));
        assertEquals(Errno.EOPNOTSUPP, ex.errno());
        assertTrue(ex.getMessage().endsWith("EOPNOTSUPP (Operation not supported)"), ex.getMessage());
    }

    @Test
    void memfdCreateMakesAnAnonymousMappableFile() throws IOException
    {
        final int memfd = Linux.memfdCreate("pcb-test", Linux.MFD_ALLOW_SEALING);
        try
        {
            assertEquals("/memfd:pcb-test (deleted)", Files.readSymbolicLink(Paths.get("/proc/self/fd/" + memfd))
                .toString());
            assertTrue((Integer.parseInt(fdinfoFlags(memfd), 8) & Linux.O_CLOEXEC) != 0, "close-on-exec");

            Linux.ftruncate(memfd, 8192);
            final long address = Linux.mmap(memfd, 8192, true, 0);
            new Pointer(address).setLong(4096, 42L);
            Linux.munmap(address, 8192);
            try (Memory memory = new Memory(8))
            {
                assertEquals(8, Linux.preadFully(memfd, address(memory), 8, 4096));
                assertEquals(42L, memory.getLong(0));
            }
        }
        finally
        {
            Linux.close(memfd);
        }
        assertEquals(Errno.EINVAL,
            assertThrows(ErrnoException.class, () -> Linux.memfdCreate("x".repeat(300), 0)).errno());
    }

    @Test
    void pageSizeIsAPowerOfTwo()
    {
        final int pageSize = Linux.pageSize();
        assertTrue(pageSize >= 4096 && Integer.bitCount(pageSize) == 1, "page size " + pageSize);
    }

    private static long lockedKib() throws IOException
    {
        final List<String> status = Files.readAllLines(Paths.get("/proc/self/status"));
        for (final String line : status)
        {
            if (line.startsWith("VmLck:"))
            {
                return Long.parseLong(line.substring(6).replace("kB", "").trim());
            }
        }
        throw new IllegalStateException("no VmLck in /proc/self/status");
    }

    private static String fdinfoFlags(final int fd) throws IOException
    {
        for (final String line : Files.readAllLines(Paths.get("/proc/self/fdinfo/" + fd)))
        {
            if (line.startsWith("flags:"))
            {
                return line.substring(6).trim();
            }
        }
        throw new IllegalStateException("no flags in fdinfo");
    }
}
