package dev.pcb.it;

import dev.pcb.testsupport.FileTrees;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The {@code ./pcb} launcher of a fresh checkout (a copy of the source tree, never built): its first run builds with
 * Maven and must leave plain text in a log, no terminal escape codes, when its output is a file.
 */
final class LauncherTest
{
    private static final Set<String> SKIPPED = Set.of("target", ".git", ".pcb-demo");

    private Path copy;

    @AfterEach
    void tearDown() throws IOException
    {
        if (null != copy)
        {
            FileTrees.delete(copy);
        }
    }

    @Test
    @Timeout(value = 330, unit = TimeUnit.SECONDS)
    void firstBuildWritesNoEscapeCodesWhenOutputIsAFile() throws Exception
    {
        final Path home = Path.of(System.getProperty("pcb.home", "target")).toAbsolutePath();
        final Path source = home.getParent().getParent();
        assertTrue(Files.isRegularFile(source.resolve("pcb")), "no launcher in " + source);
        copy = home.resolve("launcher-test-" + ProcessHandle.current().pid());
        FileTrees.delete(copy);
        copyTree(source, copy);

        final Path log = copy.resolve("launcher.log");
        final ProcessBuilder builder = new ProcessBuilder("sh", "-c", "./pcb --version >launcher.log 2>&1")
            .directory(copy.toFile());
        builder.environment().remove("MAVEN_OPTS");
        final Process process = builder.start();
        final boolean done = process.waitFor(300, TimeUnit.SECONDS);
        if (!done)
        {
            process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
        final byte[] bytes = Files.readAllBytes(log);
        final String text = new String(bytes, StandardCharsets.UTF_8);
        assertTrue(done, "the first build took more than 300 s:\n" + text);
        assertEquals(0, process.exitValue(), text);
        assertTrue(text.contains("pcb: building"), "the copy was not built: " + text);
        final String[] lines = text.trim().split("\n");
        assertTrue(lines[lines.length - 1].startsWith("pcb "), "version line last: " + text);
        for (int i = 0; i < bytes.length; i++)
        {
            assertFalse(bytes[i] == 0x1b, "ESC at byte " + i + " of the log: " + text.replace("\u001b", "<ESC>"));
        }
    }

    private static void copyTree(final Path from, final Path to) throws IOException
    {
        try (Stream<Path> paths = Files.walk(from))
        {
            for (final Path path : (Iterable<Path>)paths::iterator)
            {
                final Path relative = from.relativize(path);
                if (skipped(relative))
                {
                    continue;
                }
                final Path target = to.resolve(relative.toString());
                if (Files.isDirectory(path))
                {
                    Files.createDirectories(target);
                }
                else if (Files.isRegularFile(path))
                {
                    Files.copy(path, target, StandardCopyOption.COPY_ATTRIBUTES);
                }
            }
        }
    }

    private static boolean skipped(final Path relative)
    {
        for (final Path part : relative)
        {
            if (SKIPPED.contains(part.toString()))
            {
                return true;
            }
        }
        return false;
    }
}
