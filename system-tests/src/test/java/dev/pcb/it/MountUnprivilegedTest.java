package dev.pcb.it;

import dev.pcb.layout.CounterType;
import dev.pcb.testsupport.AgentProcess;
import dev.pcb.testsupport.BrokerProcess;
import dev.pcb.testsupport.FileTrees;
import dev.pcb.testsupport.PcbCommand;
import dev.pcb.testsupport.TestShare;
import dev.pcb.testsupport.Unprivileged;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code pcb mount} as an ordinary user ({@code nobody}, through {@code setpriv}): it mounts through the setuid
 * {@code fusermount3}, serves the share's true bytes to that user, and {@code pcb umount} (as that user), SIGTERM
 * and even SIGKILL (the auto_unmount helper) leave nothing mounted; without fusermount3 on PATH it is one line and
 * exit 1. The broker runs as root with {@code --run-group nogroup}, so the user can attach.
 */
@Timeout(120)
class MountUnprivilegedTest
{
    @TempDir
    Path dir;

    private Path source;
    private TestShare share;
    private Path mnt;
    private BrokerProcess broker;

    @BeforeEach
    void start() throws Exception
    {
        assertEquals("-rwsr-xr-x root", Shell.run(dir, 10,
            "stat -c '%A %U' $(command -v fusermount3)").assertSuccess().stdout().trim(),
            "fusermount3 is installed setuid root");
        assertEquals("crw-rw-rw-", Shell.run(dir, 10, "stat -c %A /dev/fuse").assertSuccess().stdout().trim(),
            "/dev/fuse is open to every user");
        source = Files.createDirectory(dir.resolve("share"));
        share = TestShare.create(source);
        mnt = Unprivileged.ownedDirectory("mnt");
        broker = BrokerProcess.start(BrokerProcess.newRunDir("mount-user"), "--run-group", Unprivileged.GROUP,
            "--share", "data=" + source, "--guest", "vm1", "--region-size", "4M",
            "--window-size", Integer.toString(TestShare.WINDOW));
    }

    @AfterEach
    void stop() throws Exception
    {
        if (null != broker)
        {
            broker.close();
        }
        if (null != mnt)
        {
            FileTrees.delete(mnt.getParent());
        }
    }

    @Test
    void anOrdinaryUserMountsReadsTheTrueBytesAndUnmountsWithPcbUmount() throws Exception
    {
        try (MountProcess mount = MountProcess.startUnprivileged(broker, "vm1", "data", mnt))
        {
            final String entry = mountsEntry().orElseThrow(() -> new AssertionError("not in /proc/mounts"));
            final String[] fields = entry.split(" ");
            assertEquals("pcb:data", fields[0], entry);
            assertEquals("fuse.pcb", fields[2], entry);
            assertTrue(("," + fields[3] + ",").contains(",ro,"), entry);
            assertTrue(fields[3].contains("user_id=" + Unprivileged.UID), entry);
            assertTrue(fields[3].contains("default_permissions"), entry);

            final StringBuilder sums = new StringBuilder();
            for (final Map.Entry<String, Path> file : share.files().entrySet())
            {
                sums.append(TestShare.sha256(file.getValue())).append("  ").append(file.getKey()).append('\n');
            }
            Files.writeString(mnt.getParent().resolve("SHA256SUMS"), sums);
            final Shell check = asUser("cd " + mnt + " && sha256sum -c " + mnt.getParent().resolve("SHA256SUMS"));
            assertEquals(0, check.exitCode(), check.stdout() + check.stderr() + mount.stderr());
            assertEquals(share.files().size(),
                check.stdout().lines().filter((line) -> line.endsWith(": OK")).count(), check.stdout());

            final Shell cat = asUser("cat " + mnt + "/tree/a/small.txt | od -An -v -tx1");
            assertEquals(0, cat.exitCode(), cat.stderr());
            assertEquals(hex(Files.readAllBytes(source.resolve("tree/a/small.txt"))),
                cat.stdout().replaceAll("\\s+", ""), "cat through the mount gives the source's bytes");

            final Shell write = asUser("echo x > " + mnt + "/new");
            assertTrue(write.stderr().contains("Read-only file system"), write.stderr());

            final AgentProcess umount = AgentProcess.await(Unprivileged.pcb("umount", mnt.toString()).start());
            assertEquals(0, umount.exitCode(), umount.stderr());
            assertEquals(0, mount.awaitExit(20), mount.stderr());
            assertFalse(mountsEntry().isPresent());
            assertNoHandlesOrPins();

            final AgentProcess again = AgentProcess.await(Unprivileged.pcb("umount", mnt.toString()).start());
            assertEquals(1, again.exitCode());
            assertEquals("pcb: " + mnt + ": not a mount point\n", again.stderr());
        }
    }

    @Test
    void withoutAllowOtherOnlyTheMountingUserGetsIn() throws Exception
    {
        final boolean allowed = allowOther();
        try (MountProcess mount = MountProcess.startUnprivileged(broker, "vm1", "data", mnt))
        {
            final Shell root = Shell.run(dir, 30, "ls " + mnt);
            if (allowed)
            {
                assertEquals(0, root.exitCode(), "user_allow_other in /etc/fuse.conf: the mount has allow_other");
            }
            else
            {
                assertTrue(root.stderr().contains("Permission denied"), "no allow_other: " + root.stderr());
            }
            assertEquals(0, asUser("ls " + mnt).exitCode());
        }
    }

    @Test
    void sigtermUnmountsCleanly() throws Exception
    {
        try (MountProcess mount = MountProcess.startUnprivileged(broker, "vm1", "data", mnt))
        {
            assertEquals(TestShare.sha256(source.resolve("window")) + "  -\n",
                asUser("sha256sum < " + mnt + "/window").stdout());
            PcbCommand.awaitCounters(broker.runDir(), (c) -> 1 == c.value(CounterType.GUEST_CLIENTS, "vm1"));
            mount.process().destroy();
            assertEquals(143, mount.awaitExit(20), "SIGTERM's exit status; " + mount.stderr());
            assertFalse(mountsEntry().isPresent(), mount.stderr());
            assertNoHandlesOrPins();
        }
    }

    /**
     * After SIGKILL the auto_unmount helper unmounts only where it can see the dead connection: fusermount3 3.15 and
     * later, or a mount with allow_other (3.14, Debian 12's, opens the mount point as root and gets EACCES instead of
     * ENOTCONN without allow_other). Where it cannot, the mount answers ENOTCONN until its user runs
     * {@code pcb umount --lazy}, as docs/fuse.md says.
     */
    @Test
    void aKilledMountIsCleanedUpByTheHelperOrByItsUsersLazyUmount() throws Exception
    {
        final String version = Shell.run(dir, 10, "fusermount3 -V").assertSuccess().stdout().trim();
        final String[] numbers = version.substring(version.lastIndexOf(' ') + 1).split("\\.");
        final boolean helperUnmounts = allowOther() || Integer.parseInt(numbers[0]) > 3 ||
            (Integer.parseInt(numbers[0]) == 3 && Integer.parseInt(numbers[1]) >= 15);
        try (MountProcess mount = MountProcess.startUnprivileged(broker, "vm1", "data", mnt))
        {
            assertEquals(TestShare.sha256(source.resolve("one-byte")) + "  -\n",
                asUser("sha256sum < " + mnt + "/one-byte").stdout());
            mount.process().destroyForcibly();
            assertEquals(137, mount.awaitExit(20));
            if (helperUnmounts)
            {
                final long deadline = System.nanoTime() + 20_000_000_000L;
                while (mountsEntry().isPresent() && System.nanoTime() < deadline)
                {
                    Thread.sleep(50);
                }
                assertFalse(mountsEntry().isPresent(), version + ": the auto_unmount helper detached the dead mount");
                return;
            }
            assertTrue(mountsEntry().isPresent(), version + " without allow_other: the dead mount stays");
            final Shell dead = asUser("ls " + mnt);
            assertTrue(dead.stderr().contains("Transport endpoint is not connected"), dead.stderr());
            final AgentProcess lazy = AgentProcess.await(
                Unprivileged.pcb("umount", "--lazy", mnt.toString()).start());
            assertEquals(0, lazy.exitCode(), lazy.stderr());
            assertFalse(mountsEntry().isPresent());
        }
    }

    @Test
    void withoutFusermount3OnPathItIsOneLineAndExitOne() throws Exception
    {
        final ProcessBuilder builder = Unprivileged.pcb("mount", "--run-dir", broker.runDir().toString(),
            "--guest", "vm1", "data", mnt.toString());
        builder.environment().put("PATH", "/nonexistent");
        final AgentProcess missing = AgentProcess.await(builder.start());
        assertEquals(1, missing.exitCode(), missing.stderr());
        assertEquals("pcb: no fusermount3 on PATH: an ordinary user mounts through it (Debian package fuse3), " +
            "or run pcb mount as root\n", missing.stderr());
        assertEquals("", missing.stdoutText());
        assertFalse(mountsEntry().isPresent());
    }

    @Test
    void aMountPointTheUserMayNotWriteIsFusermount3sComplaintInOneLine() throws Exception
    {
        final Path roots = Files.createDirectory(mnt.getParent().resolve("roots"));
        final AgentProcess refused = AgentProcess.await(Unprivileged.pcb("mount", "--run-dir",
            broker.runDir().toString(), "--guest", "vm1", "data", roots.toString()).start());
        assertEquals(1, refused.exitCode(), refused.stderr());
        assertEquals("pcb: " + roots + ": fusermount3 failed: user has no write access to mountpoint " + roots + "\n",
            refused.stderr());
        assertEquals("", refused.stdoutText());
        assertNoHandlesOrPins();
    }

    /** Whether fusermount3 grants ordinary users allow_other here, which pcb mount then asks for. */
    private static boolean allowOther() throws Exception
    {
        final Path conf = Path.of("/etc/fuse.conf");
        return Files.exists(conf) && Files.readAllLines(conf).stream()
            .anyMatch((line) -> "user_allow_other".equals(line.strip()));
    }

    private Shell asUser(final String script) throws Exception
    {
        return Shell.run(mnt.getParent(), 60, "setpriv --reuid=" + Unprivileged.UID + " --regid=" +
            Unprivileged.GID + " --clear-groups -- bash -c '" + script.replace("'", "'\\''") + "'");
    }

    private Optional<String> mountsEntry() throws Exception
    {
        return Files.readAllLines(Path.of("/proc/mounts")).stream()
            .filter((line) -> line.split(" ")[1].equals(mnt.toString())).findFirst();
    }

    private void assertNoHandlesOrPins() throws Exception
    {
        PcbCommand.awaitCounters(broker.runDir(), (c) -> 0 == c.value(CounterType.GUEST_HANDLES, "vm1") &&
            0 == c.value(CounterType.GUEST_PINS, "vm1") && 0 == c.value(CounterType.GUEST_CLIENTS, "vm1"));
    }

    private static String hex(final byte[] bytes)
    {
        final StringBuilder out = new StringBuilder();
        for (final byte b : bytes)
        {
            out.append(String.format("%02x", b));
        }
        return out.toString();
    }
}
