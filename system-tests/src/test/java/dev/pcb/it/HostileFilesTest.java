package dev.pcb.it;

import dev.pcb.testsupport.AgentProcess;
import dev.pcb.testsupport.TestShare;
import dev.pcb.testsupport.BrokerProcess;
import dev.pcb.agent.AgentConfig;
import dev.pcb.agent.PcbAgent;
import dev.pcb.agent.PcbFile;
import dev.pcb.agent.WindowView;
import dev.pcb.testsupport.FileTrees;
import dev.pcb.cli.InspectCommand;
import dev.pcb.nativeshim.Linux;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Host files a guest must not be able to turn against the broker: FIFOs, device nodes, sockets, files under a
 * lease, and endless spellings of one path. Each is refused (or absorbed) with one clear line while another guest
 * keeps reading and the conductor keeps heartbeating.
 */
@Timeout(180)
class HostileFilesTest
{
    private static final int ALIAS_OPENS = 2_000;

    private Path shareDir;
    private BrokerProcess broker;
    private BrokerWatch watch;
    private ServerSocketChannel socket;
    private VerifyingReader reader;
    private byte[] ok;

    @BeforeEach
    void setUp() throws Exception
    {
        shareDir = Files.createTempDirectory(Path.of("/dev/shm"), "pcb-hostile-share");
        ok = TestShare.sha256(new byte[0]).repeat(3_000).getBytes();
        Files.write(shareDir.resolve("ok.bin"), ok);
        run("mkfifo", shareDir.resolve("pipe").toString());
        // /dev/null's numbers: opening it is harmless, but the broker must not open a device at all.
        run("mknod", shareDir.resolve("null").toString(), "c", "1", "3");
        socket = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        socket.bind(UnixDomainSocketAddress.of(shareDir.resolve("sock")));
        broker = BrokerProcess.start(BrokerProcess.newRunDir("hostile"), "--share", "s=" + shareDir,
            "--guest", "vm1", "--guest", "vm2", "--region-size", Long.toString(TestShare.REGION),
            "--window-size", Integer.toString(TestShare.WINDOW));
        watch = BrokerWatch.start(broker.runDir());
        reader = VerifyingReader.start(broker.runDir(), "vm2", Map.of("s/ok.bin", ok));
    }

    @AfterEach
    void tearDown() throws Exception
    {
        if (null != reader)
        {
            reader.close();
        }
        if (null != watch)
        {
            watch.close();
        }
        if (null != broker)
        {
            broker.close();
        }
        if (null != socket)
        {
            socket.close();
        }
        FileTrees.delete(shareDir);
    }

    @Test
    void fifoDeviceAndSocketAreRefusedWithOneLineWhileAnotherGuestReads() throws Exception
    {
        refused("s/pipe", "s/pipe: not a regular file or directory (fifo)");
        refused("s/null", "s/null: not a regular file or directory (character device)");
        refused("s/sock", "s/sock: not a regular file or directory (socket)");
        // A symlink inside the share to a FIFO is followed, then refused for what it leads to.
        Files.createSymbolicLink(shareDir.resolve("to-pipe"), Path.of("pipe"));
        refused("s/to-pipe", "s/to-pipe: not a regular file or directory (fifo)");

        assertServedThroughout();
        final AgentProcess cat = AgentProcess.run(broker, "vm1", "cat", "s/ok.bin");
        assertEquals(0, cat.exitCode(), cat.stderr());
        assertArrayEquals(ok, cat.stdout());
    }

    @Test
    void aFileUnderAnotherProgramsLeaseFailsAtOnceInsteadOfStallingTheBroker() throws Exception
    {
        final Path leased = shareDir.resolve("leased.bin");
        Files.write(leased, ok);
        // This JVM plays a host program holding a write lease; a lease break must not kill it.
        Linux.ignoreSignal(Linux.SIGIO);
        final int fd = Linux.openFile(leased.toString(), Linux.O_RDWR);
        try
        {
            assertTrue(Linux.tryWriteLease(fd), "the test could not take its write lease");
            final long startNs = System.nanoTime();
            refused("s/leased.bin", "s/leased.bin: busy on the host");
            final long ms = (System.nanoTime() - startNs) / 1_000_000;
            assertTrue(ms < 15_000, "refused only after " + ms + " ms");
            assertServedThroughout();
        }
        finally
        {
            Linux.close(fd);
        }
        final AgentProcess cat = AgentProcess.run(broker, "vm1", "cat", "s/leased.bin");
        assertEquals(0, cat.exitCode(), "once the lease is gone the file opens: " + cat.stderr());
    }

    @Test
    void aliasOpensLeaveOnePathEntryPerLiveVersion() throws Exception
    {
        try (PcbAgent agent = PcbAgent.attach(new AgentConfig().runDir(broker.runDir()).guest("vm1")
            .connectTimeout(Duration.ofSeconds(20))))
        {
            for (int i = 0; i < ALIAS_OPENS; i++)
            {
                // Distinct spellings, each valid on any broker: 1 to 2,000 "./" before the name.
                final String path = "s/" + "./".repeat(1 + i) + "ok.bin";
                try (PcbFile f = agent.open(path); WindowView view = f.acquire(0))
                {
                    assertEquals(ok.length, f.size());
                    assertEquals(ok[0], view.buffer().getByte(0));
                }
            }
        }
        final String report = InspectCommand.report(broker.runDir(), 5_000);
        final Matcher m = Pattern.compile("share s: .* versions=(\\d+) paths=(\\d+)").matcher(report);
        assertTrue(m.find(), report);
        final int versions = Integer.parseInt(m.group(1));
        final int paths = Integer.parseInt(m.group(2));
        assertTrue(versions <= 1, "one file was read: " + report);
        assertTrue(paths <= versions, ALIAS_OPENS + " spellings left " + paths + " path entries: " + report);
        assertServedThroughout();
    }

    private void refused(final String path, final String message) throws Exception
    {
        final AgentProcess cat = AgentProcess.run(broker, "vm1", "cat", path);
        final String err = cat.stderr().strip();
        assertEquals(1, cat.exitCode(), err);
        assertEquals(1, err.lines().count(), err);
        assertTrue(err.startsWith("pcb: ") && err.contains(message), err);
        assertEquals(0, cat.stdout().length);
    }

    private void assertServedThroughout()
    {
        assertNull(reader.firstError(), "the other guest's reads failed");
        assertEquals(0, reader.wrongBytes(), "the other guest read wrong bytes");
        assertTrue(reader.reads() > 0, "the other guest read nothing");
        assertTrue(watch.advances() > 0, "the heartbeat never advanced");
        assertTrue(watch.maxGapMs() < BrokerWatch.STALL_MS,
            "the conductor's heartbeat stood still for " + watch.maxGapMs() + " ms");
        assertTrue(broker.process().isAlive(), broker.output());
    }

    private static void run(final String... command) throws Exception
    {
        final Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        assertTrue(process.waitFor(10, TimeUnit.SECONDS), String.join(" ", command));
        assertEquals(0, process.exitValue(), String.join(" ", command) + ": " +
            new String(process.getInputStream().readAllBytes()));
    }
}
