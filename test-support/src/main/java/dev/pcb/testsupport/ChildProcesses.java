package dev.pcb.testsupport;

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
