package dev.pcb.nativeshim;

import com.sun.jna.Memory;
import com.sun.jna.Native;
import com.sun.jna.NativeLibrary;
import com.sun.jna.Platform;
import com.sun.jna.Pointer;

import java.nio.charset.StandardCharsets;

/**
 * The sending side of a UNIX stream socket that passes file descriptors: {@code socket}, {@code bind},
 * {@code listen}, {@code accept4} and {@code sendmsg} with one {@code SCM_RIGHTS} descriptor per message, as an
 * ivshmem server speaks to QEMU (QEMU's {@code docs/specs/ivshmem-spec.rst}: each message one little-endian int64,
 * some with a descriptor). Receiving descriptors is not here. Descriptors are close-on-exec; the caller closes them
 * ({@link Linux#close}). Linux on x86_64 and aarch64 (LP64 layouts below).
 * <pre>
 *   struct msghdr (56 bytes)              struct cmsghdr + one int (CMSG_SPACE(4) = 24 bytes)
 *    0: void *msg_name        = 0          0: size_t cmsg_len   = CMSG_LEN(4) = 20
 *    8: socklen_t msg_namelen = 0          8: int cmsg_level    = SOL_SOCKET
 *   16: struct iovec *msg_iov              12: int cmsg_type    = SCM_RIGHTS
 *   24: size_t msg_iovlen     = 1          16: int fd
 *   32: void *msg_control (or 0)
 *   40: size_t msg_controllen (24 or 0)
 *   48: int msg_flags
 * </pre>
 */
public final class UnixSocketServer
{
    private static final int AF_UNIX = 1;
    private static final int SOCK_STREAM = 1;
    private static final int SOCK_CLOEXEC = 02000000;
    private static final int SOL_SOCKET = 1;
    private static final int SCM_RIGHTS = 1;
    private static final int MSG_NOSIGNAL = 0x4000;
    private static final int SUN_PATH_LENGTH = 108;
    private static final int SOCKADDR_UN_LENGTH = 2 + SUN_PATH_LENGTH;
    private static final int MSGHDR_LENGTH = 56;
    private static final int CMSG_SPACE_ONE_FD = 24;
    private static final int CMSG_LEN_ONE_FD = 20;
    private static final int EINTR = 4;

    static
    {
        Native.register(UnixSocketServer.class, NativeLibrary.getInstance(Platform.C_LIBRARY_NAME));
    }

    private UnixSocketServer()
    {
    }

    private static native int socket(int domain, int type, int protocol);

    private static native int bind(int fd, byte[] address, int length);

    private static native int listen(int fd, int backlog);

    private static native int accept4(int fd, long address, long length, int flags);

    private static native long sendmsg(int fd, long message, int flags);

    /**
     * A listening socket bound to a path (which must not exist: unlink a stale one first).
     *
     * @param path    absolute path of the socket, at most 107 bytes in UTF-8.
     * @param backlog connections queued before {@link #accept}.
     * @return the listening descriptor.
     * @throws ErrnoException e.g. EADDRINUSE when the path exists, ENAMETOOLONG for a long path.
     */
    public static int listen(final String path, final int backlog) throws ErrnoException
    {
        final byte[] name = path.getBytes(StandardCharsets.UTF_8);
        if (name.length >= SUN_PATH_LENGTH)
        {
            throw new ErrnoException("bind", path, Errno.ENAMETOOLONG);
        }
        final byte[] address = new byte[SOCKADDR_UN_LENGTH];
        address[0] = AF_UNIX;
        System.arraycopy(name, 0, address, 2, name.length);
        final int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
        {
            throw new ErrnoException("socket", "AF_UNIX", Native.getLastError());
        }
        if (0 != bind(fd, address, 2 + name.length + 1))
        {
            final int errno = Native.getLastError();
            Linux.close(fd);
            throw new ErrnoException("bind", path, errno);
        }
        if (0 != listen(fd, backlog))
        {
            final int errno = Native.getLastError();
            Linux.close(fd);
            throw new ErrnoException("listen", path, errno);
        }
        return fd;
    }

    /**
     * Wait for the next connection.
     *
     * @param listeningFd from {@link #listen(String, int)}.
     * @return the connected descriptor, close-on-exec.
     * @throws ErrnoException e.g. EBADF or EINVAL once the listening socket is shut down or closed.
     */
    public static int accept(final int listeningFd) throws ErrnoException
    {
        while (true)
        {
            final int fd = accept4(listeningFd, 0, 0, SOCK_CLOEXEC);
            if (fd >= 0)
            {
                return fd;
            }
            final int errno = Native.getLastError();
            if (EINTR != errno)
            {
                throw new ErrnoException("accept4", "fd " + listeningFd, errno);
            }
        }
    }

    /**
     * Sends messages of one int64 each, with or without a descriptor. Its native arguments are allocated once.
     * Not thread safe.
     */
    public static final class Sender
    {
        private final Memory message = new Memory(MSGHDR_LENGTH);
        private final Memory iov = new Memory(16);
        private final Memory payload = new Memory(8);
        private final Memory control = new Memory(CMSG_SPACE_ONE_FD);

        /** Prepare the native arguments. */
        public Sender()
        {
            message.clear();
            control.clear();
            iov.setLong(0, Pointer.nativeValue(payload));
            iov.setLong(8, 8);
            message.setLong(16, Pointer.nativeValue(iov));
            message.setLong(24, 1);
            control.setLong(0, CMSG_LEN_ONE_FD);
            control.setInt(8, SOL_SOCKET);
            control.setInt(12, SCM_RIGHTS);
        }

        /**
         * Send one little-endian int64, with a descriptor when {@code fd} is not negative. A peer that has gone
         * fails the call (EPIPE), never signals the process.
         *
         * @param socketFd a connected stream socket.
         * @param value    the number.
         * @param fd       a descriptor to pass (the receiver gets its own copy), or -1.
         * @throws ErrnoException e.g. EPIPE when the peer closed the connection.
         */
        public void send(final int socketFd, final long value, final int fd) throws ErrnoException
        {
            // Native byte order is little-endian on both supported architectures, as the protocol wants.
            payload.setLong(0, value);
            if (fd >= 0)
            {
                control.setInt(16, fd);
                message.setLong(32, Pointer.nativeValue(control));
                message.setLong(40, CMSG_SPACE_ONE_FD);
            }
            else
            {
                message.setLong(32, 0);
                message.setLong(40, 0);
            }
            while (true)
            {
                final long sent = sendmsg(socketFd, Pointer.nativeValue(message), MSG_NOSIGNAL);
                if (8 == sent)
                {
                    return;
                }
                final int errno = Native.getLastError();
                if (sent < 0 && EINTR == errno)
                {
                    continue;
                }
                // A stream socket sends 8 bytes whole or fails: a short count would be a kernel oddity, not retried.
                throw new ErrnoException("sendmsg", "fd " + socketFd + ", " + (sent < 0 ? "failed" : sent + " bytes"),
                    sent < 0 ? errno : Errno.EIO);
            }
        }
    }
}
