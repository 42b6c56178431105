package dev.pcb.nativeshim;

import com.sun.jna.Memory;
import com.sun.jna.Native;
import com.sun.jna.NativeLibrary;
import com.sun.jna.Platform;
import com.sun.jna.Pointer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link UnixSocketServer} and {@link EventFd} as an ivshmem server uses them: a client connects, receives int64
 * messages with and without descriptors, and an eventfd passed over the socket wakes the server's poll when the
 * client writes its copy. The receiving side is a test-only {@code recvmsg} (QEMU is the real receiver).
 */
class UnixSocketServerTest
{
    @TempDir
    Path dir;

    private final Memory scratch = new Memory(8);
    private int listening = -1;
    private int accepted = -1;
    private int client = -1;
    private int eventFd = -1;
    private int received = -1;

    @AfterEach
    void closeAll()
    {
        for (final int fd : new int[]{received, eventFd, client, accepted, listening})
        {
            if (fd >= 0)
            {
                Linux.close(fd);
            }
        }
    }

    @Test
    void passesAnEventFdThatWakesThePoller() throws Exception
    {
        final String path = dir.resolve("ivshmem.sock").toString();
        listening = UnixSocketServer.listen(path, 1);
        client = Receiver.connect(path);
        accepted = UnixSocketServer.accept(listening);
        eventFd = EventFd.create();

        final UnixSocketServer.Sender sender = new UnixSocketServer.Sender();
        sender.send(accepted, 0, -1);
        sender.send(accepted, -1L, eventFd);

        final Receiver receiver = new Receiver();
        assertEquals(0, receiver.receive(client));
        assertEquals(-1, receiver.fd);
        assertEquals(-1L, receiver.receive(client));
        received = receiver.fd;
        assertTrue(received >= 0);
        assertNotEquals(eventFd, received);

        final EventFd.Poller poller = new EventFd.Poller(1);
        poller.fd(0, eventFd);
        assertEquals(0, poller.await(0));
        assertFalse(poller.ready(0));
        assertEquals(0, EventFd.drain(eventFd, scratch));

        EventFd.signal(received, scratch);
        EventFd.signal(received, scratch);
        assertEquals(1, poller.await(10_000));
        assertTrue(poller.ready(0));
        assertEquals(2, EventFd.drain(eventFd, scratch));
        assertEquals(0, poller.await(0));
    }

    @Test
    void refusesAPathInUseAndASendToAClosedPeer() throws Exception
    {
        final String path = dir.resolve("s").toString();
        listening = UnixSocketServer.listen(path, 1);
        final ErrnoException inUse = assertThrows(ErrnoException.class, () -> UnixSocketServer.listen(path, 1));
        assertEquals(98, inUse.errno(), "EADDRINUSE");

        client = Receiver.connect(path);
        accepted = UnixSocketServer.accept(listening);
        Linux.close(client);
        client = -1;
        final UnixSocketServer.Sender sender = new UnixSocketServer.Sender();
        // The first send after the peer closed may still be queued; a later one fails with EPIPE, never SIGPIPE.
        final ErrnoException gone = assertThrows(ErrnoException.class, () ->
        {
            for (int i = 0; i < 1000; i++)
            {
                sender.send(accepted, i, -1);
            }
        });
        // EPIPE (32) or ECONNRESET (104): not in Errno, which names only what the rest of pcb handles.
        assertTrue(32 == gone.errno() || 104 == gone.errno(), gone.getMessage());
    }

    /** The receiving half, for this test only: connect and recvmsg with room for one descriptor. */
    static final class Receiver
    {
        static
        {
            Native.register(Receiver.class, NativeLibrary.getInstance(Platform.C_LIBRARY_NAME));
        }

        private final Memory message = new Memory(56);
        private final Memory iov = new Memory(16);
        private final Memory payload = new Memory(8);
        private final Memory control = new Memory(24);
        int fd;

        private static native int socket(int domain, int type, int protocol);

        private static native int connect(int fd, byte[] address, int length);

        private static native long recvmsg(int fd, long message, int flags);

        static int connect(final String path) throws ErrnoException
        {
            final byte[] name = path.getBytes(java.nio.charset.StandardCharsets.UTF_8);
            final byte[] address = new byte[110];
            address[0] = 1;
            System.arraycopy(name, 0, address, 2, name.length);
            final int fd = socket(1, 1 | 02000000, 0);
            if (fd < 0 || 0 != connect(fd, address, 2 + name.length + 1))
            {
                throw new ErrnoException("connect", path, Native.getLastError());
            }
            return fd;
        }

        long receive(final int socketFd) throws ErrnoException
        {
            message.clear();
            control.clear();
            iov.setLong(0, Pointer.nativeValue(payload));
            iov.setLong(8, 8);
            message.setLong(16, Pointer.nativeValue(iov));
            message.setLong(24, 1);
            message.setLong(32, Pointer.nativeValue(control));
            message.setLong(40, 24);
            if (8 != recvmsg(socketFd, Pointer.nativeValue(message), 0x40000000))
            {
                throw new ErrnoException("recvmsg", "fd " + socketFd, Native.getLastError());
            }
            fd = message.getLong(40) >= 20 && 1 == control.getInt(8) && 1 == control.getInt(12) ? control.getInt(16) : -1;
            return payload.getLong(0);
        }
    }
}
