package dev.pcb.it;

import dev.pcb.layout.RunDirectory;
import dev.pcb.testsupport.AgentProcess;
import dev.pcb.testsupport.BindfsMount;
import dev.pcb.testsupport.BrokerProcess;
import dev.pcb.testsupport.JavaProcess;
import dev.pcb.testsupport.PcbCommand;
import dev.pcb.testsupport.PcbExtension;
import dev.pcb.testsupport.TestShare;
import dev.pcb.testsupport.VersionedTree;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Tree versions end to end (docs/versions.md): a real broker serving a share that is a link flipped between
 * version directories by a publisher, read by reader processes of two guests.
 */
@Timeout(180)
class TreeVersionsTest
{
    private static final int VERSIONS = 20;
    private static final long WALK_MS = 15_000;
    private static final Pattern SUMMARY =
        Pattern.compile("walks (\\d+) mixed (\\d+) files (\\d+) versions (\\d+) advances (\\d+)");

    @RegisterExtension
    final PcbExtension pcb = new PcbExtension("tree-versions");

    private VersionedTree tree() throws IOException
    {
        final VersionedTree tree = new VersionedTree(pcb.shareDir());
        for (int n = 1; n <= VERSIONS; n++)
        {
            tree.build(n, TestShare.WINDOW);
        }
        tree.flip(1);
        return tree;
    }

    private BrokerProcess startBroker(final VersionedTree tree, final String... extra) throws IOException
    {
        final List<String> args = new ArrayList<>(List.of("--share", PcbExtension.SHARE + "=" + tree.link(),
            "--guest", "vm1", "--guest", "vm2", "--region-size", "16M",
            "--window-size", Integer.toString(TestShare.WINDOW)));
        args.addAll(List.of(extra));
        return pcb.startBrokerWith(args.toArray(new String[0]));
    }

    private Process startWalker(final BrokerProcess broker, final String guest, final long ms) throws IOException
    {
        final Process process = pcb.track(new ProcessBuilder(JavaProcess.javaCommand(TreeWalker.class.getName(),
            broker.runDir().toString(), guest, PcbExtension.SHARE, Long.toString(ms), "3"))
            .redirectErrorStream(true).start());
        return process;
    }

    private static String output(final Process reader) throws Exception
    {
        // The readers' stderr goes into stdout: AgentProcess collects it with a bounded wait.
        return AgentProcess.await(reader).stdoutText();
    }

    @Test
    void everyWalkReadsOneVersionWhileThePublisherFlipsAsFastAsItCan() throws Exception
    {
        final VersionedTree tree = tree();
        final BrokerProcess broker = startBroker(tree);
        final AtomicBoolean publishing = new AtomicBoolean(true);
        final AtomicLong flips = new AtomicLong();
        final Thread publisher = new Thread(() ->
        {
            final SplittableRandom random = new SplittableRandom(16);
            int current = 1;
            try
            {
                while (publishing.get())
                {
                    int next;
                    do
                    {
                        next = 1 + random.nextInt(VERSIONS);
                    }
                    while (next == current);
                    tree.flip(next);
                    current = next;
                    flips.incrementAndGet();
                    // About a thousand flips a second, ten times more than the broker looks: as fast as matters,
                    // without one of the machine's two cores spent on renames.
                    Thread.sleep(1);
                }
            }
            catch (final IOException | InterruptedException ex)
            {
                throw new IllegalStateException(ex);
            }
        }, "publisher");
        final List<Process> readers = new ArrayList<>();
        for (final String guest : List.of("vm1", "vm1", "vm2", "vm2"))
        {
            readers.add(startWalker(broker, guest, WALK_MS));
        }
        publisher.start();
        long walks = 0;
        long files = 0;
        long mixed = 0;
        long advances = 0;
        try
        {
            for (final Process reader : readers)
            {
                final String out = output(reader);
                final Matcher m = SUMMARY.matcher(out);
                assertTrue(m.find(), out);
                assertEquals(0, reader.exitValue(), out);
                walks += Long.parseLong(m.group(1));
                mixed += Long.parseLong(m.group(2));
                files += Long.parseLong(m.group(3));
                advances += Long.parseLong(m.group(5));
                assertTrue(Long.parseLong(m.group(4)) > 1, "a reader saw only one version: " + out);
            }
        }
        finally
        {
            publishing.set(false);
            publisher.join(10_000);
        }
        final String versions = Files.readString(RunDirectory.versionsFile(broker.runDir(), PcbExtension.SHARE));
        final Matcher current = Pattern.compile("current (\\d+)").matcher(versions);
        assertTrue(current.find(), versions);
        System.out.println("tree versions: " + walks + " walks (" + files + " files), " + mixed + " mixed, " +
            flips.get() + " flips by the publisher, " + current.group(1) + " versions served by the broker, " +
            advances + " advances");
        assertEquals(0, mixed, "walks that read more than one tree version");
        assertTrue(walks >= 12, "walks: " + walks);
    }

    /**
     * A {@link TreeHolder} process and its output lines.
     */
    private record Holder(Process process, java.io.BufferedReader lines)
    {
        /** @return its next line, waited for at most 60 s. */
        String line() throws Exception
        {
            return java.util.concurrent.CompletableFuture.supplyAsync(() ->
            {
                try
                {
                    return lines.readLine();
                }
                catch (final IOException ex)
                {
                    throw new java.io.UncheckedIOException(ex);
                }
            }).get(60, TimeUnit.SECONDS);
        }

        /** @return what it read after one more {@code read} line. */
        String read() throws Exception
        {
            process.getOutputStream().write("read\n".getBytes(StandardCharsets.UTF_8));
            process.getOutputStream().flush();
            return line();
        }

        long pid()
        {
            return process.pid();
        }
    }

    private Holder startHolder(final BrokerProcess broker) throws Exception
    {
        final Process process = pcb.track(new ProcessBuilder(JavaProcess.javaCommand(TreeHolder.class.getName(),
            broker.runDir().toString(), "vm1", PcbExtension.SHARE + "/d0/f0", PcbExtension.SHARE + "/d1/f1"))
            .redirectErrorStream(true).start());
        final Holder holder = new Holder(process, new java.io.BufferedReader(
            new java.io.InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8)));
        assertEquals("holding 1", holder.line());
        return holder;
    }

    /**
     * Flip to version 2 and wait until the broker has published it.
     */
    private static void flipAndAwait(final VersionedTree tree, final BrokerProcess broker) throws Exception
    {
        tree.flip(2);
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!versionsFile(broker).contains("current 2\n"))
        {
            assertTrue(System.nanoTime() < deadline, "flip not published: " + versionsFile(broker));
            Thread.sleep(20);
        }
    }

    private static String versionsFile(final BrokerProcess broker) throws IOException
    {
        final Path file = RunDirectory.versionsFile(broker.runDir(), PcbExtension.SHARE);
        return Files.exists(file) ? Files.readString(file) : "";
    }

    private static Process startWait(final BrokerProcess broker, final Path version, final String timeout)
        throws IOException
    {
        return JavaProcess.pcb("versions", "--run-dir", broker.runDir().toString(), "--wait-unused",
            version.toString(), "--timeout", timeout).start();
    }

    @Test
    void versionsNamesAReaderOnAnOldVersionAndWaitUnusedReturnsWhenItLeaves() throws Exception
    {
        final VersionedTree tree = new VersionedTree(pcb.shareDir());
        tree.build(1, TestShare.WINDOW);
        tree.build(2, TestShare.WINDOW);
        tree.flip(1);
        final BrokerProcess broker = startBroker(tree);
        final Holder holder = startHolder(broker);
        flipAndAwait(tree, broker);

        final AgentProcess list = PcbCommand.run("versions", "--run-dir", broker.runDir().toString());
        assertEquals(0, list.exitCode(), list.stderr());
        final String text = list.stdoutText();
        assertTrue(text.contains("current 2"), text);
        assertTrue(Pattern.compile("1 +used +1 +1 +" + Pattern.quote(tree.versionDir(1).toRealPath().toString()))
            .matcher(text).find(), text);
        assertTrue(text.contains("guest vm1 pid " + holder.pid()), text);
        final AgentProcess json = PcbCommand.run("versions", "--run-dir", broker.runDir().toString(), "data", "--json");
        assertTrue(json.stdoutText().contains("\"pid\":" + holder.pid()), json.stdoutText());

        final AgentProcess timedOut = PcbCommand.run("versions", "--run-dir", broker.runDir().toString(),
            "--wait-unused", tree.versionDir(1).toString(), "--timeout", "300ms");
        assertEquals(1, timedOut.exitCode(), timedOut.stderr());
        assertTrue(timedOut.stderr().contains("guest vm1 pid " + holder.pid()), timedOut.stderr());

        final Process wait = pcb.track(startWait(broker, tree.versionDir(1), "60s"));
        Thread.sleep(500);
        assertTrue(wait.isAlive(), "returned while the reader still held the version");
        final long leftNs = System.nanoTime();
        holder.process().getOutputStream().write('\n');
        holder.process().getOutputStream().flush();
        assertTrue(wait.waitFor(30, TimeUnit.SECONDS));
        System.out.println("wait-unused returned " + (System.nanoTime() - leftNs) / 1_000_000 +
            " ms after the reader was told to leave");
        assertEquals(0, wait.exitValue(), new String(wait.getErrorStream().readAllBytes(), StandardCharsets.UTF_8));
        assertTrue(holder.process().waitFor(10, TimeUnit.SECONDS));
    }

    @Test
    void waitUnusedReturnsOnceTheLeaseFreesAKilledReadersSlot() throws Exception
    {
        final VersionedTree tree = new VersionedTree(pcb.shareDir());
        tree.build(1, TestShare.WINDOW);
        tree.build(2, TestShare.WINDOW);
        tree.flip(1);
        final BrokerProcess broker = startBroker(tree, "--client-lease", "1000");
        final Holder holder = startHolder(broker);
        flipAndAwait(tree, broker);

        final Process wait = pcb.track(startWait(broker, tree.versionDir(1), "60s"));
        Thread.sleep(300);
        assertTrue(wait.isAlive(), "returned while the reader still held the version");
        final long killedNs = System.nanoTime();
        holder.process().destroyForcibly();
        assertTrue(wait.waitFor(30, TimeUnit.SECONDS));
        System.out.println("wait-unused returned " + (System.nanoTime() - killedNs) / 1_000_000 +
            " ms after kill -9 of the reader (client lease 1000 ms)");
        assertEquals(0, wait.exitValue(), new String(wait.getErrorStream().readAllBytes(), StandardCharsets.UTF_8));
    }

    private VersionedTree twoVersions() throws IOException
    {
        final VersionedTree tree = new VersionedTree(pcb.shareDir());
        tree.build(1, TestShare.WINDOW);
        tree.build(2, TestShare.WINDOW);
        tree.flip(1);
        return tree;
    }

    /**
     * {@code pcb versions}, read until it shows what the test waits for (the new broker writes its file at most
     * 100 ms after a change), at most 30 s.
     */
    private static String awaitVersions(final BrokerProcess broker, final Pattern wanted) throws Exception
    {
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (true)
        {
            final AgentProcess list = PcbCommand.run("versions", "--run-dir", broker.runDir().toString());
            final String text = list.stdoutText();
            if (0 == list.exitCode() && wanted.matcher(text).find())
            {
                return text;
            }
            assertTrue(System.nanoTime() < deadline, "pcb versions never showed " + wanted + ":\n" + text +
                list.stderr());
            Thread.sleep(100);
        }
    }

    @Test
    void aBrokerRestartPutsAReaderBackOnTheVersionItHeld() throws Exception
    {
        final VersionedTree tree = twoVersions();
        final BrokerProcess first = startBroker(tree);
        final Holder holder = startHolder(first);
        flipAndAwait(tree, first);
        assertEquals("read v1 v1 tree 1", holder.read(), "before the restart");

        final BrokerProcess broker = pcb.killAndRestartBroker();
        // The restarted broker numbers afresh: releases/2, the link's target, is its version 1; releases/1, served
        // again for the holder, its version 2.
        assertEquals("read v1 v1 tree 2", holder.read(), "the held file and a new open both read version 1's bytes");
        final String versions = awaitVersions(broker, Pattern.compile("2 +used +1 +1 +" +
            Pattern.quote(tree.versionDir(1).toRealPath().toString()) + "\n +guest vm1 pid " + holder.pid() + " "));
        assertTrue(Pattern.compile("1 +current +0 +0 +" + Pattern.quote(tree.versionDir(2).toRealPath().toString()))
            .matcher(versions).find(), versions);
        assertTrue(broker.output().contains("back on releases/1"), broker.output());
    }

    @Test
    void aBrokerRestartPutsAReaderWhoseVersionWasRemovedOnTheCurrentOneAndItsFileAnswersStale() throws Exception
    {
        final VersionedTree tree = twoVersions();
        final BrokerProcess first = startBroker(tree);
        final Holder holder = startHolder(first);
        flipAndAwait(tree, first);
        final String removed = tree.versionDir(1).toRealPath().toString();
        dev.pcb.testsupport.FileTrees.delete(tree.versionDir(1));

        final BrokerProcess broker = pcb.killAndRestartBroker();
        // Once the holder re-attached (its session and re-opened file listed on the current version), its held file
        // answers STALE. A read racing the re-attach once got "BrokerUnavailableException: the broker restarted"
        // instead (fresh clone, CI load; cause not established), so this test reads after the re-attach.
        final String versions = awaitVersions(broker, Pattern.compile("1 +current +1 +1 +" +
            Pattern.quote(tree.versionDir(2).toRealPath().toString()) + "\n +guest vm1 pid " + holder.pid() + " "));
        assertEquals("read error dev.pcb.agent.StaleFileException: data/d0/f0: changed on the host while the broker " +
            "restarted v2 tree 1", holder.read());
        assertTrue(!versions.contains(removed), versions);
        assertTrue(broker.output().contains("cannot be served again"), broker.output());
    }

    /**
     * A versioned share on a filesystem without leases (bindfs, FUSE, over a local directory): one tree per walk
     * still holds, since it rests on directory descriptors only; the broker says once that leases are unavailable.
     */
    @Test
    void aShareOnBindfsServesWholeTreesWithoutLeases() throws Exception
    {
        final Path source = pcb.shareDir();
        final VersionedTree tree = new VersionedTree(source);
        for (int n = 1; n <= 5; n++)
        {
            tree.build(n, TestShare.WINDOW);
        }
        tree.flip(1);
        try (BindfsMount bindfs = BindfsMount.start(source))
        {
            final BrokerProcess broker = startBroker(new VersionedTree(bindfs.mountPoint()));
            try
            {
                final AtomicBoolean publishing = new AtomicBoolean(true);
                final Thread publisher = new Thread(() ->
                {
                    int n = 1;
                    try
                    {
                        while (publishing.get())
                        {
                            n = n % 5 + 1;
                            tree.flip(n);
                            Thread.sleep(30);
                        }
                    }
                    catch (final IOException | InterruptedException ex)
                    {
                        throw new IllegalStateException(ex);
                    }
                }, "publisher");
                final List<Process> readers =
                    List.of(startWalker(broker, "vm1", 8_000), startWalker(broker, "vm2", 8_000));
                publisher.start();
                long walks = 0;
                long mixed = 0;
                try
                {
                    for (final Process reader : readers)
                    {
                        final String out = output(reader);
                        final Matcher m = SUMMARY.matcher(out);
                        assertTrue(m.find(), out);
                        walks += Long.parseLong(m.group(1));
                        mixed += Long.parseLong(m.group(2));
                    }
                }
                finally
                {
                    publishing.set(false);
                    publisher.join(10_000);
                }
                System.out.println("bindfs tree versions: " + walks + " walks, " + mixed + " mixed");
                assertEquals(0, mixed, "walks that read more than one tree version");
                assertTrue(walks >= 6, "walks: " + walks);
                assertTrue(broker.output().contains("read leases unavailable"), broker.output());
            }
            finally
            {
                // The broker holds the version directories open: stop it before the mount closes, or it stays busy.
                broker.stop();
            }
        }
    }
}
