package dev.pcb.nativeshim;

import org.junit.jupiter.api.Test;

import java.io.UncheckedIOException;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ProcessAndErrnoTest
{
    @Test
    void getpidIsThisJvm()
    {
        assertEquals(ProcessHandle.current().pid(), Linux.getpid());
    }

    @Test
    void processExistsUntilReaped() throws Exception
    {
        assertTrue(Linux.processExists(Linux.getpid()));
        assertTrue(Linux.processExists(1), "init exists, even when kill answers EPERM");

        final Process child = new ProcessBuilder("sleep", "30").start();
        final int pid = (int)child.pid();
        assertTrue(Linux.processExists(pid));
        child.destroyForcibly();
        child.waitFor();  // the JDK reaps it
        assertFalse(Linux.processExists(pid));

        assertThrows(IllegalArgumentException.class, () -> Linux.processExists(0));
    }

    @Test
    void errnoNamesAreSymbolic()
    {
        assertEquals("EXDEV", Errno.name(Errno.EXDEV));
        assertEquals("ENOENT", Errno.name(2));
        assertEquals("ENAMETOOLONG", Errno.name(Errno.ENAMETOOLONG));
        assertEquals("EMFILE", Errno.name(Errno.EMFILE));
        assertEquals("EOPNOTSUPP", Errno.name(95));
        assertEquals("EHWPOISON", Errno.name(133));
        assertEquals("errno 0", Errno.name(0));
        assertEquals("errno 41", Errno.name(41));
        assertEquals("errno 4242", Errno.name(4242));
        assertEquals("errno -1", Errno.name(-1));
        assertEquals("Invalid cross-device link", Errno.description(Errno.EXDEV));
        assertEquals("Unknown error 4242", Errno.description(4242));
    }

    @Test
    void kernelErrorsCarryErrnoAndCall()
    {
        final ErrnoException ex = assertThrows(
            ErrnoException.class, () -> Linux.openFile("/nonexistent-pcb-dir/x", Linux.O_RDONLY));
        assertEquals("open(/nonexistent-pcb-dir/x): ENOENT (No such file or directory)", ex.getMessage());
        assertEquals(Errno.ENOENT, ex.errno());
        assertEquals("open", ex.call());

        final ErrnoException notDir = assertThrows(ErrnoException.class, () -> Linux.openDirectory("/proc/self/stat"));
        assertEquals(Errno.ENOTDIR, notDir.errno());
        assertThrows(IllegalArgumentException.class, () -> Linux.openFile("relative", Linux.O_RDONLY));
    }

    @Test
    void closeOfAClosedDescriptorIsABug() throws ErrnoException
    {
        final int fd = Linux.openDirectory("/");
        Linux.close(fd);
        final IllegalStateException ex = assertThrows(IllegalStateException.class, () -> Linux.close(1_000_000));
        assertEquals("close(fd 1000000): EBADF (Bad file descriptor)", ex.getMessage());
        assertInstanceOf(ErrnoException.class, ex.getCause());
        assertFalse(UncheckedIOException.class.isInstance(ex));
    }
}
