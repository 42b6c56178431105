package dev.pcb.broker;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Guards on region files a broker reuses: QEMU maps them at their size, so resizing one under a running guest would
 * fault its memory.
 */
final class RegionFiles
{
    private RegionFiles()
    {
    }

    /**
     * Refuse to resize a region file that exists.
     *
     * @throws IOException naming the file, both sizes and what to do.
     */
    static void requireLengthIfExists(final Path file, final long length) throws IOException
    {
        if (Files.exists(file))
        {
            final long existing = Files.size(file);
            if (existing != length)
            {
                throw new IOException(file + " exists with " + existing + " bytes but this broker needs " + length +
                    ": guests may still map it at its old size; stop them (or give the old sizes) and remove the file");
            }
        }
    }
}
