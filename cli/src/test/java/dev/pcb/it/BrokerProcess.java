package dev.pcb.it;

import dev.pcb.cli.FileTrees;
import dev.pcb.cli.JavaProcess;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * A real {@code pcb broker} in its own JVM, for end-to-end tests: started with a bounded wait for "ready", its
 * output kept for diagnostics, stopped with SIGTERM.
 */
public final class BrokerProcess implements AutoCloseable
{
    private final Process process;
    private final Path runDir;
    private final StringBuffer output = new StringBuffer();

    private BrokerProcess(final Process process, final Path runDir)
    {
        this.process = process;
        this.runDir = runDir;
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
     * Start a broker and wait until it serves.
     *
     * @param runDir run directory.
     * @param args   arguments after {@code --run-dir DIR}: shares, guests, sizes.
     * @return the running broker.
     * @throws IOException when it does not come up within 30 s.
     */
    public static BrokerProcess start(final Path runDir, final String... args) throws IOException
    {
        final List<String> all = new ArrayList<>(List.of("broker", "--run-dir", runDir.toString()));
        all.addAll(List.of(args));
        final Process process = JavaProcess.pcb(all.toArray(new String[0])).redirectErrorStream(true).start();
        final BrokerProcess broker = new BrokerProcess(process, runDir);
        try
        {
            JavaProcess.awaitReady(process, 30_000, (line) -> broker.output.append(line).append('\n'));
        }
        catch (final IOException ex)
        {
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
     * @throws IOException when it is still running after 30 s (it is then killed).
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

    /** @return the run directory. */
    public Path runDir()
    {
        return runDir;
    }

    /** @return the broker process. */
    public Process process()
    {
        return process;
    }

    /** @return everything the broker printed so far. */
    public String output()
    {
        return output.toString();
    }

    /**
     * SIGTERM and wait.
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
     */
    public void close() throws Exception
    {
        if (process.isAlive())
        {
            stop();
        }
        FileTrees.delete(runDir);
    }
}
