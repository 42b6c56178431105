package dev.pcb.agent;

/**
 * The broker restarted while a request was in flight and the agent re-attached: the request was not answered and
 * must be asked again (with the new handle id). The agent's own read paths do that by themselves; an application
 * sees this only if the retries run out.
 */
public final class BrokerRestartedException extends PcbException
{
    private static final long serialVersionUID = 1L;

    /** The broker restarted. */
    public BrokerRestartedException()
    {
        super(dev.pcb.protocol.ErrorCode.SHUTTING_DOWN, "the broker restarted during the request");
    }
}
