package dev.pcb.agent;

import dev.pcb.protocol.FileAttributes;

/**
 * One entry of a directory listing, with the attributes the broker stat-ed while listing.
 *
 * @param name       entry name, no slashes.
 * @param type       a {@link dev.pcb.protocol.FileType} constant.
 * @param size       size in bytes as the host saw it when listing.
 * @param attributes the entry's attributes when listed (not following a symlink), or null when it vanished between
 *                   the broker's read of the directory and its stat; owned by this entry, never changed.
 */
public record DirEntry(String name, int type, long size, FileAttributes attributes)
{
}
