package dev.pcb.broker;

/**
 * What the broker counts. Written by the conductor thread only; read by tools through {@link #snapshot()}.
 */
final class BrokerCounters
{
    private volatile long requests;
    private volatile long hits;
    private volatile long misses;
    private volatile long fills;
    private volatile long bytesFilled;
    private volatile long fillNanos;
    private volatile long stale;
    private volatile long errors;
    private volatile long noSpace;
    private volatile long opens;
    private volatile long releases;
    private volatile long clientsAttached;
    private volatile long clientsDetached;

    void request()
    {
        requests++;
    }

    void hit()
    {
        hits++;
    }

    void miss()
    {
        misses++;
    }

    void filled(final int bytes, final long nanos)
    {
        fills++;
        bytesFilled += bytes;
        fillNanos += nanos;
    }

    void stale()
    {
        stale++;
    }

    void error()
    {
        errors++;
    }

    void noSpace()
    {
        noSpace++;
    }

    void opened()
    {
        opens++;
    }

    void release()
    {
        releases++;
    }

    void clientAttached()
    {
        clientsAttached++;
    }

    void clientDetached()
    {
        clientsDetached++;
    }

    String snapshot()
    {
        return "requests=" + requests + " hits=" + hits + " misses=" + misses + " fills=" + fills +
            " bytesFilled=" + bytesFilled + " fillNanos=" + fillNanos + " stale=" + stale + " errors=" + errors +
            " noSpace=" + noSpace + " opens=" + opens + " releases=" + releases +
            " clientsAttached=" + clientsAttached + " clientsDetached=" + clientsDetached;
    }
}
