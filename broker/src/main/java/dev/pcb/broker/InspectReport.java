package dev.pcb.broker;

import dev.pcb.layout.WindowDescriptor;
import org.agrona.collections.Long2LongHashMap;

import java.util.ArrayList;
import java.util.List;

/**
 * A text report of what holds memory: per share the windows by state and the file versions with their handles and
 * windows; per guest the clients with their open files and pins. Built on the conductor thread, on request, so it
 * sees a consistent state.
 */
final class InspectReport
{
    private InspectReport()
    {
    }

    static String build(final long epoch, final List<Share> shares, final GuestControl[] guests)
    {
        final StringBuilder sb = new StringBuilder();
        sb.append("broker epoch ").append(epoch).append('\n');
        for (final Share share : shares)
        {
            final WindowTable table = share.windows();
            int filling = 0;
            int ready = 0;
            for (int i = 0; i < table.count(); i++)
            {
                if (WindowDescriptor.STATE_FILLING == table.state(i))
                {
                    filling++;
                }
                else if (WindowDescriptor.STATE_READY == table.state(i))
                {
                    ready++;
                }
            }
            sb.append("share ").append(share.name()).append(": windows total=").append(table.count())
                .append(" free=").append(table.freeCount())
                .append(" filling=").append(filling)
                .append(" ready=").append(ready)
                .append(" pinned=").append(table.pinnedCount())
                .append(" evictions=").append(table.evictions())
                .append(" versions=").append(share.catalog().versionCount())
                .append(" paths=").append(share.catalog().pathCount()).append('\n');
            final List<FileVersion> versions = new ArrayList<>();
            share.catalog().versions().forEach(versions::add);
            versions.sort((a, b) -> Long.compare(a.id(), b.id()));
            for (final FileVersion version : versions)
            {
                sb.append("  version ").append(version.id())
                    .append(' ').append(version.path())
                    .append(" size=").append(version.size())
                    .append(" handles=").append(version.handles())
                    .append(" windows=").append(version.windowCount())
                    .append(version.isStale() ? " STALE" : "")
                    .append(version.isSuperseded() ? " superseded" : "")
                    .append('\n');
            }
        }
        for (final GuestControl guest : guests)
        {
            int clients = 0;
            for (final ClientSession session : guest.sessions())
            {
                clients += session.isActive() ? 1 : 0;
            }
            sb.append("guest ").append(guest.name()).append(": clients=").append(clients);
            final String doorbell = guest.doorbellState();
            if (null != doorbell)
            {
                sb.append(" doorbell=").append(doorbell);
            }
            sb.append('\n');
            for (final ClientSession session : guest.sessions())
            {
                if (!session.isActive())
                {
                    continue;
                }
                sb.append("  slot ").append(session.slotIndex())
                    .append(" pid=").append(session.pid())
                    .append(" handles=").append(session.handles().size())
                    .append(" pins=").append(session.pinCount())
                    .append(" requests=").append(session.requestCount()).append('\n');
                for (final Handle handle : session.handles().values())
                {
                    long pins = 0;
                    final Long2LongHashMap.ValueIterator it = handle.pins().values().iterator();
                    while (it.hasNext())
                    {
                        pins += it.nextValue();
                    }
                    sb.append("    handle ").append(handle.id())
                        .append(' ').append(handle.version().share().name()).append('/').append(handle.version().path())
                        .append(" version=").append(handle.version().id())
                        .append(" pins=").append(pins).append('\n');
                }
            }
        }
        return sb.toString();
    }
}
