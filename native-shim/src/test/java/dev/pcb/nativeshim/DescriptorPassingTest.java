package dev.pcb.nativeshim;

import com.sun.jna.Memory;
import com.sun.jna.Pointer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Passing descriptors with SCM_RIGHTS over a real socketpair, and starting a child that inherits exactly the
 * descriptors given, as {@code pcb mount} does with fusermount3.
 */
class DescriptorPassingTest
{
    @TempDir
    Path dir;

    @Test
    void aDescriptorSentOverASocketpairOpensTheSameFile() throws Exception
    {
        final Path file = dir.resolve("file");
        Files.writeString(file, "through the socket");
        final int[] pair = Linux.socketPair();
        final int fd = Linux.openFile(file.toString(), Linux.O_RDONLY);
        int received = -1;
        try
        {
            Linux.sendFd(pair[0], fd);
            received = Linux.receiveFd(pair[1]);
            assertNotEquals(fd, received, "a new descriptor of the same open file");
            final StatxResult sent = new StatxResult();
            final StatxResult got = new StatxResult();
            Linux.fstat(fd, sent);
            Linux.fstat(received, got);
            assertEquals(sent.inode(), got.inode());
            assertEquals(sent.device(), got.device());
            try (Memory memory = new Memory(64))
            {
                final long n = Linux.read(received, Pointer.nativeValue(memory), 64);
                assertEquals("through the socket",
                    new String(memory.getByteArray(0, (int)n), StandardCharsets.UTF_8));
            }
            assertTrue(Files.readString(Path.of("/proc/self/fdinfo/" + received)).contains("flags:\t02"),
                "received close-on-exec (O_CLOEXEC is 02000000 in fdinfo's octal flags)");
        }
        finally
        {
            Linux.close(fd);
            if (received >= 0)
            {
                Linux.close(received);
            }
            Linux.close(pair[0]);
            Linux.close(pair[1]);
        }
    }

    @Test
    void aPeerThatClosesWithoutSendingIsEndOfFile() throws Exception
    {
        final int[] pair = Linux.socketPair();
        Linux.close(pair[0]);
        try
        {
            assertEquals(-1, Linux.receiveFd(pair[1]));
        }
        finally
        {
            Linux.close(pair[1]);
        }
    }

    @Test
    void plainBytesWithoutADescriptorAreABadMessage() throws Exception
    {
        final int[] pair = Linux.socketPair();
        try
        {
            final int child = Linux.spawn("/bin/sh", new String[]{"sh", "-c", "printf x >&3"}, new String[0],
                new int[]{0, 1, 2, pair[0]});
            assertEquals(0, Linux.waitpid(child, true));
            final ErrnoException ex = assertThrows(ErrnoException.class, () -> Linux.receiveFd(pair[1]));
            assertEquals(Errno.EBADMSG, ex.errno());
        }
        finally
        {
            Linux.close(pair[0]);
            Linux.close(pair[1]);
        }
    }

    @Test
    void aSpawnedChildHasExactlyTheDescriptorsGivenAndItsEnvironment() throws Exception
    {
        final Path out = dir.resolve("out");
        final int outFd = Linux.openFile(out.toString(), Linux.O_WRONLY | Linux.O_CREAT);
        final int[] pair = Linux.socketPair();
        // A descriptor of this process the child must not get: nothing but 0-3 may be open in it.
        final int extra = Linux.openFile("/dev/null", Linux.O_RDONLY);
        try
        {
            final int child = Linux.spawn("/bin/sh",
                new String[]{"sh", "-c", "printf \"$GREETING\" >&3; ls /proc/self/fd; exit 7"},
                new String[]{"GREETING=hello", "PATH=/usr/bin:/bin"}, new int[]{0, outFd, outFd, pair[0]});
            Linux.close(pair[0]);
            pair[0] = -1;
            assertEquals(7, Linux.waitpid(child, true));
            try (Memory memory = new Memory(16))
            {
                assertEquals(5, Linux.read(pair[1], Pointer.nativeValue(memory), 16));
                assertEquals("hello", new String(memory.getByteArray(0, 5), StandardCharsets.UTF_8));
                assertEquals(0, Linux.read(pair[1], Pointer.nativeValue(memory), 16), "the child's end is closed");
            }
            // ls lists 0-3 and the descriptor it opened on /proc/self/fd itself.
            final String[] listed = Files.readString(out).trim().split("\\s+");
            assertEquals(5, listed.length, String.join(" ", listed));
            assertEquals("0 1 2 3", String.join(" ", listed[0], listed[1], listed[2], listed[3]));
        }
        finally
        {
            Linux.close(outFd);
            Linux.close(extra);
            if (pair[0] >= 0)
            {
                Linux.close(pair[0]);
            }
            Linux.close(pair[1]);
        }
    }

    @Test
    void aMissingProgramAndASignalAreReported() throws Exception
    {
        final ErrnoException missing = assertThrows(ErrnoException.class,
            () -> Linux.spawn("/nonexistent/program", new String[]{"program"}, new String[0], new int[]{0, 1, 2}));
        assertEquals(Errno.ENOENT, missing.errno());

        final int child = Linux.spawn("/bin/sh", new String[]{"sh", "-c", "kill -TERM $$"}, new String[0],
            new int[]{0, 1, 2});
        assertEquals(128 + 15, Linux.waitpid(child, true));
        assertEquals(Errno.ECHILD,
            assertThrows(ErrnoException.class, () -> Linux.waitpid(child, true)).errno());
    }
}
