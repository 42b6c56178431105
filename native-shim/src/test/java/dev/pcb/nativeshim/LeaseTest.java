package dev.pcb.nativeshim;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The read lease the broker holds across a fill keeps writers out for exactly that long.
 */
@Timeout(30)
class LeaseTest
{
    @TempDir
    Path dir;

    @BeforeAll
    static void ignoreSigio() throws ErrnoException
    {
        Linux.ignoreSignal(Linux.SIGIO);
    }

    @Test
    void writerOpenWaitsUntilTheLeaseIsDropped() throws Exception
    {
        final Path file = dir.resolve("leased");
        Files.write(file, new byte[]{1, 2, 3});
        final int fd = Linux.openFile(file.toString(), Linux.O_RDONLY);
        try
        {
            assertTrue(Linux.tryReadLease(fd));
            final long startNs = System.nanoTime();
            final CompletableFuture<Long> writerOpened = CompletableFuture.supplyAsync(() ->
            {
                try (FileChannel ignored = FileChannel.open(file, StandardOpenOption.WRITE))
                {
                    return System.nanoTime();
                }
                catch (final Exception ex)
                {
                    throw new IllegalStateException(ex);
                }
            });
            Thread.sleep(300);
            assertFalse(writerOpened.isDone(), "a writer got in while the read lease was held");
            final long releasedNs = System.nanoTime();
            Linux.releaseLease(fd);
            final long openedNs = writerOpened.get(10, TimeUnit.SECONDS);
            assertTrue(openedNs >= releasedNs, "writer opened before the lease was dropped");
            assertTrue(openedNs - startNs >= TimeUnit.MILLISECONDS.toNanos(300));
        }
        finally
        {
            Linux.close(fd);
        }
    }

    @Test
    void noLeaseWhileTheFileIsOpenForWriting() throws Exception
    {
        final Path file = dir.resolve("busy");
        Files.write(file, new byte[]{1});
        try (FileChannel writer = FileChannel.open(file, StandardOpenOption.WRITE))
        {
            final int fd = Linux.openFile(file.toString(), Linux.O_RDONLY);
            try
            {
                assertFalse(Linux.tryReadLease(fd));
            }
            finally
            {
                Linux.close(fd);
            }
        }
        final int fd = Linux.openFile(file.toString(), Linux.O_RDONLY);
        try
        {
            assertTrue(Linux.tryReadLease(fd), "lease refused after the writer closed");
            Linux.releaseLease(fd);
        }
        finally
        {
            Linux.close(fd);
        }
    }
}
