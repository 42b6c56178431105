package dev.pcb.agent;

import dev.pcb.protocol.ErrorCode;

/**
 * The file changed on the host after this handle opened it, and the part asked for was not in memory yet. The
 * handle can no longer give bytes of its version for that part; open the file again to read the new version.
 * Bytes already read through the handle were all of the old version: pcb never mixes versions.
 */
public final class StaleFileException extends PcbException
{
    private static final long serialVersionUID = 1L;

    /**
     * A stale answer.
     *
     * @param message from the broker, naming the path.
     */
    public StaleFileException(final String message)
    {
        super(ErrorCode.STALE, message);
    }
}
