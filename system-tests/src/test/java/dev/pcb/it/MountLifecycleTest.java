package dev.pcb.it;

import dev.pcb.testsupport.PcbCommand;
import dev.pcb.testsupport.AgentProcess;
import dev.pcb.testsupport.ChildProcesses;
import dev.pcb.testsupport.TestShare;
import dev.pcb.testsupport.BrokerProcess;
import dev.pcb.layout.CounterType;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * How a mount ends and fails: SIGTERM, {@code pcb umount} and root's {@code umount} each unmount and leave the
 * broker with no handle and no pin of the guest; bad mount points and shares are one line and exit 1; a stopped
 * broker makes reads fail with EIO after the request timeout, and the same mount reads again when it continues.
 */
@Timeout(120)
class MountLifecycleTest
{
    @TempDir
    Path dir;

    private Path source;
    private Path mnt;
    private BrokerProcess broker;
    private final ChildProcesses children = new ChildProcesses();

    @BeforeEach
    void start() throws Exception
    {
        source = Files.createDirectory(dir.resolve("share"));
        mnt = Files.createDirectory(dir.resolve("mnt"));
        TestShare.create(source);
        broker = BrokerProcess.start(BrokerProcess.newRunDir("mount-life"), "--share", "data=" + source,
            "--guest", "vm1", "--region-size", "4M", "--window-size", Integer.toString(TestShare.WINDOW));
    }

    @AfterEach
    void stop() throws Exception
    {
        children.close();
        ChildProcesses.signal(broker.process().pid(), "-CONT");
        broker.close();
    }

    @Test
    void sigtermUnmountsAndReleasesEverythingEvenWithAFileHeldOpen() throws Exception
    {
        try (MountProcess mount = MountProcess.start(broker, "vm1", "data", mnt))
        {
            final Process holder = children.track(new ProcessBuilder("bash", "-c",
                "exec 3< " + mnt + "/larger-than-region; head -c 100000 <&3 > /dev/null; echo held; sleep 60")
                .start());
            assertEquals("held", new String(holder.getInputStream().readNBytes(4)));
            PcbCommand.awaitCounters(broker.runDir(), (c) -> 1 == c.value(CounterType.GUEST_HANDLES, "vm1"));

            mount.process().destroy();
            assertEquals(143, mount.awaitExit(20), "SIGTERM's exit status; " + mount.stderr());
            assertFalse(mount.isMounted());
            assertNoHandlesOrPins();
        }
    }

    @Test
    void pcbUmountEndsTheMountProcess() throws Exception
    {
        try (MountProcess mount = MountProcess.start(broker, "vm1", "data", mnt))
        {
            assertEquals(TestShare.sha256(source.resolve("window")), TestShare.sha256(mnt.resolve("window")));
            final AgentProcess umount = PcbCommand.run("umount", mnt.toString());
            assertEquals(0, umount.exitCode(), umount.stderr());
            assertEquals(0, mount.awaitExit(20), mount.stderr());
            assertFalse(mount.isMounted());
            assertNoHandlesOrPins();

            final AgentProcess again = PcbCommand.run("umount", mnt.toString());
            assertEquals(1, again.exitCode());
            assertEquals("pcb: " + mnt + ": not a mount point\n", again.stderr());
        }
    }

    @Test
    void rootsUmountEndsTheMountProcess() throws Exception
    {
        try (MountProcess mount = MountProcess.start(broker, "vm1", "data", mnt))
        {
            assertEquals(TestShare.sha256(source.resolve("one-byte")), TestShare.sha256(mnt.resolve("one-byte")));
            Shell.run(dir, 30, "umount " + mnt).assertSuccess();
            assertEquals(0, mount.awaitExit(20), mount.stderr());
            assertNoHandlesOrPins();
        }
    }

    @Test
    void badMountsAreOneLineAndExitOne() throws Exception
    {
        final String run = broker.runDir().toString();
        final AgentProcess missing = PcbCommand.run("mount", "--run-dir", run, "--guest", "vm1", "data",
            dir.resolve("nowhere").toString());
        assertEquals(1, missing.exitCode());
        assertEquals("pcb: " + dir.resolve("nowhere") + ": no such directory (the mount point must exist)\n",
            missing.stderr());

        final AgentProcess unknown = PcbCommand.run("mount", "--run-dir", run, "--guest", "vm1", "nosuch",
            mnt.toString());
        assertEquals(1, unknown.exitCode());
        assertTrue(unknown.stderr().startsWith("pcb: nosuch: no share named \"nosuch\""), unknown.stderr());
        assertEquals(1, unknown.stderr().lines().count(), unknown.stderr());

        try (MountProcess mount = MountProcess.start(broker, "vm1", "data", mnt))
        {
            final AgentProcess busy = PcbCommand.run("mount", "--run-dir", run, "--guest", "vm1", "data",
                mnt.toString());
            assertEquals(1, busy.exitCode());
            assertEquals("pcb: " + mnt + ": busy, already a mount point (pcb umount " + mnt + ")\n", busy.stderr());
            assertTrue(mount.process().isAlive());
        }
    }

    @Test
    void aStoppedBrokerFailsReadsWithEioAndTheMountRecoversWhenItContinues() throws Exception
    {
        try (MountProcess mount = MountProcess.start(broker, "vm1", "data", mnt, "--request-timeout", "3"))
        {
            assertEquals(TestShare.sha256(source.resolve("window")), TestShare.sha256(mnt.resolve("window")));
            final String pid = Long.toString(broker.process().pid());
            Shell.run(dir, 10, "kill -STOP " + pid).assertSuccess();
            final long startNs = System.nanoTime();
            final Shell stalled = Shell.run(dir, 60, "cat " + mnt + "/three-and-a-half > /dev/null");
            final long waitedMs = (System.nanoTime() - startNs) / 1_000_000;
            Shell.run(dir, 10, "kill -CONT " + pid).assertSuccess();
            assertTrue(stalled.stderr().contains("Input/output error"), stalled.stderr());
            assertTrue(waitedMs >= 2_500 && waitedMs < 30_000, "waited " + waitedMs + " ms");

            final Shell again = Shell.run(dir, 60, "sha256sum < " + mnt + "/three-and-a-half");
            assertEquals(0, again.exitCode(), again.stderr() + mount.stderr());
            assertEquals(TestShare.sha256(source.resolve("three-and-a-half")) + "  -\n", again.stdout(),
                mount.stderr());
        }
    }

    @Test
    void cacheModesDecideWhetherTheKernelKeepsPages() throws Exception
    {
        final String name = "larger-than-region";
        try (MountProcess mount = MountProcess.start(broker, "vm1", "data", mnt, "--cache", "none"))
        {
            Shell.run(dir, 30, "cat " + mnt + "/" + name + " > /dev/null").assertSuccess();
            assertEquals("0", residentPages(mnt.resolve(name)), "--cache none keeps no page of what was read");
            Shell.run(dir, 30, "umount " + mnt).assertSuccess();
            assertEquals(0, mount.awaitExit(20), mount.stderr());
        }
        try (MountProcess mount = MountProcess.start(broker, "vm1", "data", mnt, "--cache", "all"))
        {
            Shell.run(dir, 30, "cat " + mnt + "/" + name + " > /dev/null").assertSuccess();
            final long pages = Long.parseLong(residentPages(mnt.resolve(name)));
            assertEquals((Files.size(source.resolve(name)) + 4095) / 4096, pages, "--cache all keeps every page");
            assertEquals(TestShare.sha256(source.resolve(name)), TestShare.sha256(mnt.resolve(name)));
        }
    }

    private String residentPages(final Path file) throws Exception
    {
        return Shell.run(dir, 30, "fincore --noheadings --output PAGES " + file).assertSuccess().stdout().trim();
    }

    private void assertNoHandlesOrPins() throws Exception
    {
        PcbCommand.awaitCounters(broker.runDir(), (c) -> 0 == c.value(CounterType.GUEST_HANDLES, "vm1") &&
            0 == c.value(CounterType.GUEST_PINS, "vm1") && 0 == c.value(CounterType.GUEST_CLIENTS, "vm1"));
    }
}
