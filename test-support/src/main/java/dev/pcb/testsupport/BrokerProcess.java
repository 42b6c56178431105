package dev.pcb.testsupport;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * A real {@code pcb broker} in its own JVM, as it runs in production, for the system tests and the benchmarks:
 * started with a bounded wait for "ready", its output kept for diagnostics and for the lines a test reads (the
 * metrics address, the QEMU arguments), stopped with SIGTERM. A shutdown hook stops it if the JVM that started it
 * exits without closing it.
 * <p>
 * The broker runs {@link JavaProcess#PCB_MAIN_CLASS} from this JVM's class path, which must hold cli's jar.
 */
public final class BrokerProcess implements AutoCloseable
{
    /** How long a broker may take to print "ready": JVM start and region creation, on a loaded 2-core machine. */
    public static final Duration READY_TIMEOUT = Duration.ofSeconds(30);

    private final Process process;
    private final Path runDir;
    private final StringBuffer output = new StringBuffer();
    private final Thread shutdownHook;

    private BrokerProcess(final Process process, final Path runDir)
    {
        this.process = process;
        this.runDir = runDir;
        this.shutdownHook = new Thread(this::stopAndDeleteQuietly, "pcb-broker-stop");
        Runtime.getRuntime().addShutdownHook(shutdownHook);
    }

    /**
     * A fresh run directory on /dev/shm.
     *
     * @param name test name.
     * @return a path that does not exist yet.
     */
    public static Path newRunDir(final String name)
    {
        return Path.of("/dev/shm", "pcb-test-" + name + "-" + ProcessHandle.current().pid() + "-" + System.nanoTime());
    }

    /**
     * Start a broker and wait until it serves, at most {@link #READY_TIMEOUT}.
     *
     * @param runDir run directory; it need not exist.
     * @param args   arguments after {@code --run-dir DIR}: shares, guests, sizes.
     * @return the running broker.
     * @throws IOException when it does not come up in time; the message carries its output.
     */
    public static BrokerProcess start(final Path runDir, final String... args) throws IOException
    {
        return start(runDir, READY_TIMEOUT, List.of(args));
    }

    /**
     * Start a broker and wait until it serves.
     *
     * @param runDir       run directory; it need not exist.
     * @param readyTimeout how long it may take, longer with many guests (a control region each).
     * @param args         arguments after {@code --run-dir DIR}: shares, guests, sizes.
     * @return the running broker.
     * @throws IOException when it does not come up in time (it is then stopped and its run directory deleted); the
     *                     message carries its output.
     */
    public static BrokerProcess start(final Path runDir, final Duration readyTimeout, final List<String> args)
        throws IOException
    {
        final List<String> all = new ArrayList<>(List.of("broker", "--run-dir", runDir.toString()));
        all.addAll(args);
        return start(JavaProcess.pcb(all.toArray(new String[0])), runDir, readyTimeout);
    }

    /**
     * Start a broker from any {@code pcb broker --run-dir DIR ...} command, for example the release bundle's
     * {@code bin/pcb}, and wait until it serves, at most {@link #READY_TIMEOUT}.
     *
     * @param command the whole command, environment set.
     * @param runDir  the run directory the command names.
     * @return the running broker.
     * @throws IOException when it does not come up in time (it is then stopped and its run directory deleted).
     */
    public static BrokerProcess start(final ProcessBuilder command, final Path runDir) throws IOException
    {
        return start(command, runDir, READY_TIMEOUT);
    }

    private static BrokerProcess start(final ProcessBuilder command, final Path runDir, final Duration readyTimeout)
        throws IOException
    {
        final Process process = command.redirectErrorStream(true).start();
        final BrokerProcess broker = new BrokerProcess(process, runDir);
        try
        {
            JavaProcess.awaitReady(process, readyTimeout.toMillis(), (line) -> broker.output.append(line).append('\n'));
        }
        catch (final IOException ex)
        {
            broker.stopAndDeleteQuietly();
            broker.removeShutdownHook();
            throw new IOException("broker did not become ready (" + ex.getMessage() + "):\n" + broker.output, ex);
        }
        return broker;
    }

    /**
     * Run a broker that is expected to refuse to start, and wait for it to exit.
     *
     * @param jvmFlags extra JVM flags, placed before the class path (for example a {@code -D} property).
     * @param runDir   run directory.
     * @param args     arguments after {@code --run-dir DIR}.
     * @return its exit code and everything it printed.
     * @throws IOException          when it is still running after 30 s (it is then killed).
     * @throws InterruptedException if interrupted.
     */
    public static Exited runToExit(final List<String> jvmFlags, final Path runDir, final String... args)
        throws IOException, InterruptedException
    {
        final List<String> all = new ArrayList<>(List.of("broker", "--run-dir", runDir.toString()));
        all.addAll(List.of(args));
        final List<String> command = JavaProcess.pcbCommand(all.toArray(new String[0]));
        command.addAll(1, jvmFlags);
        final Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        process.getOutputStream().close();
        final CompletableFuture<String> output = CompletableFuture.supplyAsync(() ->
            {
                try
                {
                    return new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
                }
                catch (final IOException ex)
                {
                    return ex.toString();
                }
            });
        if (!process.waitFor(30, TimeUnit.SECONDS))
        {
            process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            throw new IOException("broker still running after 30 s: " + command);
        }
        return new Exited(process.exitValue(), output.join());
    }

    /**
     * A broker process that has exited.
     *
     * @param exitCode its exit code.
     * @param output   its standard output and error, merged.
     */
    public record Exited(int exitCode, String output)
    {
    }

    /** @return the run directory, for {@code AgentConfig.runDir}. */
    public Path runDir()
    {
        return runDir;
    }

    /** @return the broker process. */
    public Process process()
    {
        return process;
    }

    /** @return the broker's process id. */
    public long pid()
    {
        return process.pid();
    }

    /**
     * CPU the broker process has used so far, user plus system, from {@code /proc/PID/stat}.
     *
     * @return clock ticks (USER_HZ, 100 per second on Linux).
     * @throws IOException when the process is gone.
     */
    public long cpuTicks() throws IOException
    {
        return JavaProcess.cpuTicks(pid());
    }

    /**
     * CPU per thread of the broker, for a failure message that says which thread was busy.
     *
     * @return "name tid: ticks" for every thread, busiest first.
     * @throws IOException when the process is gone.
     */
    public String threadCpuTicks() throws IOException
    {
        final List<String> lines = new ArrayList<>();
        try (var tasks = Files.list(Path.of("/proc", Long.toString(pid()), "task")))
        {
            for (final Path task : (Iterable<Path>)tasks::iterator)
            {
                final String stat = Files.readString(task.resolve("stat"));
                final String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
                final long ticks = Long.parseLong(fields[11]) + Long.parseLong(fields[12]);
                lines.add(String.format("%06d %s %s", ticks, Files.readString(task.resolve("comm")).trim(),
                    task.getFileName()));
            }
        }
        lines.sort(java.util.Comparator.reverseOrder());
        return String.join(", ", lines);
    }

    /** @return everything the broker printed so far. */
    public String output()
    {
        return output.toString();
    }

    /**
     * SIGTERM and wait (SIGKILL after 30 s); the run directory stays, for a restart over it.
     *
     * @return the exit code.
     * @throws InterruptedException if interrupted.
     */
    public int stop() throws InterruptedException
    {
        process.destroy();
        if (!process.waitFor(30, TimeUnit.SECONDS))
        {
            process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
        return process.exitValue();
    }

    /**
     * SIGSTOP: the broker stops serving and heartbeating, as in a long pause, and keeps every state.
     *
     * @throws IOException          when kill fails.
     * @throws InterruptedException if interrupted.
     */
    public void pause() throws IOException, InterruptedException
    {
        signal("-STOP");
    }

    /**
     * SIGCONT after {@link #pause()}.
     *
     * @throws IOException          when kill fails.
     * @throws InterruptedException if interrupted.
     */
    public void resume() throws IOException, InterruptedException
    {
        signal("-CONT");
    }

    private void signal(final String signal) throws IOException, InterruptedException
    {
        ChildProcesses.signal(process.pid(), signal);
    }

    /**
     * SIGKILL and wait.
     *
     * @throws InterruptedException if interrupted.
     */
    public void kill() throws InterruptedException
    {
        process.destroyForcibly();
        process.waitFor(10, TimeUnit.SECONDS);
    }

    /**
     * Stop if running and delete the run directory; use {@link #stop()} to keep the directory for a restart.
     * If interrupted while the broker stops, it is killed and the interrupt flag set again: the directory goes anyway.
     *
     * @throws IOException when the run directory cannot be deleted.
     */
    public void close() throws IOException
    {
        try
        {
            if (process.isAlive())
            {
                // A paused broker would not act on SIGTERM.
                resume();
                stop();
            }
        }
        catch (final InterruptedException ex)
        {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
        }
        removeShutdownHook();
        FileTrees.delete(runDir);
    }

    private void removeShutdownHook()
    {
        try
        {
            Runtime.getRuntime().removeShutdownHook(shutdownHook);
        }
        catch (final IllegalStateException ignore)
        {
            // Already shutting down: the hook itself stops the broker.
        }
    }

    private void stopAndDeleteQuietly()
    {
        process.destroy();
        try
        {
            if (!process.waitFor(10, TimeUnit.SECONDS))
            {
                process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
            FileTrees.delete(runDir);
        }
        catch (final IOException ex)
        {
            System.err.println("pcb: could not delete " + runDir + ": " + ex);
        }
        catch (final InterruptedException ex)
        {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
        }
    }
}
