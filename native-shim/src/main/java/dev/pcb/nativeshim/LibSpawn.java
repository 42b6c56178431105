package dev.pcb.nativeshim;

import com.sun.jna.Native;
import com.sun.jna.NativeLibrary;
import com.sun.jna.Platform;

/**
 * Direct-mapped glibc {@code posix_spawn} entry points, apart from {@link LibC} because
 * {@code posix_spawn_file_actions_addclosefrom_np} needs glibc 2.34: an older C library then fails only
 * {@link Linux#spawn}, not every call of this module. Pointers as {@code long} addresses, as in {@link LibC};
 * these functions return the error number instead of setting errno.
 */
final class LibSpawn
{
    /** Bytes of a {@code posix_spawn_file_actions_t} (80 on LP64 glibc), with room to spare. */
    static final int FILE_ACTIONS_SIZE = 128;

    static
    {
        Native.register(LibSpawn.class, NativeLibrary.getInstance(Platform.C_LIBRARY_NAME));
    }

    private LibSpawn()
    {
    }

    static native int posix_spawn(int[] pid, byte[] path, long fileActions, long attributes, long argv, long envp);

    static native int posix_spawn_file_actions_init(long fileActions);

    static native int posix_spawn_file_actions_destroy(long fileActions);

    static native int posix_spawn_file_actions_adddup2(long fileActions, int fd, int newFd);

    static native int posix_spawn_file_actions_addclosefrom_np(long fileActions, int from);
}
