package dev.pcb.agent;

import dev.pcb.layout.ClientSlot;
import dev.pcb.layout.ControlRegionDescriptor;
import dev.pcb.nativeshim.Linux;
import org.agrona.concurrent.NanoClock;
import org.agrona.concurrent.UnsafeBuffer;

import java.util.concurrent.TimeUnit;

/**
 * Liveness, kept apart from calls: a daemon thread that advances this client's heartbeat, watches the broker's
 * heartbeat and epoch, and reads answers no caller is there to read (late ones among them).
 * <p>
 * A broker heartbeat that stops only makes {@link #silentMs()} grow: a paused broker (SIGSTOP, a long GC, a host
 * under load) serves again when it resumes, so silence is never a failure by itself. Calls keep their own deadlines
 * and name the silence when one passes. What the broker's epoch and the slot's acceptance say is handed to the
 * channel on every beat; it decides what they mean. Only a host-local agent can tell a dead broker from a paused one
 * (the broker's pid in the header is a host pid): a silent broker whose process is gone is reported as gone.
 */
final class BrokerWatch
{
    /** What the watch reports on every beat. */
    interface Listener
    {
        /**
         * One observation of the control region.
         *
         * @param brokerEpoch the broker's epoch now; 0 after a clean shutdown.
         * @param ready       the region header says a broker serves it.
         * @param accepted    the broker still accepts this client's owner id.
         * @param gone        the broker is silent past its lease and its process is gone (host-local agents only).
         */
        void onBeat(long brokerEpoch, boolean ready, boolean accepted, boolean gone);
    }

    private final UnsafeBuffer header;
    private final ClientSlot slot;
    private final long ownerId;
    private final NanoClock clock;
    private final long intervalMs;
    private final long leaseNs;
    private final boolean hostLocal;
    private final ResponseAdapter responses;
    private final Listener listener;
    private final Thread thread;
    private volatile long lastBrokerBeatNs;
    private volatile boolean closed;

    BrokerWatch(
        final UnsafeBuffer header,
        final ClientSlot slot,
        final long ownerId,
        final NanoClock clock,
        final long intervalMs,
        final boolean hostLocal,
        final ResponseAdapter responses,
        final Listener listener)
    {
        this.header = header;
        this.slot = slot;
        this.ownerId = ownerId;
        this.clock = clock;
        this.intervalMs = intervalMs;
        this.leaseNs = TimeUnit.MILLISECONDS.toNanos(
            Math.max(100, header.getInt(ControlRegionDescriptor.BROKER_LEASE_MS_OFFSET)));
        this.hostLocal = hostLocal;
        this.responses = responses;
        this.listener = listener;
        this.lastBrokerBeatNs = clock.nanoTime();
        this.thread = new Thread(this::run, "pcb-agent-heartbeat");
        thread.setDaemon(true);
    }

    void start()
    {
        thread.start();
    }

    /** @return ms since the broker's heartbeat last changed. */
    long silentMs()
    {
        return TimeUnit.NANOSECONDS.toMillis(clock.nanoTime() - lastBrokerBeatNs);
    }

    /** @return true when the broker has not heartbeated for longer than its lease: it is paused, hung or gone. */
    boolean isSilent()
    {
        return clock.nanoTime() - lastBrokerBeatNs > leaseNs;
    }

    private void run()
    {
        long lastBeat = header.getLongVolatile(ControlRegionDescriptor.BROKER_HEARTBEAT_OFFSET);
        while (!closed)
        {
            beat(lastBeat);
            lastBeat = header.getLongVolatile(ControlRegionDescriptor.BROKER_HEARTBEAT_OFFSET);
            try
            {
                Thread.sleep(intervalMs);
            }
            catch (final InterruptedException ex)
            {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    private void beat(final long lastBeat)
    {
        slot.heartbeat();
        if (header.getLongVolatile(ControlRegionDescriptor.BROKER_HEARTBEAT_OFFSET) != lastBeat)
        {
            lastBrokerBeatNs = clock.nanoTime();
        }
        listener.onBeat(header.getLongVolatile(ControlRegionDescriptor.BROKER_EPOCH_OFFSET),
            ControlRegionDescriptor.isReady(header), slot.isAccepted(ownerId), hostLocal && isSilent() && isGone());
        // Answers nobody polls for (a late ACQUIRED after its caller gave up) are settled even when no call runs.
        responses.poll();
    }

    /** @return the broker's pid, from the header. */
    long brokerPid()
    {
        return header.getLongVolatile(ControlRegionDescriptor.BROKER_PID_OFFSET);
    }

    private boolean isGone()
    {
        final long pid = brokerPid();
        return pid > 0 && pid <= Integer.MAX_VALUE && !Linux.processExists((int)pid);
    }

    /** Stop beating; the broker frees the slot at its lease unless the channel gives it back first. */
    void close()
    {
        closed = true;
        try
        {
            thread.join(1_000);
        }
        catch (final InterruptedException ex)
        {
            Thread.currentThread().interrupt();
        }
    }
}
