package dev.pcb.agent;

/**
 * What an agent does after its broker restarted and accepted its client slot again: ATTACH, claim the windows it
 * still reads with HOLD, and re-open its files.
 */
@FunctionalInterface
interface Recovery
{
    /**
     * Re-attach, using a call that may talk to the broker before normal requests resume.
     *
     * @param call a call allowed through while the channel recovers.
     * @throws PcbException when the new broker refuses.
     */
    void reattach(Call call) throws PcbException;
}
