package dev.pcb.cli;

import dev.pcb.agent.PcbAgent;
import picocli.CommandLine;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.time.Duration;

/**
 * The options every command that reads through an agent shares: where the broker is ({@link RegionOptions}), and
 * how long to wait for it.
 */
public final class AgentOptions extends RegionOptions
{
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
        return PcbAgent.attach(config(spec).connectTimeout(Duration.ofSeconds(timeoutSeconds)));
    }
}
