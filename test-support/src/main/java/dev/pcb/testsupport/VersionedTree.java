package dev.pcb.testsupport;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/**
 * A versioned share as a host publisher makes one (docs/versions.md): version directories {@code releases/N} and the
 * link {@code current} flipped between them by rename. Every file's bytes name its version, so a reader can tell
 * which version each file came from and whether one walk mixed versions.
 */
public final class VersionedTree
{
    /** Directories per version. */
    public static final int DIRECTORIES = 10;
    /** Files per directory. */
    public static final int FILES_PER_DIRECTORY = 20;

    private final Path base;
    private final Path link;

    /**
     * @param base where {@code releases/} and {@code current} live.
     */
    public VersionedTree(final Path base)
    {
        this.base = base;
        this.link = base.resolve("current");
    }

    /** @return the link to configure as the share. */
    public Path link()
    {
        return link;
    }

    /** @return the directory of version {@code n}. */
    public Path versionDir(final int n)
    {
        return base.resolve("releases").resolve(Integer.toString(n));
    }

    /**
     * Write version {@code n}: {@link #DIRECTORIES} x {@link #FILES_PER_DIRECTORY} files, a few of them spanning
     * several windows of {@code window} bytes, the rest small (packed).
     */
    public Path build(final int n, final int window) throws IOException
    {
        return build(n, window, DIRECTORIES, FILES_PER_DIRECTORY);
    }

    /**
     * Write version {@code n} with fewer (or more) directories and files, e.g. for a walk through a mount on a busy
     * machine; the files are those of {@link #build(int, int)} with the same names.
     */
    public Path build(final int n, final int window, final int directories, final int filesPerDirectory)
        throws IOException
    {
        final Path dir = versionDir(n);
        for (int d = 0; d < directories; d++)
        {
            final Path sub = Files.createDirectories(dir.resolve("d" + d));
            for (int f = 0; f < filesPerDirectory; f++)
            {
                final int size = 0 == f && d < 3 ? 2 * window + 100 * d + 17 : 50 + 37 * f + d;
                Files.write(sub.resolve("f" + f), content(n, size));
            }
        }
        return dir;
    }

    /**
     * The bytes of a file of version {@code n}: its tag {@code "vN;"} repeated to {@code size}.
     */
    public static byte[] content(final int n, final int size)
    {
        final byte[] tag = ("v" + n + ";").getBytes(StandardCharsets.US_ASCII);
        final byte[] bytes = new byte[size];
        for (int i = 0; i < size; i++)
        {
            bytes[i] = tag[i % tag.length];
        }
        return bytes;
    }

    /**
     * The version a file's bytes name, or -1 when they are not one version's content.
     */
    public static int versionOf(final byte[] bytes, final int length)
    {
        final int semicolon = indexOf(bytes, length, (byte)';');
        if (length < 3 || 'v' != bytes[0] || semicolon < 2)
        {
            return -1;
        }
        final int n;
        try
        {
            n = Integer.parseInt(new String(bytes, 1, semicolon - 1, StandardCharsets.US_ASCII));
        }
        catch (final NumberFormatException ex)
        {
            return -1;
        }
        final byte[] expected = content(n, length);
        for (int i = 0; i < length; i++)
        {
            if (expected[i] != bytes[i])
            {
                return -1;
            }
        }
        return n;
    }

    private static int indexOf(final byte[] bytes, final int length, final byte b)
    {
        for (int i = 0; i < length; i++)
        {
            if (bytes[i] == b)
            {
                return i;
            }
        }
        return -1;
    }

    /**
     * Point the link at version {@code n} atomically, as {@code ln -sfn} + {@code mv -T} do.
     */
    public void flip(final int n) throws IOException
    {
        final Path tmp = base.resolve("current.tmp");
        Files.deleteIfExists(tmp);
        Files.createSymbolicLink(tmp, Path.of("releases", Integer.toString(n)));
        Files.move(tmp, link, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }
}
