package dev.pcb.cli;

import dev.pcb.fs.AdvancePolicy;
import dev.pcb.fs.MountAdvancer;
import dev.pcb.fs.MountState;
import dev.pcb.nativeshim.ErrnoException;
import dev.pcb.nativeshim.Linux;
import picocli.CommandLine;

import java.io.IOException;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * The advance side of {@code pcb mount}: the {@code --auto-advance} policy, SIGHUP, and {@code --advance MOUNTPOINT},
 * which finds the mount through its {@link MountState} file, signals it and waits until the state file says the
 * advance is done.
 */
final class MountAdvance
{
    private MountAdvance()
    {
    }

    /**
     * Parse {@code never}, {@code idle}, {@code idle:DURATION} or {@code interval:DURATION}.
     *
     * @param value   the option's value.
     * @param command for the error.
     * @return the policy.
     */
    static AdvancePolicy policy(final String value, final CommandLine command)
    {
        final String v = value.trim().toLowerCase(java.util.Locale.ROOT);
        try
        {
            if ("never".equals(v))
            {
                return AdvancePolicy.never();
            }
            if ("idle".equals(v))
            {
                return AdvancePolicy.idle(TimeUnit.SECONDS.toNanos(1));
            }
            if (v.startsWith("idle:"))
            {
                return AdvancePolicy.idle(duration(v.substring(5)));
            }
            if (v.startsWith("interval:"))
            {
                return AdvancePolicy.interval(duration(v.substring(9)));
            }
        }
        catch (final RuntimeException ex)
        {
            // Reported below.
        }
        throw new CommandLine.ParameterException(command,
            "--auto-advance must be never, idle, idle:DURATION or interval:DURATION (e.g. 500ms, 30s, 5m), not " +
                value);
    }

    private static long duration(final String text)
    {
        return new VersionsCommand.DurationConverter().convert(text).toNanos();
    }

    /**
     * Have SIGHUP ask the advancer for an advance (instead of the JVM's default: shutting down), also when it was
     * inherited as ignored ({@code nohup pcb mount ...}).
     *
     * @param advancer the mount's advancer.
     * @throws ErrnoException never for SIGHUP.
     */
    @SuppressWarnings("removal")
    static void onSighup(final MountAdvancer advancer) throws ErrnoException
    {
        final sun.misc.SignalHandler handler = (signal) -> advancer.request("SIGHUP");
        if (sun.misc.SignalHandler.SIG_IGN == sun.misc.Signal.handle(new sun.misc.Signal("HUP"), handler))
        {
            // Ignored since the start: the JVM left it so. Take it back (a SIGHUP just now would end the mount).
            Linux.restoreDefaultSignal(Linux.SIGHUP);
            sun.misc.Signal.handle(new sun.misc.Signal("HUP"), handler);
        }
    }

    /**
     * {@code pcb mount --advance MOUNTPOINT}.
     *
     * @param mountPoint     the mount point.
     * @param timeoutSeconds how long to wait for the advance.
     * @param command        for output.
     * @return 0 once the advance is done, 1 when there is no such mount, it cannot be signalled, it ended, the
     * advance failed or did not finish in time.
     * @throws IOException when the state file cannot be read.
     * @throws InterruptedException if interrupted.
     */
    static int advance(final Path mountPoint, final long timeoutSeconds, final CommandLine command)
        throws IOException, InterruptedException
    {
        final Path file = MountState.fileOf(mountPoint);
        final MountState.Snapshot before = MountState.read(file);
        if (null == before || !before.alive())
        {
            command.getErr().println(mountPoint + ": no pcb mount serves it (" +
                (null == before ? "no " + file : file + " names pid " + before.pid() + ", which is gone") + ")");
            return 1;
        }
        // An advance already running may have read the newest version before this was asked: wait for the next.
        final long target = before.advances() + before.failures() + (before.advancing() ? 2 : 1);
        try
        {
            Linux.kill((int)before.pid(), Linux.SIGHUP);
        }
        catch (final ErrnoException ex)
        {
            command.getErr().println(mountPoint + ": cannot signal pcb mount pid " + before.pid() + ": " +
                ex.getMessage());
            return 1;
        }
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(timeoutSeconds);
        while (true)
        {
            final MountState.Snapshot now = MountState.read(file);
            if (null == now || now.pid() != before.pid() || !now.alive())
            {
                command.getErr().println(mountPoint + ": pcb mount pid " + before.pid() + " ended before it advanced");
                return 1;
            }
            if (!now.advancing() && now.advances() + now.failures() >= target)
            {
                if (now.failures() > before.failures())
                {
                    command.getErr().println(mountPoint + ": the advance failed, the mount stays on tree version " +
                        now.version() + " (its log says why)");
                    return 1;
                }
                command.getOut().println(mountPoint + ": share " + now.share() + " at tree version " + now.version());
                command.getOut().flush();
                return 0;
            }
            if (System.nanoTime() - deadline > 0)
            {
                command.getErr().println(mountPoint + ": pcb mount pid " + before.pid() + " did not advance within " +
                    timeoutSeconds + " s");
                return 1;
            }
            Thread.sleep(10);
        }
    }
}
