package dev.pcb.bench;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.SplittableRandom;

/**
 * Where benchmarks keep their files: the share's source files on a real filesystem (ext4 here, as a share would
 * be), the broker's run directories on tmpfs. Both come from system properties so {@code run.sh} can give each run
 * its own directories and delete them afterwards.
 */
public final class BenchData
{
    /** System property: directory of the share's source files; should be on the filesystem a real share is on. */
    public static final String DATA_DIR_PROPERTY = "pcb.bench.data";
    /** System property: directory under which broker run directories are created; should be on /dev/shm. */
    public static final String SHM_DIR_PROPERTY = "pcb.bench.shm";

    private BenchData()
    {
    }

    /**
     * The share directory benchmarks read from.
     *
     * @return the directory, created if missing.
     * @throws IOException when it cannot be created.
     */
    public static Path dataDir() throws IOException
    {
        final String configured = System.getProperty(DATA_DIR_PROPERTY);
        final Path dir = null != configured ?
            Path.of(configured) : Path.of(System.getProperty("java.io.tmpdir"), "pcb-bench-data");
        return Files.createDirectories(dir);
    }

    /**
     * The directory broker run directories go under.
     *
     * @return the directory, created if missing.
     * @throws IOException when it cannot be created.
     */
    public static Path shmBase() throws IOException
    {
        return Files.createDirectories(Path.of(System.getProperty(SHM_DIR_PROPERTY, "/dev/shm")));
    }

    /**
     * A fresh run directory for one broker, under {@link #shmBase()}.
     *
     * @return the new, empty directory.
     * @throws IOException when it cannot be created.
     */
    public static Path newRunDir() throws IOException
    {
        return Files.createTempDirectory(shmBase(), "pcb-bench-");
    }

    /**
     * A file of pseudo-random bytes in the data directory, made once and reused by later forks of the same run.
     * Random content, so no layer can take a shortcut over zero pages.
     *
     * @param name file name.
     * @param size bytes, a multiple of 8.
     * @return the file.
     * @throws IOException when it cannot be written.
     */
    public static Path ensureFile(final String name, final long size) throws IOException
    {
        final Path file = dataDir().resolve(name);
        if (Files.isRegularFile(file) && Files.size(file) == size)
        {
            return file;
        }
        // Written to a temporary name and renamed, so a fork that dies half-way never leaves a short file that a
        // later fork would take as complete.
        final Path temp = Files.createTempFile(file.getParent(), name, ".part");
        final SplittableRandom random = new SplittableRandom(name.hashCode());
        final ByteBuffer chunk = ByteBuffer.allocateDirect(1 << 20).order(ByteOrder.LITTLE_ENDIAN);
        try (FileChannel channel = FileChannel.open(temp, StandardOpenOption.WRITE))
        {
            long written = 0;
            while (written < size)
            {
                chunk.clear();
                final int n = (int)Math.min(chunk.capacity(), size - written);
                while (chunk.position() < n)
                {
                    chunk.putLong(random.nextLong());
                }
                chunk.flip().limit(n);
                while (chunk.hasRemaining())
                {
                    written += channel.write(chunk, written);
                }
            }
            channel.force(false);
        }
        Files.move(temp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        return file;
    }
}
