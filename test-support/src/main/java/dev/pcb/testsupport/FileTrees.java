package dev.pcb.testsupport;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;

/**
 * Removing directory trees pcb's tools made: run directories, sample shares, staged copies for guests.
 */
public final class FileTrees
{
    private FileTrees()
    {
    }

    /**
     * Delete a file or a directory and everything under it; nothing to do when it does not exist.
     *
     * @param root the tree.
     * @throws IOException when something in it cannot be deleted.
     */
    public static void delete(final Path root) throws IOException
    {
        if (!Files.exists(root))
        {
            return;
        }
        try (Stream<Path> paths = Files.walk(root))
        {
            for (final Path p : (Iterable<Path>)paths.sorted(Comparator.reverseOrder())::iterator)
            {
                Files.deleteIfExists(p);
            }
        }
    }
}
