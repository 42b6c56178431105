package dev.pcb.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

import java.io.PrintWriter;

/**
 * The {@code pcb} command: {@code broker} on the host, {@code agent} wherever files are read, and the tools around
 * them.
 */
@Command(
    name = "pcb",
    mixinStandardHelpOptions = true,
    versionProvider = Pcb.Version.class,
    description = "Shared page-cache broker: many VMs read the same host files through one copy in shared memory.",
    subcommands = {
        BrokerCommand.class,
        AgentCommand.class,
        MountCommand.class,
        UmountCommand.class,
        QemuArgsCommand.class,
        LibvirtXmlCommand.class,
        StatCommand.class,
        WarmCommand.class,
        InspectCommand.class,
        VersionsCommand.class,
        DemoCommand.class,
        CommandLine.HelpCommand.class
    })
public final class Pcb implements Runnable
{
    /** Exit code of a failed operation: the one-line message on stderr says why. */
    public static final int EXIT_FAILURE = 1;
    /** Exit code of a usage error. */
    public static final int EXIT_USAGE = 2;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    /**
     * Run pcb.
     *
     * @param args command line.
     */
    public static void main(final String[] args)
    {
        Logging.configure();
        System.exit(execute(args));
    }

    /**
     * Run pcb without exiting, for tests and the demo.
     *
     * @param args command line.
     * @return the exit code.
     */
    public static int execute(final String... args)
    {
        final CommandLine commandLine = new CommandLine(new Pcb());
        commandLine.setExecutionExceptionHandler((ex, cmd, parseResult) ->
        {
            final PrintWriter err = cmd.getErr();
            err.println("pcb: " + (null == ex.getMessage() ? ex.toString() : ex.getMessage()));
            err.flush();
            return EXIT_FAILURE;
        });
        return commandLine.execute(args);
    }

    /** {@inheritDoc} */
    public void run()
    {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    /**
     * Version from the jar manifest, or "dev" when run from classes.
     */
    static final class Version implements CommandLine.IVersionProvider
    {
        /** {@inheritDoc} */
        public String[] getVersion()
        {
            final String version = Pcb.class.getPackage().getImplementationVersion();
            return new String[]{"pcb " + (null == version ? "dev" : version) + " (Java " + Runtime.version() + ")"};
        }
    }
}
