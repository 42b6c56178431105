package dev.pcb.agent;

import dev.pcb.protocol.ErrorCode;

/**
 * The broker is not there: it never came up within the wait, stopped, or stopped heartbeating. Views already
 * acquired stay readable; new requests fail with this until the agent attaches again.
 */
public final class BrokerUnavailableException extends PcbException
{
    private static final long serialVersionUID = 1L;

    /**
     * The broker is unavailable.
     *
     * @param message what was seen.
     */
    public BrokerUnavailableException(final String message)
    {
        super(ErrorCode.SHUTTING_DOWN, message);
    }
}
