package dev.pcb.agent;

import dev.pcb.protocol.ErrorCode;

import java.io.IOException;

/**
 * A request the broker refused, or could not be asked. The message is one line naming the path and the problem,
 * fit to show a person as it is.
 */
public class PcbException extends IOException
{
    private static final long serialVersionUID = 1L;

    private final ErrorCode code;

    /**
     * An error with a code.
     *
     * @param code    what went wrong.
     * @param message one line for a person.
     */
    public PcbException(final ErrorCode code, final String message)
    {
        super(message);
        this.code = code;
    }

    /**
     * An error with a code and a cause.
     *
     * @param code    what went wrong.
     * @param message one line for a person.
     * @param cause   underlying failure.
     */
    public PcbException(final ErrorCode code, final String message, final Throwable cause)
    {
        super(message, cause);
        this.code = code;
    }

    /** @return the error code. */
    public ErrorCode code()
    {
        return code;
    }

    /**
     * The exception for an error answer: {@link StaleFileException} for STALE, else this class.
     *
     * @param code    code from the broker.
     * @param message message from the broker.
     * @return the exception to throw.
     */
    public static PcbException of(final ErrorCode code, final String message)
    {
        if (ErrorCode.STALE == code)
        {
            return new StaleFileException(message);
        }
        return new PcbException(code, message);
    }
}
