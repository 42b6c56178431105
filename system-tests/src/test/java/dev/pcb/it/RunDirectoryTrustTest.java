package dev.pcb.it;

import dev.pcb.testsupport.AgentProcess;
import dev.pcb.testsupport.TestShare;
import dev.pcb.testsupport.BrokerProcess;
import dev.pcb.testsupport.FileTrees;
import dev.pcb.testsupport.Unprivileged;
import dev.pcb.layout.RunDirectory;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.nio.file.attribute.UserPrincipalLookupService;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The run directory is trusted only when it is the broker's own and nobody else can write it, and nothing planted
 * in it (a symlink, a file of another user) makes the broker write or map something else.
 */
@Timeout(120)
class RunDirectoryTrustTest
{
    /** A group every Debian host has, standing in for QEMU's. */
    private static final String GROUP = "daemon";

    private static final FileAttribute<Set<PosixFilePermission>> OWNER_ONLY =
        PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------"));

    private Path share;
    private Path runDir;
    private Path outside;
    private BrokerProcess broker;

    @BeforeEach
    void setUp() throws Exception
    {
        share = Files.createTempDirectory(Path.of("/dev/shm"), "pcb-trust-share");
        Files.writeString(share.resolve("f.txt"), "contents\n");
        outside = Files.createTempDirectory(Path.of("/dev/shm"), "pcb-trust-outside");
        runDir = BrokerProcess.newRunDir("trust");
    }

    @AfterEach
    void tearDown() throws Exception
    {
        if (null != broker)
        {
            broker.close();
        }
        FileTrees.delete(runDir);
        FileTrees.delete(share);
        FileTrees.delete(outside);
    }

    @Test
    void aNewRunDirectoryAndEveryFileInItAreTheBrokersOnly() throws Exception
    {
        // --doorbell: the guest's socket is one of those files.
        broker = start("--doorbell");
        assertTrue(Files.exists(RunDirectory.doorbellSocketFile(runDir, "vm1")));
        assertEquals("rwx------", mode(runDir));
        try (Stream<Path> files = Files.list(runDir))
        {
            for (final Path file : files.toList())
            {
                assertEquals("rw-------", mode(file), file.toString());
            }
        }
        assertTrue(Files.exists(RunDirectory.pidFile(runDir)));
    }

    @Test
    void aRunGroupMayReadTheDirectoryAndRegionsAndWriteOnlyControlRegions() throws Exception
    {
        broker = start("--run-group", GROUP);
        assertEquals("rwxr-x---", mode(runDir));
        assertEquals(GROUP, group(runDir));
        assertEquals("rw-r-----", mode(RunDirectory.dataRegionFile(runDir, "s")));
        assertEquals("rw-rw----", mode(RunDirectory.controlRegionFile(runDir, "vm1")));
        assertEquals("rw-r-----", mode(RunDirectory.countersFile(runDir)));
        assertEquals("rw-r-----", mode(RunDirectory.pidFile(runDir)));
        assertEquals(GROUP, group(RunDirectory.controlRegionFile(runDir, "vm1")));
    }

    @Test
    void aQemuOfTheRunGroupMayConnectToTheDoorbellSocketAndOtherUsersMayNot() throws Exception
    {
        // libvirt runs QEMU as its own user: --run-group is how it reaches the socket (connect needs write on it).
        broker = start("--doorbell", "--run-group", Unprivileged.GROUP);
        final Path socket = RunDirectory.doorbellSocketFile(runDir, "vm1");
        assertEquals("rw-rw----", mode(socket));
        assertEquals(Unprivileged.GROUP, group(socket));

        // nobody, in the run group: the broker serves it as it serves QEMU (first message: protocol version 0).
        assertEquals("version 0", connectAs(Unprivileged.command(connect(socket))));
        // The same user in another group (daemon), not in the run group.
        final List<String> outsider = new ArrayList<>(List.of("setpriv", "--reuid=" + Unprivileged.UID, "--regid=1",
            "--clear-groups", "--"));
        outsider.addAll(connect(socket));
        assertEquals("refused: PermissionError", connectAs(outsider));
        assertTrue(broker.process().isAlive(), broker.output());
    }

    @Test
    void aRunDirectoryWritableByOthersIsRefusedWithOneLine() throws Exception
    {
        Files.createDirectory(runDir);
        Files.setPosixFilePermissions(runDir, PosixFilePermissions.fromString("rwxrwxrwx"));
        refused("is writable by others", "mode 0777");
    }

    @Test
    void aRunDirectoryWritableByItsGroupIsRefused() throws Exception
    {
        Files.createDirectory(runDir);
        Files.setPosixFilePermissions(runDir, PosixFilePermissions.fromString("rwxrwx---"));
        refused("is writable by its group", "mode 0770");
    }

    @Test
    void aRunDirectoryCreatedFirstByAnotherUserIsRefused() throws Exception
    {
        Files.createDirectory(runDir);
        Files.setPosixFilePermissions(runDir, PosixFilePermissions.fromString("rwx------"));
        final UserPrincipalLookupService users = runDir.getFileSystem().getUserPrincipalLookupService();
        Files.setOwner(runDir, users.lookupPrincipalByName("nobody"));
        refused("is owned by nobody", "mode 0700");
    }

    @Test
    void aRunDirectoryThatIsASymlinkIsRefused() throws Exception
    {
        Files.setPosixFilePermissions(outside, PosixFilePermissions.fromString("rwx------"));
        Files.createSymbolicLink(runDir, outside);
        refused("is a symbolic link", runDir.toString());
    }

    @Test
    void aPidFileSymlinkIsReplacedAndItsTargetLeftUntouched() throws Exception
    {
        final Path target = outside.resolve("precious");
        Files.writeString(target, "precious\n");
        Files.createDirectory(runDir, OWNER_ONLY);
        Files.createSymbolicLink(RunDirectory.pidFile(runDir), target);
        Files.createSymbolicLink(runDir.resolve("broker.pid.tmp"), target);
        broker = start();
        assertEquals("precious\n", Files.readString(target));
        final Path pid = RunDirectory.pidFile(runDir);
        assertFalse(Files.isSymbolicLink(pid), "broker.pid is still a link");
        assertEquals(Long.toString(broker.process().pid()), Files.readString(pid).strip());
    }

    @Test
    void plantedRegionFilesAreRemovedAndCreatedAfreshNotFollowedOrReused() throws Exception
    {
        final Path target = outside.resolve("victim");
        Files.writeString(target, "victim\n");
        Files.createDirectory(runDir, OWNER_ONLY);
        // A link where the data region goes, and a control region of another user that others may write.
        Files.createSymbolicLink(RunDirectory.dataRegionFile(runDir, "s"), target);
        final Path control = RunDirectory.controlRegionFile(runDir, "vm1");
        Files.write(control, new byte[0]);
        Files.setPosixFilePermissions(control, PosixFilePermissions.fromString("rw-rw-rw-"));
        Files.setOwner(control, runDir.getFileSystem().getUserPrincipalLookupService().lookupPrincipalByName("nobody"));
        final Object plantedInode = Files.getAttribute(control, "unix:ino");

        broker = start();
        assertEquals("victim\n", Files.readString(target), "the link's target was written");
        assertFalse(Files.isSymbolicLink(RunDirectory.dataRegionFile(runDir, "s")));
        assertEquals("root", Files.getOwner(control, LinkOption.NOFOLLOW_LINKS).getName());
        assertEquals("rw-------", mode(control));
        assertNotEquals(plantedInode, Files.getAttribute(control, "unix:ino"), "the planted file was reused");
        final AgentProcess cat = AgentProcess.run(broker, "vm1", "cat", "s/f.txt");
        assertEquals(0, cat.exitCode(), cat.stderr());
        assertEquals("contents\n", cat.stdoutText());
    }

    @Test
    void aRestartReusesTheBrokersOwnRegionFiles() throws Exception
    {
        broker = start();
        final Object inode = Files.getAttribute(RunDirectory.dataRegionFile(runDir, "s"), "unix:ino");
        broker.stop();
        broker = start();
        assertEquals(inode, Files.getAttribute(RunDirectory.dataRegionFile(runDir, "s"), "unix:ino"),
            "QEMU keeps the region it mapped: a restart must reuse the broker's own file");
    }

    private BrokerProcess start(final String... extra) throws IOException
    {
        final List<String> args = new ArrayList<>(List.of("--share", "s=" + share, "--guest", "vm1",
            "--region-size", Long.toString(TestShare.REGION), "--window-size", Integer.toString(TestShare.WINDOW)));
        args.addAll(List.of(extra));
        return BrokerProcess.start(runDir, args.toArray(new String[0]));
    }

    private static List<String> connect(final Path socket)
    {
        // What QEMU's -chardev socket does first: connect, then read the server's first message.
        return List.of(Files.isExecutable(Path.of("/usr/bin/python3")) ? "/usr/bin/python3" : "python3", "-c",
            "import socket, struct, sys\n" +
            "s = socket.socket(socket.AF_UNIX)\n" +
            "try:\n" +
            "    s.connect(sys.argv[1])\n" +
            "except OSError as e:\n" +
            "    print('refused: ' + type(e).__name__); sys.exit(0)\n" +
            "print('version %d' % struct.unpack('<q', s.recv(8))[0])\n",
            socket.toString());
    }

    private static String connectAs(final List<String> command) throws Exception
    {
        final Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        final boolean exited = process.waitFor(30, java.util.concurrent.TimeUnit.SECONDS);
        if (!exited)
        {
            process.destroyForcibly();
        }
        final String out = new String(process.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        assertTrue(exited, "the connecting process hangs: " + command);
        assertEquals(0, process.exitValue(), out);
        return out.strip();
    }

    private void refused(final String problem, final String detail) throws Exception
    {
        final BrokerProcess.Exited exited = BrokerProcess.runToExit(List.of(), runDir, "--share", "s=" + share,
            "--guest", "vm1");
        assertEquals(1, exited.exitCode(), exited.output());
        final List<String> lines = exited.output().strip().lines().toList();
        assertEquals(1, lines.size(), exited.output());
        final String line = lines.get(0);
        assertTrue(line.startsWith("pcb: run directory " + runDir + " " + problem), line);
        assertTrue(line.contains(detail), line);
        assertFalse(Files.exists(runDir.resolve("broker.pid"), LinkOption.NOFOLLOW_LINKS));
    }

    private static String mode(final Path path) throws IOException
    {
        return PosixFilePermissions.toString(Files.getPosixFilePermissions(path, LinkOption.NOFOLLOW_LINKS));
    }

    private static String group(final Path path) throws IOException
    {
        return Files.getFileAttributeView(path, PosixFileAttributeView.class, LinkOption.NOFOLLOW_LINKS)
            .readAttributes().group().getName();
    }
}
