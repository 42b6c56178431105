package dev.pcb.it;

import dev.pcb.cli.InspectCommand;
import dev.pcb.testsupport.AgentProcess;
import dev.pcb.testsupport.BrokerProcess;
import dev.pcb.testsupport.JavaProcess;
import dev.pcb.testsupport.PcbExtension;
import dev.pcb.testsupport.TestShare;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Many processes of one guest at once: each its own client slot, its own pins; one dying (kill -9) takes only its
 * own pins with it, at once when a new process finds it gone, else at its lease; a full guest says so.
 */
@Timeout(240)
class MultiProcessTest
{
    private static final Pattern SHARE_LINE = Pattern.compile("share data: windows total=(\\d+) free=(\\d+) " +
        "filling=(\\d+) ready=(\\d+) pinned=(\\d+)");
    private static final Pattern SLOT_LINE = Pattern.compile("slot \\d+ pid=\\d+ handles=\\d+ pins=(\\d+)");

    @RegisterExtension
    final PcbExtension pcb = new PcbExtension("multi");

    @TempDir
    Path shareDir;

    private BrokerProcess broker;

    @Test
    void eightProcessesOfOneGuestReadSharedAndOwnFilesAtOnce() throws Exception
    {
        final SplittableRandom random = new SplittableRandom(3);
        write("shared.bin", 700_000, random);
        for (int i = 0; i < 8; i++)
        {
            write("own-" + i + ".bin", 100_000 + i * 50_000, random);
        }
        startBroker("--slots", "8");
        final List<Process> agents = new ArrayList<>();
        for (int i = 0; i < 8; i++)
        {
            agents.add(pcb.track(AgentProcess.start(broker, "vm1", "sha256", "data/shared.bin", "data/own-" + i + ".bin",
                "data/shared.bin")));
        }
        for (int i = 0; i < 8; i++)
        {
            final AgentProcess result = AgentProcess.await(agents.get(i));
            assertEquals(0, result.exitCode(), result.stderr());
            final String shared = TestShare.sha256(shareDir.resolve("shared.bin"));
            assertEquals(shared + "  data/shared.bin\n" +
                TestShare.sha256(shareDir.resolve("own-" + i + ".bin")) + "  data/own-" + i + ".bin\n" +
                shared + "  data/shared.bin\n", result.stdoutText());
        }
        awaitPinned(0, 10);
    }

    @Test
    void aKilledProcessLosesItsPinsAtOnceWhenTheNextProcessTakesItsSlot() throws Exception
    {
        write("f.bin", 8 * TestShare.WINDOW, new SplittableRandom(4));
        // One slot and a long lease: only the takeover can free the dead process's pins within this test.
        startBroker("--slots", "1", "--client-lease", "120000");
        final Process holder = startHolder("vm1", 5);
        awaitPinned(5, 10);

        holder.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        final long start = System.nanoTime();
        final AgentProcess next = AgentProcess.run(broker, "vm1", "sha256", "data/f.bin");
        assertEquals(0, next.exitCode(), next.stderr());
        assertEquals(TestShare.sha256(shareDir.resolve("f.bin")) + "  data/f.bin\n", next.stdoutText());
        assertTrue(System.nanoTime() - start < TimeUnit.SECONDS.toNanos(60), "took the lease, not the takeover");
        awaitPinned(0, 10);
    }

    @Test
    void aKilledProcessLosesItsPinsAtItsLeaseAndOthersKeepReading() throws Exception
    {
        write("f.bin", 8 * TestShare.WINDOW, new SplittableRandom(5));
        write("g.bin", 3 * TestShare.WINDOW, new SplittableRandom(6));
        startBroker("--slots", "4", "--client-lease", "1000");
        final Process victim = startHolder("vm1", 4);
        final Process survivor = startHolder("vm1", 2);
        awaitPinned(6, 10);

        victim.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        awaitPinned(2, 10);
        assertTrue(survivor.isAlive(), "the other process of the guest must be untouched");
        final AgentProcess reader = AgentProcess.run(broker, "vm1", "sha256", "data/g.bin");
        assertEquals(0, reader.exitCode(), reader.stderr());
        assertTrue(survivor.isAlive());
    }

    @Test
    void whenEverySlotIsHeldTheNextProcessWaitsThenSaysSo() throws Exception
    {
        write("f.bin", 2 * TestShare.WINDOW, new SplittableRandom(7));
        startBroker("--slots", "2");
        startHolder("vm1", 1);
        startHolder("vm1", 1);
        final long start = System.nanoTime();
        final Process third = pcb.track(new ProcessBuilder(JavaProcess.pcbCommand("agent", "--run-dir",
            broker.runDir().toString(), "--guest", "vm1", "--timeout", "2", "ls", "data")).start());
        final AgentProcess result = AgentProcess.await(third);
        assertEquals(1, result.exitCode());
        assertTrue(result.stderr().contains("all 2 client slots of guest vm1 are held by live processes"),
            result.stderr());
        assertEquals(1, result.stderr().trim().lines().count(), result.stderr());
        assertTrue(System.nanoTime() - start >= TimeUnit.SECONDS.toNanos(2), "must wait before giving up");
    }

    @Test
    void twoHundredKillsLeaveNothingPinned() throws Exception
    {
        write("f.bin", 6 * TestShare.WINDOW, new SplittableRandom(8));
        startBroker("--slots", "8", "--client-lease", "60000");
        final SplittableRandom random = new SplittableRandom(9);
        final int kills = Integer.getInteger("pcb.kill.count", 200);
        int killed = 0;
        while (killed < kills)
        {
            final List<Process> batch = new ArrayList<>();
            for (int i = 0; i < 4 && killed + batch.size() < kills; i++)
            {
                batch.add(pcb.track(new ProcessBuilder(JavaProcess.javaCommand(PinHolder.class.getName(),
                    broker.runDir().toString(), "vm1", "data/f.bin", Integer.toString(1 + random.nextInt(6))))
                    .redirectErrorStream(true).start()));
            }
            Thread.sleep(200 + random.nextInt(600));
            for (final Process process : batch)
            {
                process.destroyForcibly();
            }
            for (final Process process : batch)
            {
                assertTrue(process.waitFor(10, TimeUnit.SECONDS));
                pcb.forget(process);
            }
            killed += batch.size();
        }
        // Dead owners hold their slots until a new process of the guest finds them gone: each one sweeps one.
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (Integer.parseInt(shareLine().group(5)) != 0 ||
            Pattern.compile("handles=[1-9]").matcher(InspectCommand.report(broker.runDir(), 5000)).find())
        {
            assertTrue(System.nanoTime() < deadline, InspectCommand.report(broker.runDir(), 5000));
            final AgentProcess sweep = AgentProcess.run(broker, "vm1", "sha256", "data/f.bin");
            assertEquals(0, sweep.exitCode(), sweep.stderr());
            assertEquals(TestShare.sha256(shareDir.resolve("f.bin")) + "  data/f.bin\n", sweep.stdoutText());
        }
        final Matcher m = shareLine();
        assertEquals(0, Integer.parseInt(m.group(3)), "nothing filling");
        assertEquals(Integer.parseInt(m.group(1)), Integer.parseInt(m.group(2)) + Integer.parseInt(m.group(4)),
            "every window is free or holds reclaimable bytes");
    }

    /**
     * Wait until the guest's clients hold this many pins in all (two clients pinning one window count two).
     */
    private void awaitPinned(final int pinned, final int seconds) throws Exception
    {
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        while (guestPins() != pinned)
        {
            assertTrue(System.nanoTime() < deadline, "expected " + pinned + " pinned:\n" +
                InspectCommand.report(broker.runDir(), 5000));
            Thread.sleep(50);
        }
    }

    private int guestPins() throws Exception
    {
        final Matcher m = SLOT_LINE.matcher(InspectCommand.report(broker.runDir(), 5000));
        int pins = 0;
        while (m.find())
        {
            pins += Integer.parseInt(m.group(1));
        }
        return pins;
    }

    private Matcher shareLine() throws Exception
    {
        final String report = InspectCommand.report(broker.runDir(), 5000);
        final Matcher m = SHARE_LINE.matcher(report);
        assertTrue(m.find(), report);
        return m;
    }

    private Process startHolder(final String guest, final int windows) throws Exception
    {
        final Process process = pcb.track(new ProcessBuilder(JavaProcess.javaCommand(PinHolder.class.getName(),
            broker.runDir().toString(), guest, "data/f.bin", Integer.toString(windows))).start());
        final String line = new String(process.getInputStream().readNBytes(5), StandardCharsets.UTF_8);
        assertEquals("held\n", line, () -> new String(readQuietly(process), StandardCharsets.UTF_8));
        return process;
    }

    private static byte[] readQuietly(final Process process)
    {
        try
        {
            return process.getErrorStream().readNBytes(4096);
        }
        catch (final Exception ex)
        {
            return new byte[0];
        }
    }

    private void startBroker(final String... extra) throws Exception
    {
        final List<String> args = new ArrayList<>(List.of("--share", "data=" + shareDir, "--guest", "vm1",
            "--region-size", Long.toString(TestShare.REGION), "--window-size", Integer.toString(TestShare.WINDOW)));
        args.addAll(List.of(extra));
        broker = pcb.startBrokerWith(args.toArray(new String[0]));
    }

    private void write(final String name, final int size, final SplittableRandom random) throws Exception
    {
        final byte[] bytes = new byte[size];
        random.nextBytes(bytes);
        Files.write(shareDir.resolve(name), bytes);
    }
}
