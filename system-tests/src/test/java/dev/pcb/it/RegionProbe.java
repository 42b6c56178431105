package dev.pcb.it;

import dev.pcb.layout.DataRegionDescriptor;
import dev.pcb.layout.RunDirectory;
import dev.pcb.layout.WindowDescriptor;
import dev.pcb.nativeshim.MappedRegion;
import org.agrona.concurrent.UnsafeBuffer;

import java.io.IOException;
import java.nio.file.Path;
import java.util.function.LongPredicate;

/**
 * Reads a share's window descriptor table from the host, as an operator could: which windows hold which version.
 */
final class RegionProbe
{
    private RegionProbe()
    {
    }

    /**
     * Windows READY or FILLING with bytes of a version.
     */
    static int windowsOf(final Path runDir, final String share, final long versionId) throws IOException
    {
        return count(runDir, share, (id) -> id == versionId);
    }

    /**
     * Windows not FREE.
     */
    static int usedWindows(final Path runDir, final String share) throws IOException
    {
        return count(runDir, share, (id) -> true);
    }

    private static int count(final Path runDir, final String share, final LongPredicate versionMatches)
        throws IOException
    {
        int count = 0;
        try (MappedRegion region = MappedRegion.map(RunDirectory.dataRegionFile(runDir, share), false))
        {
            final UnsafeBuffer header = new UnsafeBuffer(region.address(), DataRegionDescriptor.SUPERBLOCK_LENGTH);
            final int windows = header.getInt(DataRegionDescriptor.WINDOW_COUNT_OFFSET);
            final UnsafeBuffer table = new UnsafeBuffer(
                region.address(), DataRegionDescriptor.descriptorOffset(windows));
            for (int i = 0; i < windows; i++)
            {
                final int at = DataRegionDescriptor.descriptorOffset(i);
                if (WindowDescriptor.STATE_FREE != table.getIntVolatile(at + WindowDescriptor.STATE_OFFSET) &&
                    versionMatches.test(table.getLong(at + WindowDescriptor.FILE_VERSION_ID_OFFSET)))
                {
                    count++;
                }
            }
        }
        return count;
    }
}
