package dev.pcb.it;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.SplittableRandom;

/**
 * The host writer of the torture test, a process of its own: for a fixed time it rewrites files in place, replaces
 * them by rename, deletes and recreates them, appends and truncates-and-rewrites through rename. Every version it
 * leaves carries its id and checksum ({@link TortureFormat}).
 * <p>
 * Arguments: directory, file count, seconds, max body size. Prints the operation counts at the end.
 */
public final class TortureWriter
{
    private TortureWriter()
    {
    }

    /**
     * Run the writer.
     *
     * @param args directory, file count, seconds, max body size.
     * @throws IOException on failure.
     */
    public static void main(final String[] args) throws IOException
    {
        final Path dir = Path.of(args[0]);
        final int files = Integer.parseInt(args[1]);
        final long endNs = System.nanoTime() + Long.parseLong(args[2]) * 1_000_000_000L;
        final int maxBody = Integer.parseInt(args[3]);
        final SplittableRandom random = new SplittableRandom(System.nanoTime());
        long version = 1_000;
        for (int i = 0; i < files; i++)
        {
            replace(dir, i, ++version, body(random, maxBody));
        }
        System.out.println("initialized");
        System.out.flush();

        final long[] ops = new long[5];
        while (System.nanoTime() < endNs)
        {
            final int i = random.nextInt(files);
            final int op = random.nextInt(5);
            final byte[] body = body(random, maxBody);
            ++version;
            switch (op)
            {
                case 0: rewriteInPlace(file(dir, i), version, body); break;
                case 1: replace(dir, i, version, body); break;
                case 2:
                    Files.deleteIfExists(file(dir, i));
                    createDirect(file(dir, i), version, body);
                    break;
                case 3: append(file(dir, i), version, body); break;
                default: replace(dir, i, version, java.util.Arrays.copyOf(body, Math.max(1, body.length / 4))); break;
            }
            ops[op]++;
            if (random.nextInt(4) == 0)
            {
                Thread.onSpinWait();
            }
        }
        System.out.println("writer ops: in-place=" + ops[0] + " rename=" + ops[1] + " delete-recreate=" + ops[2] +
            " append=" + ops[3] + " truncate-rename=" + ops[4] + " versions=" + (version - 1_000));
    }

    static Path file(final Path dir, final int i)
    {
        return dir.resolve("t" + i + ".bin");
    }

    private static byte[] body(final SplittableRandom random, final int maxBody)
    {
        final byte[] body = new byte[1 + random.nextInt(maxBody)];
        random.nextBytes(body);
        return body;
    }

    private static void replace(final Path dir, final int i, final long version, final byte[] body) throws IOException
    {
        final Path tmp = dir.resolve(".t" + i + ".tmp");
        try (FileChannel out = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
            StandardOpenOption.TRUNCATE_EXISTING))
        {
            writeFully(out, body, 0);
            writeFully(out, TortureFormat.trailer(version, body, body.length), body.length);
        }
        Files.move(tmp, file(dir, i), StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    private static void createDirect(final Path file, final long version, final byte[] body) throws IOException
    {
        try (FileChannel out = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
            StandardOpenOption.TRUNCATE_EXISTING))
        {
            writeFully(out, body, 0);
            writeFully(out, TortureFormat.trailer(version, body, body.length), body.length);
        }
    }

    private static void rewriteInPlace(final Path file, final long version, final byte[] body) throws IOException
    {
        try (FileChannel out = FileChannel.open(file, StandardOpenOption.WRITE))
        {
            writeFully(out, body, 0);
            writeFully(out, TortureFormat.trailer(version, body, body.length), body.length);
            out.truncate(body.length + TortureFormat.TRAILER);
        }
        catch (final NoSuchFileException ex)
        {
            createDirect(file, version, body);
        }
    }

    private static void append(final Path file, final long version, final byte[] extra) throws IOException
    {
        final byte[] old;
        try
        {
            old = Files.readAllBytes(file);
        }
        catch (final NoSuchFileException ex)
        {
            createDirect(file, version, extra);
            return;
        }
        final byte[] body = java.util.Arrays.copyOf(old, old.length + extra.length);
        System.arraycopy(extra, 0, body, old.length, extra.length);
        try (FileChannel out = FileChannel.open(file, StandardOpenOption.WRITE, StandardOpenOption.APPEND))
        {
            final byte[] tail = java.util.Arrays.copyOf(extra, extra.length + TortureFormat.TRAILER);
            System.arraycopy(TortureFormat.trailer(version, body, body.length), 0, tail, extra.length,
                TortureFormat.TRAILER);
            writeFully(out, tail, -1);
        }
    }

    private static void writeFully(final FileChannel out, final byte[] bytes, final long position) throws IOException
    {
        final ByteBuffer buffer = ByteBuffer.wrap(bytes);
        long at = position;
        while (buffer.hasRemaining())
        {
            final int n = at < 0 ? out.write(buffer) : out.write(buffer, at);
            if (at >= 0)
            {
                at += n;
            }
        }
    }
}
