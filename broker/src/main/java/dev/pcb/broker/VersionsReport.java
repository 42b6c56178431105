package dev.pcb.broker;

/**
 * The text of a share's {@code versions-SHARE} file, read by {@code pcb versions} (docs/versions.md): one line per
 * field, space-separated, the path last on its line so it may hold spaces.
 * <pre>
 *   epoch 1733090000000
 *   share data
 *   link /srv/current                      (absent for a plain directory)
 *   current 3
 *   advances 12
 *   bad-flips 1
 *   in-use 2
 *   version 1 sessions 0 handles 0 unused /srv/releases/41
 *   user 3 guest g1 slot 0 pid 4242 session yes handles 5
 * </pre>
 * Each {@code user} line names a client on the {@code version} line before it: its session is on it, or it has
 * handles open under it, or both.
 */
final class VersionsReport
{
    private VersionsReport()
    {
    }

    static String build(final long epoch, final Share share, final GuestControl[] guests)
    {
        final ShareTree tree = share.tree();
        final StringBuilder out = new StringBuilder(256);
        out.append("epoch ").append(epoch).append('\n');
        out.append("share ").append(share.name()).append('\n');
        if (tree.isVersioned())
        {
            out.append("link ").append(tree.link()).append('\n');
        }
        out.append("current ").append(tree.current().number()).append('\n');
        out.append("advances ").append(tree.advances()).append('\n');
        out.append("bad-flips ").append(tree.badFlips()).append('\n');
        out.append("in-use ").append(tree.versionsInUse()).append('\n');
        for (final TreeVersion version : tree.versions())
        {
            out.append("version ").append(version.number())
                .append(" sessions ").append(version.sessions())
                .append(" handles ").append(version.handles())
                .append(version == tree.current() ? " current " : version.isUnused() ? " unused " : " used ")
                .append(version.path()).append('\n');
            for (final GuestControl guest : guests)
            {
                for (final ClientSession session : guest.sessions())
                {
                    if (!session.isActive())
                    {
                        continue;
                    }
                    int handles = 0;
                    for (final Handle handle : session.handles().values())
                    {
                        if (handle.tree() == version)
                        {
                            handles++;
                        }
                    }
                    final boolean on = session.tree(share) == version;
                    if (on || handles > 0)
                    {
                        out.append("user ").append(version.number())
                            .append(" guest ").append(guest.name())
                            .append(" slot ").append(session.slotIndex())
                            .append(" pid ").append(session.pid())
                            .append(" session ").append(on ? "yes" : "no")
                            .append(" handles ").append(handles).append('\n');
                    }
                }
            }
        }
        return out.toString();
    }
}
