package dev.pcb.broker;

import dev.pcb.protocol.ErrorCode;

/**
 * A request the broker answers with an error code. Carries no stack trace: it is an answer, not a fault.
 */
final class RequestException extends Exception
{
    private static final long serialVersionUID = 1L;

    private final ErrorCode code;

    RequestException(final ErrorCode code, final String message)
    {
        super(message, null, false, false);
        this.code = code;
    }

    ErrorCode code()
    {
        return code;
    }
}
