package dev.pcb.testsupport;

import dev.pcb.agent.WindowView;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

/**
 * Files of the sizes where windowed readers break: empty, one byte, around one window, several and a half, sparse,
 * larger than the whole region, and a small tree.
 */
public final class TestShare
{
    /** Window size the tests run the broker with. */
    public static final int WINDOW = 64 * 1024;
    /** Region size the tests run the broker with: 1 MiB holds 15 windows of 64 KiB. */
    public static final long REGION = 1024 * 1024;

    private final Path root;
    private final Map<String, Path> files = new LinkedHashMap<>();

    private TestShare(final Path root)
    {
        this.root = root;
    }

    /**
     * Write the standard set of files under a root.
     *
     * @param root share directory.
     * @return the share.
     * @throws IOException on failure.
     */
    public static TestShare create(final Path root) throws IOException
    {
        final TestShare share = new TestShare(root);
        final SplittableRandom random = new SplittableRandom(7);
        share.random("empty", 0, random);
        share.random("one-byte", 1, random);
        share.random("window-minus-1", WINDOW - 1, random);
        share.random("window", WINDOW, random);
        share.random("window-plus-1", WINDOW + 1, random);
        share.random("three-and-a-half", 3 * WINDOW + WINDOW / 2, random);
        share.random("larger-than-region", (int)(2 * REGION + 12345), random);
        share.random("tree/a/b/deep.bin", 5000, random);
        share.random("tree/a/small.txt", 300, random);
        share.random("tree/c/other.bin", WINDOW * 2 + 7, random);
        final Path sparse = root.resolve("sparse.img");
        try (FileChannel ch = FileChannel.open(sparse, StandardOpenOption.CREATE, StandardOpenOption.WRITE))
        {
            ch.write(ByteBuffer.wrap(new byte[]{1, 2, 3}), 0);
            ch.write(ByteBuffer.wrap(new byte[]{4, 5, 6}), 5L * WINDOW + 100);
            ch.write(ByteBuffer.wrap(new byte[]{7}), 8L * WINDOW - 1);
        }
        share.files.put("sparse.img", sparse);
        return share;
    }

    private void random(final String name, final int size, final SplittableRandom random) throws IOException
    {
        final byte[] bytes = new byte[size];
        random.nextBytes(bytes);
        final Path file = root.resolve(name);
        Files.createDirectories(file.getParent());
        Files.write(file, bytes);
        files.put(name, file);
    }

    /**
     * A tree of small files, 0 to 3999 bytes, 100 to a directory, written fast (one shared random buffer).
     *
     * @param root  directory to fill.
     * @param files how many files.
     * @param seed  random seed.
     * @return total bytes written.
     * @throws IOException on failure.
     */
    public static long smallFileTree(final Path root, final int files, final long seed) throws IOException
    {
        final SplittableRandom random = new SplittableRandom(seed);
        final byte[] pool = new byte[1 << 16];
        random.nextBytes(pool);
        long total = 0;
        for (int i = 0; i < files; i++)
        {
            final Path dir = root.resolve("d" + (i / 5000)).resolve("s" + (i / 100));
            if (0 == i % 100)
            {
                Files.createDirectories(dir);
            }
            final int size = random.nextInt(4000);
            final int from = random.nextInt(pool.length - size);
            pool[from] = (byte)i;
            Files.write(dir.resolve("f" + i), Arrays.copyOfRange(pool, from, from + size));
            total += size;
        }
        return total;
    }

    /** @return the root directory. */
    public Path root()
    {
        return root;
    }

    /** @return relative name to host path, for every file. */
    public Map<String, Path> files()
    {
        return files;
    }

    /**
     * Assert that a view holds exactly the bytes of the source file at its offset.
     *
     * @param source the whole file as written.
     * @param view   a held view of it.
     */
    public static void assertView(final byte[] source, final WindowView view)
    {
        final byte[] got = new byte[view.length()];
        view.buffer().getBytes(0, got);
        final int from = (int)view.fileOffset();
        assertArrayEquals(Arrays.copyOfRange(source, from, from + got.length), got,
            "window at " + from + " of region window " + view.regionWindow());
    }

    /**
     * SHA-256 of a host file, hex.
     *
     * @param file host file.
     * @return hex digest.
     * @throws IOException on failure.
     */
    public static String sha256(final Path file) throws IOException
    {
        return sha256(Files.readAllBytes(file));
    }

    /**
     * SHA-256 of bytes, hex.
     *
     * @param bytes data.
     * @return hex digest.
     */
    public static String sha256(final byte[] bytes)
    {
        try
        {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        }
        catch (final NoSuchAlgorithmException ex)
        {
            throw new IllegalStateException(ex);
        }
    }
}
