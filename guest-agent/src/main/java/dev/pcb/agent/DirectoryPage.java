package dev.pcb.agent;

import java.util.List;

/**
 * One page of a directory listing.
 *
 * @param entries    the entries, in the host's directory order.
 * @param nextCookie cookie to pass for the next page, or -1 after the last page.
 */
public record DirectoryPage(List<DirEntry> entries, long nextCookie)
{
    /** @return true when no page follows. */
    public boolean isLast()
    {
        return nextCookie < 0;
    }
}
