package dev.pcb.cli;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Starts {@code pcb} subcommands as real child JVMs with the flags Agrona and Chronicle need, for the demo and the
 * end-to-end tests: a broker in its own process, agents in theirs.
 */
public final class JavaProcess
{
    private JavaProcess()
    {
    }

    /**
     * The JVM flags pcb needs, as built into the jar from the root pom's {@code pcb.jvm.flags}.
     *
     * @return flags, plus the native-access flag on JDK 24 and later.
     */
    public static List<String> jvmFlags()
    {
        return FLAGS;
    }

    private static final List<String> FLAGS = loadFlags();

    private static List<String> loadFlags()
    {
        try (InputStream in = JavaProcess.class.getResourceAsStream("jvm-flags.txt"))
        {
            final List<String> flags = new ArrayList<>();
            if (null != in)
            {
                for (final String flag : new String(in.readAllBytes(), StandardCharsets.UTF_8).trim().split("\\s+"))
                {
                    if (!flag.isEmpty() && !flag.startsWith("${"))
                    {
                        flags.add(flag);
                    }
                }
            }
            if (Runtime.version().feature() >= 24)
            {
                flags.add("--enable-native-access=ALL-UNNAMED");
                flags.add("--sun-misc-unsafe-memory-access=allow");
            }
            return List.copyOf(flags);
        }
        catch (final IOException ex)
        {
            throw new UncheckedIOException(ex);
        }
    }

    /**
     * The command line that runs {@code pcb ARGS} in a new JVM like this one.
     *
     * @param args pcb arguments, for example "broker", "--run-dir", ...
     * @return java, flags, class path, main class and arguments.
     */
    public static List<String> pcbCommand(final String... args)
    {
        return javaCommand(Pcb.class.getName(), args);
    }

    /**
     * The command line that runs a main class in a new JVM like this one, with this JVM's class path.
     *
     * @param mainClass class with a main method.
     * @param args      its arguments.
     * @return java, flags, class path, main class and arguments.
     */
    public static List<String> javaCommand(final String mainClass, final String... args)
    {
        final List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.addAll(jvmFlags());
        command.add("-Xmx256m");
        command.add("-cp");
        command.add(System.getProperty("java.class.path"));
        command.add(mainClass);
        command.addAll(Arrays.asList(args));
        return command;
    }

    /**
     * Start {@code pcb ARGS} in a new JVM.
     *
     * @param args pcb arguments.
     * @return a builder ready to start; set redirects as needed.
     */
    public static ProcessBuilder pcb(final String... args)
    {
        return new ProcessBuilder(pcbCommand(args));
    }
}
