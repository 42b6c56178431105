package dev.pcb.cli;

import dev.pcb.layout.RunDirectory;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.concurrent.Callable;

/**
 * {@code pcb inspect}: ask the running broker what holds memory: windows by state, file versions with their handles
 * and windows, and each client's open files and pins.
 */
@Command(
    name = "inspect",
    mixinStandardHelpOptions = true,
    description = "Show file versions, handles and pins: why the broker holds the memory it holds.")
public final class InspectCommand implements Callable<Integer>
{
    @Option(names = "--run-dir", required = true, paramLabel = "DIR", description = "The broker's run directory.")
    Path runDir;

    @Option(names = "--timeout", paramLabel = "SECONDS", description = "How long to wait for the report (default: ${DEFAULT-VALUE}).")
    long timeoutSeconds = 5;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    /** {@inheritDoc} */
    public Integer call() throws IOException, InterruptedException
    {
        spec.commandLine().getOut().print(report(runDir, timeoutSeconds * 1000));
        spec.commandLine().getOut().flush();
        return 0;
    }

    /**
     * Ask the broker for a report and wait for it.
     *
     * @param runDir    the broker's run directory.
     * @param timeoutMs bounded wait.
     * @return the report text.
     * @throws IOException when no broker answers in time.
     * @throws InterruptedException if interrupted.
     */
    public static String report(final Path runDir, final long timeoutMs) throws IOException, InterruptedException
    {
        if (!Files.exists(RunDirectory.pidFile(runDir)))
        {
            throw new IOException("no broker runs on " + runDir + " (no " + RunDirectory.pidFile(runDir) + ")");
        }
        final Path report = RunDirectory.inspectReportFile(runDir);
        final FileTime before = Files.exists(report) ? Files.getLastModifiedTime(report) : FileTime.fromMillis(0);
        final Path request = RunDirectory.inspectRequestFile(runDir);
        Files.writeString(request, "", StandardCharsets.US_ASCII);
        final long deadline = System.currentTimeMillis() + timeoutMs;
        while (Files.exists(request) || !Files.exists(report) ||
            Files.getLastModifiedTime(report).compareTo(before) <= 0)
        {
            if (System.currentTimeMillis() > deadline)
            {
                Files.deleteIfExists(request);
                throw new IOException("the broker on " + runDir + " did not answer within " + timeoutMs + " ms");
            }
            Thread.sleep(20);
        }
        return Files.readString(report, StandardCharsets.UTF_8);
    }
}
