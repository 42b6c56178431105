package dev.pcb.testsupport;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * Starts {@code pcb} subcommands as real child JVMs with the flags Agrona and Chronicle need, for the demo and the
 * end-to-end tests: a broker in its own process, agents in theirs.
 */
public final class JavaProcess
{
    /**
     * The {@code pcb} main class. Named, not referenced: this module sits below cli, whose jar must be on the class
     * path of whoever starts {@code pcb} processes (the system tests and the benchmarks depend on it for that).
     */
    public static final String PCB_MAIN_CLASS = "dev.pcb.cli.Pcb";

    private JavaProcess()
    {
    }

    /**
     * The JVM flags pcb needs, as built into this module's jar from the root pom's {@code pcb.jvm.flags} (the same line cli's
     * jar carries for its users).
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
        return javaCommand(PCB_MAIN_CLASS, args);
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
     * CPU a process has used so far, user plus system, from {@code /proc/PID/stat}.
     *
     * @param pid the process.
     * @return clock ticks (USER_HZ, 100 per second on Linux).
     * @throws IOException when the process is gone.
     */
    public static long cpuTicks(final long pid) throws IOException
    {
        final String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
        // After the command name's ")": state is field 3 of proc(5), utime 14 and stime 15.
        final String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        return Long.parseLong(fields[11]) + Long.parseLong(fields[12]);
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

    /**
     * Wait until a child (a {@code pcb broker}) prints the line "ready". Its output is read on a daemon thread for as
     * long as it runs, because a child blocked on a full pipe stops serving; every line, before and after "ready",
     * goes to {@code lines}.
     *
     * @param process   started with its error stream redirected into its output.
     * @param timeoutMs how long it may take.
     * @param lines     receives each line, on the reading thread.
     * @throws IOException when it exits, or is still silent after the timeout (it is then killed).
     */
    public static void awaitReady(final Process process, final long timeoutMs, final Consumer<String> lines)
        throws IOException
    {
        final CountDownLatch ready = new CountDownLatch(1);
        final Thread reader = new Thread(() ->
        {
            try (BufferedReader in = new BufferedReader(
                new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8)))
            {
                String line;
                while (null != (line = in.readLine()))
                {
                    lines.accept(line);
                    if ("ready".equals(line.trim()))
                    {
                        ready.countDown();
                    }
                }
            }
            catch (final IOException ignore)
            {
                // The process exited.
            }
        }, "pcb-child-output");
        reader.setDaemon(true);
        reader.start();

        final long deadlineNs = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
        try
        {
            while (!ready.await(20, TimeUnit.MILLISECONDS))
            {
                if (!reader.isAlive())
                {
                    throw new IOException("exited before it printed \"ready\"");
                }
                if (System.nanoTime() - deadlineNs > 0)
                {
                    process.destroyForcibly();
                    throw new IOException("did not print \"ready\" within " + timeoutMs + " ms");
                }
            }
        }
        catch (final InterruptedException ex)
        {
            Thread.currentThread().interrupt();
            process.destroyForcibly();
            throw new IOException("interrupted while waiting for \"ready\"", ex);
        }
    }
}
