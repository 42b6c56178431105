package dev.pcb.broker;

/**
 * Liveness both ways: the broker heartbeats every guest's control region, and a client whose heartbeat has not moved
 * for a client lease is taken to be dead and detached, so its pins and handles are freed.
 * <p>
 * Time comes from the conductor's clock. Conductor thread only.
 */
final class ClientLeases
{
    /**
     * What is done with a client whose lease expired.
     */
    interface Expiry
    {
        /**
         * Detach a client.
         *
         * @param session the client.
         * @param reason  for the log.
         */
        void detach(ClientSession session, String reason);
    }

    private final GuestControl[] guests;
    private final long clientLeaseMs;
    private final String expiredReason;

    ClientLeases(final GuestControl[] guests, final long clientLeaseMs)
    {
        this.guests = guests;
        this.clientLeaseMs = clientLeaseMs;
        this.expiredReason = "heartbeat silent for more than " + clientLeaseMs + " ms";
    }

    /**
     * Heartbeat every guest.
     */
    void heartbeat()
    {
        for (final GuestControl guest : guests)
        {
            guest.heartbeat();
        }
    }

    /**
     * Heartbeat every guest and detach every client whose heartbeat has been silent for longer than a lease.
     *
     * @return clients detached.
     */
    int check(final long nowMs, final Expiry expiry)
    {
        int expired = 0;
        for (final GuestControl guest : guests)
        {
            guest.heartbeat();
            for (final ClientSession session : guest.sessions())
            {
                if (session.isActive() && session.heartbeatSilenceMs(nowMs) > clientLeaseMs)
                {
                    expiry.detach(session, expiredReason);
                    expired++;
                }
            }
        }
        return expired;
    }
}
