package dev.pcb.testsupport.qemu;

import dev.pcb.testsupport.FileTrees;
import dev.pcb.testsupport.JavaProcess;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Copies of host files a guest cannot see ({@link QemuGuest#visibleInGuest(Path)}): one launch never deletes or
 * overwrites the copy another guest is reading, and the copies go when the JVM that made them exits. No QEMU needed:
 * what is tested is the staging on the host.
 */
@Timeout(120)
final class GuestStagingTest
{
    private static final int FILE_SIZE = 256 * 1024;

    private Path source;

    @BeforeEach
    void setUp() throws IOException
    {
        // Under /tmp, which the guest's own /tmp hides: the path must be staged.
        source = Files.createTempDirectory(Path.of("/tmp"), "pcb-staging-test-");
    }

    @AfterEach
    void tearDown() throws IOException
    {
        FileTrees.delete(source);
    }

    @Test
    void eachStagingIsACopyOfItsOwnThatOutlivesTheNext() throws IOException
    {
        Files.writeString(source.resolve("f"), "first");
        final Path first = QemuGuest.visibleInGuest(source);
        Files.writeString(source.resolve("f"), "second");
        final Path second = QemuGuest.visibleInGuest(source);

        assertTrue(first.startsWith(QemuGuest.GUEST_STAGING), first.toString());
        assertNotEquals(first, second);
        assertEquals("first", Files.readString(first.resolve("f")), "the second staging touched the first copy");
        assertEquals("second", Files.readString(second.resolve("f")));
    }

    @Test
    void stagingsOfOnePathAtOnceAreEachComplete() throws Exception
    {
        final List<byte[]> contents = new ArrayList<>();
        final SplittableRandom random = new SplittableRandom(5);
        for (int i = 0; i < 4; i++)
        {
            final byte[] bytes = new byte[FILE_SIZE];
            random.nextBytes(bytes);
            Files.write(source.resolve("f" + i), bytes);
            contents.add(bytes);
        }
        final int threads = 2;
        final int perThread = 10;
        final CyclicBarrier start = new CyclicBarrier(threads);
        final List<Path> copies = Collections.synchronizedList(new ArrayList<>());
        final ExecutorService executor = Executors.newFixedThreadPool(threads);
        try
        {
            final List<Future<?>> done = new ArrayList<>();
            for (int t = 0; t < threads; t++)
            {
                done.add(executor.submit(() ->
                {
                    start.await(10, TimeUnit.SECONDS);
                    for (int i = 0; i < perThread; i++)
                    {
                        copies.add(QemuGuest.visibleInGuest(source));
                    }
                    return null;
                }));
            }
            for (final Future<?> future : done)
            {
                future.get(60, TimeUnit.SECONDS);
            }
        }
        finally
        {
            executor.shutdownNow();
        }

        assertEquals(threads * perThread, copies.stream().distinct().count(), "two stagings shared a directory");
        for (final Path copy : copies)
        {
            for (int i = 0; i < contents.size(); i++)
            {
                assertArrayEquals(contents.get(i), Files.readAllBytes(copy.resolve("f" + i)), copy + "/f" + i);
            }
        }
    }

    @Test
    void copiesGoWhenTheJvmThatMadeThemExits() throws Exception
    {
        Files.writeString(source.resolve("f"), "staged by a child");
        final Process child = new ProcessBuilder(JavaProcess.javaCommand(StageAndExit.class.getName(),
            source.toString())).redirectErrorStream(true).start();
        final String output = new String(child.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(child.waitFor(60, TimeUnit.SECONDS), "child did not exit");
        assertEquals(0, child.exitValue(), output);

        final String prefix = StageAndExit.STAGED;
        assertTrue(output.startsWith(prefix), output);
        final Path copy = Path.of(output.substring(prefix.length()).trim());
        assertTrue(copy.startsWith(QemuGuest.GUEST_STAGING), copy.toString());
        assertFalse(Files.exists(copy.getParent()), copy.getParent() + " outlived the JVM that staged it");
    }

    /** Stages its argument, checks the copy, prints where it is and exits. */
    static final class StageAndExit
    {
        static final String STAGED = "staged ";

        private StageAndExit()
        {
        }

        /**
         * Stage one path.
         *
         * @param args the path.
         * @throws IOException when the copy cannot be read.
         */
        public static void main(final String[] args) throws IOException
        {
            final Path copy = QemuGuest.visibleInGuest(Path.of(args[0]));
            if (!"staged by a child".equals(Files.readString(copy.resolve("f"))))
            {
                throw new IllegalStateException("incomplete copy " + copy);
            }
            System.out.println(STAGED + copy);
        }
    }
}
