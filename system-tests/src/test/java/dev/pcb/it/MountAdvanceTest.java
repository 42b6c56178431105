package dev.pcb.it;

import dev.pcb.fs.MountState;
import dev.pcb.layout.RunDirectory;
import dev.pcb.testsupport.ChildProcesses;
import dev.pcb.testsupport.AgentProcess;
import dev.pcb.testsupport.BrokerProcess;
import dev.pcb.testsupport.PcbCommand;
import dev.pcb.testsupport.PcbExtension;
import dev.pcb.testsupport.TestShare;
import dev.pcb.testsupport.VersionedTree;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Tree version advances of {@code pcb mount} end to end (docs/versions.md, docs/fuse.md): a publisher flips a
 * versioned share between versions whose every file names its version, while a shell walks the whole mount again and
 * again with {@code find} + {@code cat}, reading the mount's state file before and after each walk. Every walk that
 * no advance overlapped must read exactly the version the state file names; a file held open with {@code exec 3<}
 * across advances keeps its bytes.
 */
@Timeout(120)
class MountAdvanceTest
{
    /** A smaller tree than TreeVersionsTest's: each walk is a few hundred broker round trips on a shared machine. */
    private static final int DIRECTORIES = 4;
    private static final int FILES_PER_DIRECTORY = 10;
    private static final String FILES = Integer.toString(DIRECTORIES * FILES_PER_DIRECTORY);

    @RegisterExtension
    final PcbExtension pcb = new PcbExtension("mount-advance");

    @TempDir
    Path dir;

    private MountProcess mount;

    @AfterEach
    void unmount()
    {
        if (null != mount)
        {
            mount.close();
        }
    }

    private VersionedTree tree(final int versions) throws IOException
    {
        final VersionedTree tree = new VersionedTree(pcb.shareDir());
        for (int n = 1; n <= versions; n++)
        {
            tree.build(n, TestShare.WINDOW, DIRECTORIES, FILES_PER_DIRECTORY);
        }
        tree.flip(1);
        return tree;
    }

    private MountProcess mount(final VersionedTree tree, final String... options) throws IOException
    {
        final BrokerProcess broker = pcb.startBrokerWith("--share", PcbExtension.SHARE + "=" + tree.link(),
            "--guest", "vm1", "--region-size", "16M", "--window-size", Integer.toString(TestShare.WINDOW));
        final Path mnt = Files.createDirectory(dir.resolve("mnt"));
        mount = MountProcess.start(broker, "vm1", PcbExtension.SHARE, mnt, options);
        return mount;
    }

    /**
     * The walking shell: optionally holds {@code mnt/d0/f0} open from the start and reads it once {@code release}
     * exists; walks until {@code stop} exists (at most 90 s). A walk is one {@code find} of every file with its size
     * ({@code walk-N.list}) and one {@code cat} of them all ({@code walk-N.out}), between {@code walk-N.before} and
     * {@code walk-N.after}, copies of the state file. Three processes per walk: the machine is shared.
     */
    private CompletableFuture<Shell> walk(final boolean hold, final String pause) throws IOException
    {
        final Path state = MountState.fileOf(dir.resolve("mnt"));
        final String script = String.join("\n",
            "set -u",
            hold ? "exec 3< mnt/d0/f0; touch holding" : "",
            "n=0",
            "while [ ! -e stop ] && [ $SECONDS -lt 90 ]; do",
            "  if [ -e release ] && [ -e holding ]; then cat <&3 > held; exec 3<&-; rm holding; fi",
            "  n=$((n + 1))",
            "  cat '" + state + "' > walk-$n.before",
            "  { find mnt -type f -printf '%s %p\\n' > walk-$n.list &&",
            "    cut -d' ' -f2- walk-$n.list | tr '\\n' '\\0' | xargs -0 cat > walk-$n.out; } 2> walk-$n.err",
            "  cat '" + state + "' > walk-$n.after",
            "  sleep " + pause,
            "done",
            "echo $n > walks");
        return CompletableFuture.supplyAsync(() ->
        {
            try
            {
                return Shell.run(dir, 110, script);
            }
            catch (final Exception ex)
            {
                throw new IllegalStateException(ex);
            }
        });
    }

    private void awaitFile(final String name) throws Exception
    {
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!Files.exists(dir.resolve(name)))
        {
            assertTrue(System.nanoTime() < deadline, name + " never appeared");
            Thread.sleep(20);
        }
    }

    /** Flip to version {@code n} and wait until the broker published it. */
    private void flip(final VersionedTree tree, final int n) throws Exception
    {
        tree.flip(n);
        final Path versions = RunDirectory.versionsFile(pcb.broker().runDir(), PcbExtension.SHARE);
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!(Files.exists(versions) && Files.readString(versions).contains("current " + n + "\n")))
        {
            assertTrue(System.nanoTime() < deadline, "flip to " + n + " not published");
            Thread.sleep(20);
        }
    }

    private MountState.Snapshot state() throws IOException
    {
        return MountState.read(MountState.fileOf(dir.resolve("mnt")));
    }

    private MountState.Snapshot awaitVersion(final long version, final long seconds) throws Exception
    {
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        MountState.Snapshot now = state();
        while (now.version() != version || now.advancing())
        {
            assertTrue(System.nanoTime() < deadline, "the mount did not reach version " + version + ": " + now +
                "\n" + mount.stderr());
            Thread.sleep(20);
            now = state();
        }
        return now;
    }

    /**
     * Wait until the shell finished a walk that no advance overlapped, at {@code version}: each version gets one,
     * however slow the machine.
     */
    private void awaitQuietWalk(final long version) throws Exception
    {
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (true)
        {
            for (int n = 1; Files.exists(dir.resolve("walk-" + n + ".before")); n++)
            {
                try
                {
                    final MountState.Snapshot before = MountState.read(dir.resolve("walk-" + n + ".before"));
                    final MountState.Snapshot after = MountState.read(dir.resolve("walk-" + n + ".after"));
                    if (null != after && version == before.version() && !before.advancing() && !after.advancing() &&
                        before.advances() == after.advances())
                    {
                        return;
                    }
                }
                catch (final IOException partlyWritten)
                {
                    // The shell is writing it: look again.
                }
            }
            assertTrue(System.nanoTime() < deadline, "no walk between two advances at version " + version);
            Thread.sleep(50);
        }
    }

    /** Counts over all walks; a walk "between" two advances is one whose before and after states are the same. */
    private record Walks(int walks, int between, int mixed, int spanning, TreeSet<Integer> versions,
        TreeSet<Long> betweenVersions, String problems)
    {
    }

    private Walks analyse(final int walks) throws IOException
    {
        int between = 0;
        int mixed = 0;
        int spanning = 0;
        final TreeSet<Integer> seen = new TreeSet<>();
        final TreeSet<Long> betweenVersions = new TreeSet<>();
        final StringBuilder problems = new StringBuilder();
        for (int n = 1; n <= walks; n++)
        {
            final MountState.Snapshot before = MountState.read(dir.resolve("walk-" + n + ".before"));
            final MountState.Snapshot after = MountState.read(dir.resolve("walk-" + n + ".after"));
            if (null == after)
            {
                continue;
            }
            final TreeSet<Integer> versions = new TreeSet<>();
            int files = 0;
            // cat's output cut at the sizes find listed: a file whose bytes are not one version's is version -1.
            final byte[] out = Files.readAllBytes(dir.resolve("walk-" + n + ".out"));
            int at = 0;
            for (final String line : Files.readAllLines(dir.resolve("walk-" + n + ".list")))
            {
                final int size = Integer.parseInt(line.substring(0, line.indexOf(' ')));
                final byte[] content = Arrays.copyOfRange(out, Math.min(out.length, at), Math.min(out.length, at + size));
                versions.add(VersionedTree.versionOf(content, content.length));
                at += size;
                files++;
            }
            if (at != out.length)
            {
                versions.add(-1);
            }
            seen.addAll(versions);
            final boolean quiet = !before.advancing() && !after.advancing() &&
                before.advances() == after.advances();
            if (!quiet)
            {
                spanning++;
                continue;
            }
            between++;
            betweenVersions.add(before.version());
            final String err = Files.readString(dir.resolve("walk-" + n + ".err"));
            if (versions.size() != 1 || versions.first() != before.version() || !FILES.equals("" + files) ||
                !err.isEmpty())
            {
                mixed++;
                problems.append("walk ").append(n).append(" at version ").append(before.version()).append(": ")
                    .append(files).append(" files of versions ").append(versions).append(' ').append(err)
                    .append('\n');
            }
        }
        return new Walks(walks, between, mixed, spanning, seen, betweenVersions, problems.toString());
    }

    private Walks finish(final CompletableFuture<Shell> shell) throws Exception
    {
        Files.createFile(dir.resolve("stop"));
        shell.get(100, TimeUnit.SECONDS).assertSuccess();
        return analyse(Integer.parseInt(Files.readString(dir.resolve("walks")).trim()));
    }

    private static void report(final String what, final Walks walks, final long advances)
    {
        System.out.println(what + ": " + walks.walks() + " walks, " + walks.between() + " between two advances (" +
            walks.mixed() + " of them mixed or wrong) at versions " + walks.betweenVersions() + ", " +
            walks.spanning() + " overlapping an advance, versions read " + walks.versions() + ", " + advances +
            " advances");
        assertEquals(0, walks.mixed(), walks.problems());
    }

    @Test
    void explicitAdvancesSwitchTheWholeMountAtOnceAndHeldFilesKeepTheirBytes() throws Exception
    {
        final int versions = 5;
        final VersionedTree tree = tree(versions);
        // Names and attributes trusted for 30 s: only the advance's invalidations can make the kernel look again.
        mount(tree, "--auto-advance", "never", "--timeout", "30");
        final String look = "stat -c %i mnt/d3/f7 && head -c 3 mnt/d3/f7";
        final String atFirst = Shell.run(dir, 30, look).assertSuccess().stdout();
        assertTrue(atFirst.endsWith("\nv1;"), atFirst);
        flip(tree, 2);
        Thread.sleep(700);
        assertEquals(atFirst, Shell.run(dir, 30, look).assertSuccess().stdout(), "moved without an advance");
        final AgentProcess first = PcbCommand.run("mount", "--advance", dir.resolve("mnt").toString());
        assertEquals(0, first.exitCode(), first.stderr());
        assertEquals(dir.resolve("mnt") + ": share data at tree version 2\n", first.stdoutText());
        final String afterAdvance = Shell.run(dir, 30, look).assertSuccess().stdout();
        assertTrue(afterAdvance.endsWith("\nv2;"), afterAdvance);
        assertTrue(!afterAdvance.split("\n")[0].equals(atFirst.split("\n")[0]),
            "a cached entry of version 1 outlived the advance: inode " + afterAdvance);

        final CompletableFuture<Shell> shell = walk(true, "0");
        awaitFile("holding");
        awaitQuietWalk(2);
        for (int v = 3; v <= versions; v++)
        {
            flip(tree, v);
            // --auto-advance never: published, but the mount stays where it was until asked.
            Thread.sleep(700);
            assertEquals(v - 1, state().version(), "advanced by itself");
            if (0 == v % 2)
            {
                final AgentProcess advance = PcbCommand.run("mount", "--advance", dir.resolve("mnt").toString());
                assertEquals(0, advance.exitCode(), advance.stderr());
                assertTrue(advance.stdoutText().contains("share data at tree version " + v), advance.stdoutText());
            }
            else
            {
                ChildProcesses.signal(mount.process().pid(), "-HUP");
                awaitVersion(v, 30);
            }
            awaitQuietWalk(v);
        }
        Files.createFile(dir.resolve("release"));
        awaitFile("held");
        final Walks walks = finish(shell);
        final MountState.Snapshot last = state();
        report("explicit advances", walks, last.advances());
        assertEquals(versions - 1, last.advances(), mount.stderr());
        assertEquals(new TreeSet<>(List.of(2L, 3L, 4L, 5L)), walks.betweenVersions());
        assertArrayEquals(VersionedTree.content(2, 2 * TestShare.WINDOW + 17), Files.readAllBytes(dir.resolve("held")),
            "a file held open across every advance reads the version it opened");
        assertTrue(mount.stderr().contains("advanced share data from tree version 2 to 3 (SIGHUP)"), mount.stderr());
        final AgentProcess none = PcbCommand.run("mount", "--advance", dir.toString());
        assertEquals(1, none.exitCode());
        assertTrue(none.stderr().contains("no pcb mount serves it"), none.stderr());
    }

    @Test
    void theIdlePolicyAdvancesOnlyWhenNothingIsOpen() throws Exception
    {
        final int versions = 4;
        final VersionedTree tree = tree(versions);
        mount(tree, "--auto-advance", "idle:300ms");
        final CompletableFuture<Shell> shell = walk(true, "0.6");
        awaitFile("holding");
        awaitQuietWalk(1);
        flip(tree, 2);
        Thread.sleep(1500);
        assertEquals(1, state().version(), "advanced while a file was open");
        Files.createFile(dir.resolve("release"));
        awaitFile("held");
        awaitVersion(2, 30);
        awaitQuietWalk(2);
        for (int v = 3; v <= versions; v++)
        {
            flip(tree, v);
            awaitVersion(v, 30);
            awaitQuietWalk(v);
        }
        final Walks walks = finish(shell);
        final MountState.Snapshot last = state();
        report("idle policy", walks, last.advances());
        assertEquals(versions - 1, last.advances(), mount.stderr());
        assertEquals(new TreeSet<>(List.of(1L, 2L, 3L, 4L)), walks.betweenVersions());
        assertArrayEquals(VersionedTree.content(1, 2 * TestShare.WINDOW + 17), Files.readAllBytes(dir.resolve("held")));
        assertTrue(mount.stderr().contains("(policy idle:300ms)"), mount.stderr());
        assertTrue(new String(Files.readAllBytes(dir.resolve("walk-1.before")), StandardCharsets.UTF_8)
            .contains("version 1\n"));
    }
}
