package dev.pcb.broker;

import java.util.List;

import static java.lang.System.Logger.Level.INFO;

/**
 * The grace period after a restart: windows a previous broker filled stay quarantined (never reused) so clients that
 * still read them can claim them with HOLD; when the period ends, every window nobody claimed is freed.
 * <p>
 * Clients of the previous broker get one client lease, plus one broker lease to notice the restart. Time comes from
 * the conductor's clock. Conductor thread only.
 */
final class RestartQuarantine
{
    private static final System.Logger LOG = System.getLogger("pcb.broker");

    private final List<Share> shares;
    private final long graceMs;
    private long deadlineMs;
    private boolean ended;

    RestartQuarantine(final List<Share> shares, final long clientLeaseMs, final long brokerLeaseMs)
    {
        this.shares = shares;
        this.graceMs = clientLeaseMs + brokerLeaseMs;
    }

    /**
     * The broker starts serving: the grace period starts now.
     */
    void start(final long nowMs)
    {
        deadlineMs = nowMs + graceMs;
    }

    /**
     * May a request that finds no free window in this table wait for quarantined windows to be freed?
     */
    boolean isHolding(final WindowTable table)
    {
        return !ended && table.quarantinedCount() > 0;
    }

    /**
     * End the grace period if it is over.
     *
     * @return true when it ended now: windows may have been freed.
     */
    boolean endIfDue(final long nowMs)
    {
        if (ended || nowMs < deadlineMs)
        {
            return false;
        }
        ended = true;
        for (final Share share : shares)
        {
            final int held = share.windows().quarantinedCount();
            final int freed = share.windows().endQuarantine();
            if (held > 0)
            {
                LOG.log(INFO, "share " + share.name() + ": " + (held - freed) + " window(s) of the previous " +
                    "broker still held by readers, " + freed + " freed");
            }
        }
        return true;
    }
}
