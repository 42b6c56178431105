package dev.pcb.bench;

import dev.pcb.cli.FileTrees;
import dev.pcb.cli.JavaProcess;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A {@code pcb broker} in its own JVM, as it runs in production, so a benchmark measures the cross-process ring
 * and the cross-process mapping rather than two threads of one heap. Its run directory is a fresh directory on
 * tmpfs, deleted on {@link #close()}; a shutdown hook stops the broker if the benchmark JVM exits without closing.
 */
public final class BrokerProcess implements AutoCloseable
{
    /** How long a broker may take to print "ready": JVM start, region creation, on a loaded 2-core machine. */
    private static final long READY_TIMEOUT_MS = 30_000;
    /** The same with many guests, each a control region to create. */
    private static final long MANY_GUESTS_READY_TIMEOUT_MS = 60_000;
    private static final int KEPT_OUTPUT_LINES = 40;

    private final Process process;
    private final Path runDir;
    private final Thread shutdownHook;
    private boolean closed;

    private BrokerProcess(final Process process, final Path runDir)
    {
        this.process = process;
        this.runDir = runDir;
        this.shutdownHook = new Thread(this::stop, "pcb-bench-broker-stop");
        Runtime.getRuntime().addShutdownHook(shutdownHook);
    }

    /**
     * Start a broker serving one share to one guest and wait until it prints "ready".
     *
     * @param shareName  share name.
     * @param shareDir   host directory of the share.
     * @param guest      guest name.
     * @param regionSize data region size, a power of two.
     * @param windowSize window size, a power of two.
     * @return the running broker.
     * @throws IOException when it does not come up in time; the message carries its last output.
     */
    public static BrokerProcess start(
        final String shareName, final Path shareDir, final String guest, final long regionSize, final int windowSize)
        throws IOException
    {
        return start(READY_TIMEOUT_MS, List.of(
            "--share", shareName + "=" + shareDir,
            "--guest", guest,
            "--region-size", Long.toString(regionSize),
            "--window-size", Integer.toString(windowSize)));
    }

    /**
     * Start a broker with any arguments and wait until it prints "ready"; allows for many guests.
     *
     * @param brokerArgs what follows {@code pcb broker --run-dir DIR}: shares, guests, sizes, options.
     * @return the running broker.
     * @throws IOException when it does not come up in time; the message carries its last output.
     */
    public static BrokerProcess start(final List<String> brokerArgs) throws IOException
    {
        return start(MANY_GUESTS_READY_TIMEOUT_MS, brokerArgs);
    }

    private static BrokerProcess start(final long readyTimeoutMs, final List<String> brokerArgs) throws IOException
    {
        final Path runDir = Files.createTempDirectory(BenchData.shmBase(), "pcb-bench-");
        final List<String> args = new ArrayList<>(List.of("broker", "--run-dir", runDir.toString()));
        args.addAll(brokerArgs);
        final Process process = JavaProcess.pcb(args.toArray(new String[0])).redirectErrorStream(true).start();
        final BrokerProcess broker = new BrokerProcess(process, runDir);
        try
        {
            broker.awaitReady(readyTimeoutMs);
        }
        catch (final IOException | RuntimeException ex)
        {
            broker.close();
            throw ex;
        }
        return broker;
    }

    /** @return the broker's run directory, for {@code AgentConfig.runDir}. */
    public Path runDir()
    {
        return runDir;
    }

    /** @return the broker's process id. */
    public long pid()
    {
        return process.pid();
    }

    /** @return the broker's process, for sampling its memory. */
    public Process process()
    {
        return process;
    }

    private void awaitReady(final long readyTimeoutMs) throws IOException
    {
        final Deque<String> seen = new ArrayDeque<>();
        try
        {
            JavaProcess.awaitReady(process, readyTimeoutMs, (line) ->
            {
                synchronized (seen)
                {
                    seen.addLast(line);
                    if (seen.size() > KEPT_OUTPUT_LINES)
                    {
                        seen.removeFirst();
                    }
                }
            });
        }
        catch (final IOException ex)
        {
            synchronized (seen)
            {
                throw new IOException("broker " + ex.getMessage() + "; its output:\n" + String.join("\n", seen), ex);
            }
        }
    }

    /**
     * Stop the broker (SIGTERM, so it closes its regions cleanly) and delete its run directory.
     */
    public void close()
    {
        stop();
        try
        {
            Runtime.getRuntime().removeShutdownHook(shutdownHook);
        }
        catch (final IllegalStateException ignore)
        {
            // Already shutting down: the hook runs stop(), which is idempotent.
        }
    }

    private synchronized void stop()
    {
        if (closed)
        {
            return;
        }
        closed = true;
        process.destroy();
        try
        {
            if (!process.waitFor(10, TimeUnit.SECONDS))
            {
                process.destroyForcibly();
                process.waitFor(10, TimeUnit.SECONDS);
            }
        }
        catch (final InterruptedException ex)
        {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
        }
        deleteTree(runDir);
    }

    static void deleteTree(final Path dir)
    {
        try
        {
            FileTrees.delete(dir);
        }
        catch (final IOException ex)
        {
            System.err.println("pcb-bench: could not delete " + dir + ": " + ex);
        }
    }
}
