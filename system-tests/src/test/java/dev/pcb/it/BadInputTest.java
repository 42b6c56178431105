package dev.pcb.it;

import dev.pcb.testsupport.AgentProcess;
import dev.pcb.testsupport.BrokerProcess;
import dev.pcb.testsupport.FileTrees;
import dev.pcb.testsupport.JavaProcess;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Bad input from the command line: each gives a non-zero exit and one line naming the problem, and the broker goes
 * on serving everyone.
 */
@Timeout(120)
class BadInputTest
{
    private static Path shareDir;
    private static Path outside;
    private static BrokerProcess broker;

    @BeforeAll
    static void start() throws Exception
    {
        shareDir = Files.createTempDirectory(Path.of("/dev/shm"), "pcb-bad-input-share");
        outside = Files.createTempDirectory(Path.of("/dev/shm"), "pcb-bad-input-outside");
        Files.writeString(outside.resolve("secret.txt"), "not for guests");
        Files.writeString(shareDir.resolve("ok.txt"), "fine\n");
        Files.createDirectories(shareDir.resolve("dir"));
        Files.createSymbolicLink(shareDir.resolve("escape"), outside.resolve("secret.txt"));
        Files.createSymbolicLink(shareDir.resolve("escape-dir"), outside);
        Files.createSymbolicLink(shareDir.resolve("inside-link"), Path.of("ok.txt"));
        // Absolute symlinks are refused even when they point inside: RESOLVE_BENEATH cannot prove them confined.
        Files.createSymbolicLink(shareDir.resolve("absolute-inside"), shareDir.resolve("ok.txt"));
        broker = BrokerProcess.start(BrokerProcess.newRunDir("bad-input"), "--share", "data=" + shareDir,
            "--guest", "vm1");
    }

    @AfterAll
    static void stop() throws Exception
    {
        if (null != broker)
        {
            broker.close();
        }
        FileTrees.delete(shareDir);
        FileTrees.delete(outside);
    }

    @ParameterizedTest(name = "{0} {1}")
    @CsvSource(delimiter = '|', value = {
        "cat    | data/missing.txt        | data/missing.txt: no such file or directory",
        "cat    | data/dir                | data/dir: is a directory",
        "cat    | data/../etc/passwd      | leaves the share",
        "cat    | data//etc/passwd        | absolute paths leave the share",
        "cat    | data/escape             | leads outside the share",
        "cat    | data/escape-dir/secret.txt | leads outside the share",
        "cat    | nosuch/file             | no share named \"nosuch\"",
        "ls     | data/ok.txt/x           | not a directory",
        "sha256 | data/missing.txt        | no such file or directory",
        "stat   | data/../../etc          | leaves the share",
        "cat    | data/absolute-inside    | is absolute",
    })
    void badPathsAreRefusedWithOneClearLine(final String command, final String path, final String message)
        throws Exception
    {
        final AgentProcess result = AgentProcess.run(broker, "vm1", command, path);
        assertEquals(1, result.exitCode(), result.stderr());
        final String err = result.stderr().trim();
        assertEquals(1, err.lines().count(), err);
        assertTrue(err.startsWith("pcb: ") && err.contains(message), err);
        assertEquals(0, result.stdout().length, "nothing may be printed for a refused path");
        stillServes();
    }

    @Test
    void aSymlinkInsideTheShareIsFollowed() throws Exception
    {
        final AgentProcess result = AgentProcess.run(broker, "vm1", "cat", "data/inside-link");
        assertEquals(0, result.exitCode(), result.stderr());
        assertEquals("fine\n", result.stdoutText());
    }

    @Test
    void anUnknownGuestAndNoBrokerAreReportedInBoundedTime() throws Exception
    {
        final long start = System.nanoTime();
        final Process process = new ProcessBuilder(JavaProcess.pcbCommand("agent", "--run-dir",
            broker.runDir().toString(), "--guest", "stranger", "--timeout", "1", "ls", "data")).start();
        final AgentProcess result = AgentProcess.await(process);
        assertEquals(1, result.exitCode());
        assertTrue(result.stderr().contains("no broker serves guest stranger"), result.stderr());
        assertTrue(System.nanoTime() - start < TimeUnit.SECONDS.toNanos(30));
        stillServes();
    }

    private static void stillServes() throws Exception
    {
        final AgentProcess ok = AgentProcess.run(broker, "vm1", "cat", "data/ok.txt");
        assertEquals(0, ok.exitCode(), ok.stderr());
        assertEquals("fine\n", ok.stdoutText());
    }
}
