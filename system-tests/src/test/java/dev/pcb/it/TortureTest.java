package dev.pcb.it;

import dev.pcb.cli.InspectCommand;
import dev.pcb.testsupport.BrokerProcess;
import dev.pcb.testsupport.JavaProcess;
import dev.pcb.testsupport.PcbExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The host keeps rewriting, replacing, deleting, appending and truncating files while four reader processes open
 * and read them: every read is exactly one version the writer produced, or STALE; nothing stays pinned afterwards.
 */
@Timeout(180)
class TortureTest
{
    private static final int FILES = 8;
    private static final int SECONDS = Integer.getInteger("pcb.torture.seconds", 20);

    @RegisterExtension
    final PcbExtension pcb = new PcbExtension("torture");

    @TempDir
    Path shareDir;

    private BrokerProcess broker;

    @Test
    void readersSeeWholeVersionsOrStaleNeverTornBytes() throws Exception
    {
        broker = pcb.startBrokerWith("--share", "data=" + shareDir,
            "--guest", "vm1", "--guest", "vm2", "--region-size", "4m", "--window-size", "16k");

        final Process writer = start(JavaProcess.javaCommand(TortureWriter.class.getName(), shareDir.toString(),
            Integer.toString(FILES), Integer.toString(SECONDS + 2), Integer.toString(120 * 1024)));
        final String firstLine = new String(writer.getInputStream().readNBytes("initialized\n".length()),
            StandardCharsets.UTF_8);
        assertEquals("initialized\n", firstLine);

        final List<Process> readers = new ArrayList<>();
        for (int i = 0; i < 4; i++)
        {
            readers.add(start(JavaProcess.javaCommand(TortureReader.class.getName(), broker.runDir().toString(),
                i % 2 == 0 ? "vm1" : "vm2", Integer.toString(FILES), Integer.toString(SECONDS))));
        }

        long ok = 0;
        long stale = 0;
        final Pattern counts = Pattern.compile("reader ok=(\\d+) stale=(\\d+) missing=(\\d+) empty=(\\d+) torn=(\\d+)");
        for (final Process reader : readers)
        {
            final String out = new String(reader.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            final String err = new String(reader.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
            assertTrue(reader.waitFor(60, TimeUnit.SECONDS));
            System.out.print(out);
            final Matcher m = counts.matcher(out);
            assertTrue(m.find(), "reader output: " + out + err);
            assertEquals(0, Long.parseLong(m.group(5)), "torn reads:\n" + out);
            assertEquals(0, reader.exitValue(), out + err);
            ok += Long.parseLong(m.group(1));
            stale += Long.parseLong(m.group(2));
        }
        final String writerOut = new String(writer.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(writer.waitFor(60, TimeUnit.SECONDS));
        assertEquals(0, writer.exitValue(), writerOut);
        System.out.print(writerOut);
        assertTrue(ok > 100, "too few verified reads to mean anything: " + ok);
        System.out.println("torture: verified=" + ok + " stale=" + stale);

        final String report = InspectCommand.report(broker.runDir(), 10_000);
        assertTrue(report.contains("pinned=0"), report);
        assertFalse(Pattern.compile("handles=[1-9]").matcher(report).find(), report);
        assertTrue(report.contains("guest vm1: clients=0") && report.contains("guest vm2: clients=0"), report);
    }

    private Process start(final List<String> command) throws Exception
    {
        return pcb.track(new ProcessBuilder(command).start());
    }
}
