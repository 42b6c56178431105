package dev.pcb.it;

import dev.pcb.layout.CounterType;
import dev.pcb.layout.CountersSnapshot;
import dev.pcb.testsupport.BindfsMount;
import dev.pcb.testsupport.BrokerProcess;
import dev.pcb.testsupport.FileTrees;
import dev.pcb.testsupport.LineProcess;
import dev.pcb.testsupport.TestShare;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Issue 14, item 2, end to end: a share on a filesystem that hangs stalls only the requests that touch it. A real
 * broker serves share {@code a}, a plain directory, and share {@code b}, a {@code bindfs} mount the test stops with
 * SIGSTOP. While it is stopped, a client of guest vm1 has an OPEN, two STATs, a LIST and three ACQUIRE misses on
 * {@code b} waiting, more than the fill threads and as many as its guest's metadata tasks, and closes another file of
 * {@code b} (whose descriptor's close waits for the filesystem, off the conductor); meanwhile readers of share
 * {@code a} in vm1 (the same guest) and vm2 keep opening and acquiring (hits and misses) with their latency printed
 * before, during and after, and the broker keeps heartbeating. After SIGCONT every waiting request is answered with
 * the right bytes and new ones work.
 */
@Timeout(150)
class StuckShareTest
{
    static final String BIG = "big.bin";
    static final String NEW = "new.bin";
    static final String LATE = "late.bin";
    static final String LATE2 = "late2.bin";
    static final String AFTER = "after.bin";

    private static final int WINDOW = TestShare.WINDOW;
    private static final int BIG_WINDOWS = 16;
    private static final long REQUEST_TIMEOUT_S = 90;
    private static final long PHASE_MS = 3_000;
    private static final long STALL_PHASE_MS = 4_000;
    /** Generous: an ACQUIRE or OPEN of share a waiting this long while b hangs is a stall, not a slow machine. */
    private static final long MAX_A_WAIT_MS = 10_000;
    private static final long LINE_TIMEOUT_MS = 60_000;
    private static final Pattern STATS = Pattern.compile("stats (\\w+) ops (\\d+) max (\\d+) wrong (\\d+)");

    private Path aDir;
    private Path bSource;
    private BindfsMount mount;
    private BrokerProcess broker;
    private BrokerWatch watch;
    private final List<LineProcess> children = new ArrayList<>();

    @AfterEach
    void tearDown() throws Exception
    {
        // SIGCONT first, whatever failed: everything below may wait on the mount.
        if (null != mount)
        {
            mount.resume();
        }
        children.forEach(LineProcess::close);
        if (null != watch)
        {
            watch.close();
        }
        if (null != broker)
        {
            broker.close();
        }
        if (null != mount)
        {
            mount.close();
        }
        FileTrees.delete(aDir);
        FileTrees.delete(bSource);
    }

    private static byte[] write(final Path file, final int length, final long seed) throws IOException
    {
        final byte[] bytes = new byte[length];
        new SplittableRandom(seed).nextBytes(bytes);
        Files.write(file, bytes);
        return bytes;
    }

    private static String sha(final byte[] bytes, final long window)
    {
        final int from = (int)(window * WINDOW);
        return TestShare.sha256(Arrays.copyOfRange(bytes, from, Math.min(bytes.length, from + WINDOW)));
    }

    private LineProcess child(final String name, final Class<?> main, final String... args) throws IOException
    {
        final LineProcess child = LineProcess.start(name, main.getName(), args);
        children.add(child);
        return child;
    }

    @Test
    void onlyRequestsTouchingAHungShareWaitAndAllRecoverWithIt() throws Exception
    {
        aDir = Files.createTempDirectory(Path.of("/dev/shm"), "pcb-stuck-a-");
        write(aDir.resolve(ShareLatencyReader.HOT), 2 * WINDOW, 1);
        for (int i = 0; i < ShareLatencyReader.COLD_FILES; i++)
        {
            // Four times the region in all: most of these ACQUIREs are misses, so fills.
            write(aDir.resolve(ShareLatencyReader.COLD + i + ".bin"), 32 * WINDOW, 10 + i);
        }
        bSource = Files.createTempDirectory(Path.of("/dev/shm"), "pcb-stuck-b-");
        final byte[] big = write(bSource.resolve(BIG), BIG_WINDOWS * WINDOW, 2);
        Files.createDirectory(bSource.resolve("dir"));
        write(bSource.resolve("dir/x0.bin"), 100, 3);
        write(bSource.resolve("dir/x1.bin"), 200, 4);
        mount = BindfsMount.start(bSource);

        broker = BrokerProcess.start(BrokerProcess.newRunDir("stuck-share"), "--share", "a=" + aDir,
            "--share", "b=" + mount.mountPoint(), "--guest", "vm1", "--guest", "vm2",
            "--region-size", Long.toString(32L * WINDOW), "--window-size", Integer.toString(WINDOW));
        watch = BrokerWatch.start(broker.runDir());
        final String runDir = broker.runDir().toString();
        final String timeout = Long.toString(REQUEST_TIMEOUT_S);
        final LineProcess stuck = child("stuck-client", StuckShareClient.class, runDir, "vm1", "b", "a", timeout);
        final Map<String, LineProcess> readers = new LinkedHashMap<>();
        readers.put("vm1", child("a-reader-vm1", ShareLatencyReader.class, runDir, "vm1", "a", aDir.toString(),
            timeout));
        readers.put("vm2", child("a-reader-vm2", ShareLatencyReader.class, runDir, "vm2", "a", aDir.toString(),
            timeout));
        stuck.requireLine("ready", LINE_TIMEOUT_MS);
        for (final LineProcess reader : readers.values())
        {
            reader.requireLine("ready", LINE_TIMEOUT_MS);
        }
        final Map<String, Matcher> before = phase(readers, "before", PHASE_MS);

        // Files the kernel never looked up through the mount: each request for them must reach bindfs.
        final byte[] fresh = write(bSource.resolve(NEW), WINDOW + 7, 5);
        write(bSource.resolve(LATE), 300, 6);
        write(bSource.resolve(LATE2), 400, 7);
        final byte[] after = write(bSource.resolve(AFTER), 500, 8);
        mount.pause();
        final long pausedNs = System.nanoTime();
        final CountersSnapshot atPause = CountersSnapshot.read(broker.runDir());
        stuck.send("go");
        final String closed = stuck.awaitLine("closed", MAX_A_WAIT_MS);
        assertNotNull(closed, "a CLOSE of a file of the stopped share, and a STAT of share a behind it in the ring, " +
            "were not answered in " + MAX_A_WAIT_MS + " ms:\n" + stuck.output());
        System.out.println("b CLOSE, then a STAT of share a: " + closed);
        stuck.requireLine("started", LINE_TIMEOUT_MS);
        // Let the requests reach the broker and its workers block in the filesystem.
        Thread.sleep(1_000);
        for (final LineProcess reader : readers.values())
        {
            reader.send("run stall " + STALL_PHASE_MS);
        }
        final Map<String, Matcher> stall = new LinkedHashMap<>();
        final Set<String> servedWhilePaused = new HashSet<>();
        for (final Map.Entry<String, LineProcess> reader : readers.entrySet())
        {
            final String line = reader.getValue().awaitLine("stats stall", STALL_PHASE_MS + MAX_A_WAIT_MS);
            if (null != line)
            {
                stall.put(reader.getKey(), matched(line));
                servedWhilePaused.add(reader.getKey());
            }
        }
        final String bWhilePaused = stuck.output();
        final long pausedMs = (System.nanoTime() - pausedNs) / 1_000_000;
        final long maxGapWhilePaused = watch.maxGapMs();
        final CountersSnapshot beforeResume = CountersSnapshot.read(broker.runDir());
        mount.resume();
        final long fillsWhilePaused = beforeResume.value(CounterType.FILLS) - atPause.value(CounterType.FILLS);
        System.out.println("bindfs stopped for " + pausedMs + " ms; meanwhile the broker answered " +
            (beforeResume.value(CounterType.HITS) - atPause.value(CounterType.HITS)) + " hits and " +
            (beforeResume.value(CounterType.MISSES) - atPause.value(CounterType.MISSES)) + " misses, and completed " +
            fillsWhilePaused + " fills");

        // Answered once the filesystem is: the waiting requests with the right bytes, then new ones.
        final Map<String, String> done = new LinkedHashMap<>();
        for (int i = 0; i < 4 + StuckShareClient.STUCK_WINDOWS.length + 4; i++)
        {
            final String line = stuck.requireLine("done ", LINE_TIMEOUT_MS);
            final String[] fields = line.split(" ", 4);
            done.put(fields[1], fields.length > 3 ? fields[3] : "");
            System.out.println("b " + fields[1] + " answered after " + fields[2] + " ms");
        }
        stuck.requireLine("finished", LINE_TIMEOUT_MS);
        for (final Map.Entry<String, LineProcess> reader : readers.entrySet())
        {
            if (!stall.containsKey(reader.getKey()))
            {
                stall.put(reader.getKey(), matched(reader.getValue().requireLine("stats stall", LINE_TIMEOUT_MS)));
            }
        }
        final Map<String, Matcher> recovered = phase(readers, "after", PHASE_MS);
        for (final LineProcess reader : readers.values())
        {
            reader.send("quit");
        }
        for (final String guest : readers.keySet())
        {
            for (final Map<String, Matcher> stats : List.of(before, stall, recovered))
            {
                System.out.println("a reader " + guest + " " + stats.get(guest).group(0).replace("stats ", ""));
            }
        }
        System.out.println("heartbeat: longest gap " + watch.maxGapMs() + " ms, " + watch.advances() + " advances");

        assertFalse(bWhilePaused.contains("done ") || bWhilePaused.contains("error "),
            "requests on the stopped share must wait for it:\n" + bWhilePaused);
        for (final String guest : readers.keySet())
        {
            assertTrue(servedWhilePaused.contains(guest),
                "share a's reader in " + guest + " waited on share b: it finished its " + STALL_PHASE_MS +
                " ms phase only after SIGCONT: " + stall.get(guest).group(0));
            final Matcher m = stall.get(guest);
            assertTrue(Long.parseLong(m.group(3)) < MAX_A_WAIT_MS, "a request of share a in " + guest + " waited " +
                m.group(3) + " ms while share b hung: " + m.group(0));
            assertTrue(Long.parseLong(m.group(2)) >= 4, "share a's reader in " + guest + " was hardly served: " +
                m.group(0));
            for (final Map<String, Matcher> stats : List.of(before, stall, recovered))
            {
                assertEquals("0", stats.get(guest).group(4), "wrong bytes: " + stats.get(guest).group(0));
            }
        }
        assertTrue(fillsWhilePaused > 0, "no fill of share a completed while share b hung");
        assertTrue(maxGapWhilePaused < BrokerWatch.STALL_MS, "the conductor's heartbeat stood still for " +
            maxGapWhilePaused + " ms while share b hung");
        assertTrue(watch.advances() > 0, "the heartbeat never advanced");

        final String bOutput = stuck.output();
        assertFalse(bOutput.contains("error "), bOutput);
        assertEquals(sha(fresh, 0), done.get("open"), bOutput);
        assertEquals("300", done.get("stat"), bOutput);
        assertEquals("400", done.get("stat2"), bOutput);
        assertEquals("x0.bin,x1.bin", done.get("list"), bOutput);
        for (final long w : StuckShareClient.STUCK_WINDOWS)
        {
            assertEquals(sha(big, w), done.get("acquire-" + w), "window " + w + ": " + bOutput);
        }
        assertEquals(sha(after, 0), done.get("after-open"), bOutput);
        assertEquals(sha(big, 3), done.get("after-acquire-3"), bOutput);
        assertEquals("500", done.get("after-stat"), bOutput);
        assertEquals("x0.bin,x1.bin", done.get("after-list"), bOutput);
        assertEquals(0, stuck.awaitExit(LINE_TIMEOUT_MS), bOutput);
        assertTrue(broker.process().isAlive(), broker.output());
    }

    private static Matcher matched(final String line)
    {
        final Matcher m = Pattern.compile(STATS.pattern() + "(.*)").matcher(line);
        assertTrue(m.find(), line);
        return m;
    }

    private static Map<String, Matcher> phase(final Map<String, LineProcess> readers, final String name, final long ms)
        throws Exception
    {
        for (final LineProcess reader : readers.values())
        {
            reader.send("run " + name + " " + ms);
        }
        final Map<String, Matcher> stats = new LinkedHashMap<>();
        for (final Map.Entry<String, LineProcess> reader : readers.entrySet())
        {
            stats.put(reader.getKey(), matched(reader.getValue().requireLine("stats " + name, ms + LINE_TIMEOUT_MS)));
        }
        return stats;
    }
}
