package dev.pcb.agent;

/**
 * One entry of a directory listing.
 *
 * @param name entry name, no slashes.
 * @param type a {@link dev.pcb.protocol.FileType} constant.
 * @param size size in bytes as the host saw it when listing.
 */
public record DirEntry(String name, int type, long size)
{
}
