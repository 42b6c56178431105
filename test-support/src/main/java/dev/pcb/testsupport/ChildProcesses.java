package dev.pcb.testsupport;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The child processes a test started, killed for sure when it ends, so no agent, reader or writer outlives it.
 */
public final class ChildProcesses implements AutoCloseable
{
    private final List<Process> processes = new ArrayList<>();

    /**
     * Track a process for {@link #close()}.
     *
     * @param process started by the test.
     * @return the process.
     */
    public Process track(final Process process)
    {
        processes.add(process);
        return process;
    }

    /**
     * Stop tracking a process the test already waited for.
     *
     * @param process a tracked process.
     */
    public void forget(final Process process)
    {
        processes.remove(process);
    }

    /**
     * Send a signal with kill(1), as an operator would (SIGSTOP a filesystem or broker, SIGHUP a mount).
     *
     * @param pid    the process.
     * @param signal its name for kill, e.g. {@code "-STOP"}.
     * @throws IOException          when kill fails or does not end within 10 s.
     * @throws InterruptedException if interrupted.
     */
    public static void signal(final long pid, final String signal) throws IOException, InterruptedException
    {
        final Process kill = new ProcessBuilder("kill", signal, Long.toString(pid)).inheritIO().start();
        if (!kill.waitFor(10, TimeUnit.SECONDS) || 0 != kill.exitValue())
        {
            kill.destroyForcibly();
            throw new IOException("kill " + signal + " " + pid + " failed");
        }
    }

    /** Kill every tracked process and wait for it. */
    public void close() throws InterruptedException
    {
        for (final Process process : processes)
        {
            process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
        processes.clear();
    }
}
