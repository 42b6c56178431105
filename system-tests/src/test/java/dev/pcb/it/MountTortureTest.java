package dev.pcb.it;

import dev.pcb.cli.InspectCommand;
import dev.pcb.testsupport.BrokerProcess;
import dev.pcb.testsupport.JavaProcess;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The torture test through the mount: the host writer ({@link TortureWriter}) keeps rewriting in place, replacing,
 * deleting, appending and truncating files while four readers read them through {@code pcb mount} with plain
 * {@code cat}. Every complete {@code cat} must be exactly one version the writer produced ({@link TortureFormat});
 * a {@code cat} may instead fail with "Stale file handle" (a version overwritten in place, or replaced again between
 * the kernel's lookup and its open) or "No such file" (deleted), never give mixed bytes. Afterwards nothing stays
 * open or pinned at the broker.
 */
@Timeout(150)
class MountTortureTest
{
    private static final int FILES = 8;
    private static final int READERS = 4;
    private static final int SECONDS = Integer.getInteger("pcb.torture.seconds", 25);

    @TempDir
    Path dir;

    private BrokerProcess broker;
    private MountProcess mount;
    private Process writer;

    @AfterEach
    void stop() throws Exception
    {
        try
        {
            if (null != writer)
            {
                writer.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
            if (null != mount)
            {
                mount.close();
            }
        }
        finally
        {
            if (null != broker)
            {
                broker.close();
            }
        }
    }

    @Test
    void catThroughTheMountSeesWholeVersionsNeverTornBytes() throws Exception
    {
        final Path source = Files.createDirectory(dir.resolve("share"));
        final Path mnt = Files.createDirectory(dir.resolve("mnt"));
        // Small windows in a small region: a 120 KiB file spans 8 windows, and windows are evicted and refilled
        // while files are open, so reads of in-place rewrites meet the STALE path.
        broker = BrokerProcess.start(BrokerProcess.newRunDir("mount-torture"), "--share", "data=" + source,
            "--guest", "vm1", "--region-size", "4m", "--window-size", "16k");
        writer = new ProcessBuilder(JavaProcess.javaCommand(TortureWriter.class.getName(), source.toString(),
            Integer.toString(FILES), Integer.toString(SECONDS + 2), Integer.toString(120 * 1024))).start();
        assertEquals("initialized\n", new String(writer.getInputStream().readNBytes("initialized\n".length()),
            StandardCharsets.UTF_8));
        // A short timeout so new opens keep meeting new versions (0 would make every lookup a STAT as well).
        mount = MountProcess.start(broker, "vm1", "data", mnt, "--timeout", "0.1");

        final ExecutorService pool = Executors.newFixedThreadPool(READERS);
        final Counts total = new Counts();
        try
        {
            final List<Future<Counts>> readers = new ArrayList<>();
            for (int i = 0; i < READERS; i++)
            {
                final long seed = 15 + i;
                final Path stderr = dir.resolve("cat" + i + ".err");
                readers.add(pool.submit(() -> read(mnt, seed, stderr)));
            }
            for (final Future<Counts> reader : readers)
            {
                final Counts counts = reader.get(SECONDS + 60, TimeUnit.SECONDS);
                System.out.println("mount reader " + counts);
                total.add(counts);
            }
        }
        finally
        {
            pool.shutdownNow();
        }
        final String writerOut = new String(writer.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(writer.waitFor(60, TimeUnit.SECONDS));
        assertEquals(0, writer.exitValue(), writerOut);
        System.out.print(writerOut);
        System.out.println("mount torture: " + total);

        assertEquals(0, total.torn, "torn reads through the mount:\n" + total.tornSamples);
        assertEquals(0, total.failed, () -> "cat failed otherwise than ESTALE or ENOENT:\n" + total.failures +
            "the mount logged:\n" + mount.stderr().lines().filter((l) -> !l.contains("changed in place"))
            .collect(java.util.stream.Collectors.joining("\n")));
        assertTrue(total.ok > 100, "too few verified reads to mean anything: " + total);

        mount.process().destroy();
        assertEquals(143, mount.awaitExit(30), "SIGTERM's exit status; " + mount.stderr());
        final String report = InspectCommand.report(broker.runDir(), 10_000);
        assertTrue(report.contains("pinned=0"), report);
        assertFalse(Pattern.compile("handles=[1-9]").matcher(report).find(), report);
        assertTrue(report.contains("guest vm1: clients=0"), report);
    }

    /** One reader: {@code cat} of random files until the time is up, each output checked. */
    private static Counts read(final Path mnt, final long seed, final Path stderr) throws Exception
    {
        final SplittableRandom random = new SplittableRandom(seed);
        final Counts counts = new Counts();
        final long endNs = System.nanoTime() + SECONDS * 1_000_000_000L;
        while (System.nanoTime() < endNs)
        {
            final String name = "t" + random.nextInt(FILES) + ".bin";
            final Process cat = new ProcessBuilder("cat", mnt.resolve(name).toString())
                .redirectError(stderr.toFile()).start();
            final ByteArrayOutputStream out = new ByteArrayOutputStream();
            cat.getInputStream().transferTo(out);
            if (!cat.waitFor(30, TimeUnit.SECONDS))
            {
                cat.destroyForcibly();
                throw new AssertionError("cat " + name + " did not finish in 30 s");
            }
            counts.count(name, cat.exitValue(), out.toByteArray(), Files.readString(stderr));
        }
        return counts;
    }

    /** What the readers saw. */
    private static final class Counts
    {
        long ok;
        long stale;
        long missing;
        long empty;
        long torn;
        long failed;
        final StringBuilder tornSamples = new StringBuilder();
        final StringBuilder failures = new StringBuilder();

        void count(final String name, final int exit, final byte[] content, final String stderr)
        {
            if (0 != exit)
            {
                if (stderr.contains("Stale file handle"))
                {
                    stale++;
                }
                else if (stderr.contains("No such file"))
                {
                    missing++;
                }
                else
                {
                    failed++;
                    note(failures, name + ": exit " + exit + ": " + stderr.strip());
                }
            }
            else if (0 == content.length)
            {
                empty++;
            }
            else if (TortureFormat.verify(content) < 0)
            {
                torn++;
                note(tornSamples, "TORN " + name + " size=" + content.length);
            }
            else
            {
                ok++;
            }
        }

        void add(final Counts other)
        {
            ok += other.ok;
            stale += other.stale;
            missing += other.missing;
            empty += other.empty;
            torn += other.torn;
            failed += other.failed;
            tornSamples.append(other.tornSamples);
            failures.append(other.failures);
        }

        private static void note(final StringBuilder notes, final String line)
        {
            if (notes.length() < 4000)
            {
                notes.append(line).append('\n');
            }
        }

        /** {@inheritDoc} */
        public String toString()
        {
            return "ok=" + ok + " stale=" + stale + " missing=" + missing + " empty=" + empty + " torn=" + torn +
                " failed=" + failed;
        }
    }
}
