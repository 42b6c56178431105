package dev.pcb.it;

import dev.pcb.testsupport.BrokerProcess;
import dev.pcb.testsupport.FileTrees;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Guest isolation rests on Agrona's bounds checks: a broker whose JVM has them turned off must not start.
 */
@Timeout(60)
class BoundsChecksTest
{
    private Path share;
    private Path runDir;

    @AfterEach
    void tearDown() throws Exception
    {
        FileTrees.delete(share);
        FileTrees.delete(runDir);
    }

    @Test
    void aBrokerWithBoundsChecksDisabledRefusesToStartWithOneLine() throws Exception
    {
        share = Files.createTempDirectory(Path.of("/dev/shm"), "pcb-bounds-share");
        runDir = BrokerProcess.newRunDir("bounds");
        final BrokerProcess.Exited exited = BrokerProcess.runToExit(
            List.of("-Dagrona.disable.bounds.checks=true"), runDir, "--share", "s=" + share, "--guest", "vm1");

        assertEquals(1, exited.exitCode(), exited.output());
        final List<String> lines = exited.output().strip().lines().toList();
        assertEquals(1, lines.size(), exited.output());
        assertTrue(lines.get(0).startsWith("pcb: ") && lines.get(0).contains("agrona.disable.bounds.checks"),
            exited.output());
        assertFalse(Files.exists(runDir.resolve("broker.pid")), "a refused broker leaves no pid file");
    }
}
