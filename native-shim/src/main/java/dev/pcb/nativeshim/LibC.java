package dev.pcb.nativeshim;

import com.sun.jna.Native;
import com.sun.jna.NativeLibrary;
import com.sun.jna.Platform;

/**
 * Direct-mapped glibc entry points.
 * <p>
 * Pointers are passed as {@code long} addresses and sizes as {@code long}: exact on LP64 (x86_64, aarch64) and it
 * keeps JNA from allocating a {@code Pointer} per call. Variadic functions ({@code openat}, {@code syscall}) are
 * declared with fixed arguments, which both supported ABIs pass identically. errno is read afterwards with
 * {@link Native#getLastError()}, which JNA captures right after the native call, before the JVM can clobber it.
 */
final class LibC
{
    static
    {
        Native.register(LibC.class, NativeLibrary.getInstance(Platform.C_LIBRARY_NAME));
    }

    private LibC()
    {
    }

    static native int openat(int dirFd, byte[] path, int flags, int mode);

    static native long syscall(long number, long dirFd, byte[] path, long[] how, long size);

    static native int close(int fd);

    static native int statx(int dirFd, byte[] path, int flags, int mask, byte[] statx);

    static native long pread(int fd, long address, long count, long offset);

    static native long pwrite(int fd, long address, long count, long offset);

    static native int posix_fadvise(int fd, long offset, long length, int advice);

    static native int madvise(long address, long length, int advice);

    static native long mmap(long address, long length, int prot, int flags, int fd, long offset);

    static native int munmap(long address, long length);

    static native int mlock(long address, long length);

    static native int munlock(long address, long length);

    static native int mincore(long address, long length, byte[] vector);

    static native int fallocate(int fd, int mode, long offset, long length);

    static native int ftruncate(int fd, long length);

    static native int memfd_create(byte[] name, int flags);

    static native int unlinkat(int dirFd, byte[] path, int flags);

    static native int fstatfs(int fd, byte[] statfs);

    static native long sysconf(int name);

    static native int getpid();

    static native int geteuid();

    static native int kill(int pid, int signal);

    static native int fcntl(int fd, int cmd, long arg);

    static native long lseek(int fd, long offset, int whence);

    static native long getdents64(int fd, long address, long count);

    static native long signal(int signal, long handler);

    static native long read(int fd, long address, long count);

    static native long writev(int fd, long[] iov, int iovcnt);

    static native long process_vm_readv(int pid, long[] local, long localCount, long[] remote, long remoteCount,
        long flags);

    static native int mount(byte[] source, byte[] target, byte[] type, long flags, byte[] data);

    static native int umount2(byte[] target, int flags);

    static native int getuid();

    static native long readlinkat(int dirFd, byte[] path, byte[] buffer, long size);

    static native int socketpair(int domain, int type, int protocol, int[] fds);

    static native long sendmsg(int fd, long message, int flags);

    static native long recvmsg(int fd, long message, int flags);

    static native int waitpid(int pid, int[] status, int options);
}
