package dev.pcb.fs;

/**
 * Whether the guest's page cache keeps file data read through the mount.
 */
public enum CacheMode
{
    /** Every open is FOPEN_DIRECT_IO: no copy in the guest; only mmap and exec fill the page cache. */
    NONE,
    /** FOPEN_KEEP_CACHE for files opened by execve, with an execute bit, or named like a shared library. */
    EXEC,
    /** FOPEN_KEEP_CACHE for every file: one copy per guest, kept across opens (a node's bytes never change). */
    ALL
}
