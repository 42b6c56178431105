package dev.pcb.fs;

import dev.pcb.agent.PcbException;
import org.agrona.concurrent.NanoClock;

import java.io.IOException;
import java.util.logging.Logger;

/**
 * The mount's advancing thread ({@code pcb-advance}): advances when asked ({@link #request}, from SIGHUP) and when
 * the {@link AdvancePolicy} says so, one advance at a time, and keeps the {@link MountState} file. Requests that
 * arrive while an advance runs are served by one more advance after it, so an advance asked for always starts after
 * the asking.
 */
public final class MountAdvancer implements Runnable, AutoCloseable
{
    private static final Logger LOG = Logger.getLogger(MountAdvancer.class.getName());
    /** How long {@link #close} waits for an advance that runs. */
    static final long CLOSE_WAIT_MS = 3_000;

    private final FuseServer server;
    private final PcbFileSystem fs;
    private final AdvancePolicy policy;
    private final MountState state;
    private final NanoClock clock;
    private final long waitNanos;
    private final Thread thread;
    private boolean requested;
    private boolean closed;
    private String reason;
    private volatile long advances;
    private volatile long failures;

    /**
     * An advancer; nothing runs until {@link #start}.
     *
     * @param server    the FUSE session.
     * @param policy    when to advance by itself.
     * @param state     the state file to keep, or null for none.
     * @param clock     time source of the policy.
     * @param waitNanos how long an advance waits for requests of the older tree (the request timeout).
     */
    public MountAdvancer(final FuseServer server, final AdvancePolicy policy, final MountState state,
        final NanoClock clock, final long waitNanos)
    {
        this.server = server;
        this.fs = server.fileSystem();
        this.policy = policy;
        this.state = state;
        this.clock = clock;
        this.waitNanos = waitNanos;
        this.thread = new Thread(this, "pcb-advance");
        thread.setDaemon(true);
    }

    /**
     * Write the first state and start the thread.
     *
     * @return this.
     */
    public MountAdvancer start()
    {
        writeState(false);
        thread.start();
        return this;
    }

    /**
     * Ask for an advance; returns at once (safe from a signal handler thread).
     *
     * @param why logged with the advance, e.g. "SIGHUP".
     */
    public synchronized void request(final String why)
    {
        requested = true;
        reason = why;
        notifyAll();
    }

    /** @return advances done. */
    public long advances()
    {
        return advances;
    }

    /** Stop the thread (an advance running gets {@link #CLOSE_WAIT_MS} to finish) and remove the state file. */
    public void close()
    {
        synchronized (this)
        {
            closed = true;
            notifyAll();
        }
        try
        {
            // Bounded well below a unit's stop timeout: an advance stuck on a stopped broker must not hold the unmount.
            thread.join(CLOSE_WAIT_MS);
        }
        catch (final InterruptedException ex)
        {
            Thread.currentThread().interrupt();
        }
        if (null != state)
        {
            state.delete();
        }
    }

    /** Look at the policy every tick; advance when asked or due. */
    public void run()
    {
        final long tickMs = Math.max(1, policy.tickNanos() / 1_000_000);
        while (true)
        {
            final String why;
            synchronized (this)
            {
                if (!closed && !requested)
                {
                    try
                    {
                        wait(tickMs);
                    }
                    catch (final InterruptedException ex)
                    {
                        return;
                    }
                }
                if (closed)
                {
                    return;
                }
                why = requested ? reason : null;
                requested = false;
            }
            try
            {
                if (null != why)
                {
                    advance(why);
                }
                else if (policy.due(fs.newestTreeVersion() != fs.treeVersion(), fs.openFiles(),
                    fs.openDirectories(), clock.nanoTime() - fs.lastOpenOrCloseNanos()))
                {
                    advance("policy " + policy);
                }
            }
            catch (final RuntimeException ex)
            {
                LOG.warning("advance: " + ex);
            }
            catch (final PcbException ex)
            {
                failures++;
                LOG.warning("advance failed, the mount stays on tree version " + version() + ": " + ex.getMessage());
                writeState(false);
            }
        }
    }

    private void advance(final String why) throws PcbException
    {
        writeState(true);
        final FuseServer.Advance done = server.advance(waitNanos);
        advances++;
        writeState(false);
        LOG.info(done.from() == done.to() ?
            "advance (" + why + "): share " + fs.share() + " already at the newest tree version " + done.to() :
            "advanced share " + fs.share() + " from tree version " + done.from() + " to " + done.to() + " (" + why +
                ") in " + done.nanos() / 1_000_000 + " ms, " + done.invalidated() + " kernel entries invalidated, " +
                advances + " advances");
    }

    private long version()
    {
        try
        {
            return fs.treeVersion();
        }
        catch (final PcbException ex)
        {
            return -1;
        }
    }

    private void writeState(final boolean advancing)
    {
        if (null == state)
        {
            return;
        }
        try
        {
            state.write(version(), advances, failures, advancing);
        }
        catch (final IOException ex)
        {
            LOG.warning("cannot write " + state.file() + ": " + ex);
        }
    }
}
