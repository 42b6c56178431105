package dev.pcb.cli;

import dev.pcb.agent.AgentConfig;
import dev.pcb.agent.PcbAgent;
import picocli.CommandLine;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * The options every command that reads through an agent shares: where the broker is, and how long to wait for it.
 */
public final class AgentOptions
{
    @Option(names = "--run-dir", paramLabel = "DIR", description = "Host-local mode: the broker's run directory.")
    Path runDir;

    @Option(names = "--guest", paramLabel = "NAME",
        description = "The guest name (required with --run-dir; in a VM only when several are attached).")
    String guest;

    @Option(names = "--device", paramLabel = "PATH",
        description = "Use these region files or resource2 BARs instead of scanning PCI devices.")
    List<Path> devices;

    @Option(names = "--timeout", paramLabel = "SECONDS",
        description = "How long to wait for the broker (default: ${DEFAULT-VALUE}).")
    long timeoutSeconds = 10;

    /**
     * Attach as these options say.
     *
     * @param spec the command, for usage errors.
     * @return an attached agent.
     * @throws IOException when the broker is not there in time.
     */
    PcbAgent attach(final CommandLine.Model.CommandSpec spec) throws IOException
    {
        final AgentConfig config = new AgentConfig()
            .guest(guest)
            .connectTimeout(Duration.ofSeconds(timeoutSeconds));
        if (null != runDir)
        {
            if (null == guest)
            {
                throw new CommandLine.ParameterException(spec.commandLine(), "--guest is required with --run-dir");
            }
            config.runDir(runDir);
        }
        if (null != devices)
        {
            config.devices(devices.toArray(new Path[0]));
        }
        return PcbAgent.attach(config);
    }
}
