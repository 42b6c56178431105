package dev.pcb.cli;

import dev.pcb.agent.AgentConfig;
import picocli.CommandLine;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.List;

/**
 * Where the broker's regions are: a run directory on the host, or devices found (or named) in a guest.
 */
public class RegionOptions
{
    @Option(names = "--run-dir", paramLabel = "DIR", description = "Host-local mode: the broker's run directory.")
    Path runDir;

    @Option(names = "--guest", paramLabel = "NAME",
        description = "The guest name (required with --run-dir; in a VM only when several are attached).")
    String guest;

    @Option(names = "--device", paramLabel = "PATH",
        description = "Use these region files or resource2 BARs instead of scanning PCI devices.")
    List<Path> devices;

    /**
     * The agent configuration these options say.
     *
     * @param spec the command, for usage errors.
     * @return a configuration to attach with.
     */
    AgentConfig config(final CommandLine.Model.CommandSpec spec)
    {
        final AgentConfig config = new AgentConfig().guest(guest);
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
        return config;
    }
}
