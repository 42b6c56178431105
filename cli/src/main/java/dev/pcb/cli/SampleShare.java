package dev.pcb.cli;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.SplittableRandom;

/**
 * The demo's sample share: a few documents, some binary files of different sizes (one larger than the demo's
 * region), an empty file and a sparse one. Deterministic, so a second run reuses it.
 */
final class SampleShare
{
    static final long REGION_SIZE = 64L << 20;

    private SampleShare()
    {
    }

    static void create(final Path root) throws IOException
    {
        final Path marker = root.resolve(".complete");
        if (Files.exists(marker))
        {
            return;
        }
        Files.createDirectories(root.resolve("docs"));
        Files.createDirectories(root.resolve("data"));
        Files.writeString(root.resolve("README.txt"),
            "This is pcb's demo share. Every guest reads these files through one copy in shared memory.\n",
            StandardCharsets.UTF_8);
        final SplittableRandom random = new SplittableRandom(42);
        for (int i = 0; i < 24; i++)
        {
            final StringBuilder text = new StringBuilder();
            final int lines = 20 + random.nextInt(400);
            for (int line = 0; line < lines; line++)
            {
                text.append("doc ").append(i).append(" line ").append(line).append(": ")
                    .append(Long.toHexString(random.nextLong())).append('\n');
            }
            Files.writeString(root.resolve("docs/note-" + i + ".txt"), text, StandardCharsets.UTF_8);
        }
        random(root.resolve("data/one-window.bin"), 2L << 20, random);
        random(root.resolve("data/model-48m.bin"), 48L << 20, random);
        random(root.resolve("data/larger-than-region-96m.bin"), 96L << 20, random);
        Files.createFile(root.resolve("data/empty"));
        try (FileChannel sparse = FileChannel.open(root.resolve("data/sparse-32m.img"),
            StandardOpenOption.CREATE, StandardOpenOption.WRITE))
        {
            sparse.write(ByteBuffer.wrap("start".getBytes(StandardCharsets.US_ASCII)), 0);
            sparse.write(ByteBuffer.wrap("middle".getBytes(StandardCharsets.US_ASCII)), 16L << 20);
            sparse.write(ByteBuffer.wrap("end".getBytes(StandardCharsets.US_ASCII)), (32L << 20) - 3);
        }
        Files.createFile(marker);
    }

    static void random(final Path file, final long size, final SplittableRandom random) throws IOException
    {
        final byte[] chunk = new byte[1 << 20];
        try (OutputStream out = Files.newOutputStream(file))
        {
            for (long written = 0; written < size; written += chunk.length)
            {
                for (int i = 0; i < chunk.length; i += 8)
                {
                    final long v = random.nextLong();
                    for (int b = 0; b < 8; b++)
                    {
                        chunk[i + b] = (byte)(v >>> (8 * b));
                    }
                }
                out.write(chunk, 0, (int)Math.min(chunk.length, size - written));
            }
        }
    }
}
