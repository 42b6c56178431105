package dev.pcb.testsupport;

/**
 * Tear-down that runs every step although an earlier one failed, and reports the first failure with the others.
 */
public final class Cleanup
{
    private Cleanup()
    {
    }

    /**
     * Close one thing, keeping its failure with those before.
     *
     * @param closeable what to close.
     * @param failure   the first failure so far, or null.
     * @return the first failure so far, this one suppressed in it when there was one already; null when none.
     */
    public static Exception close(final AutoCloseable closeable, final Exception failure)
    {
        try
        {
            closeable.close();
            return failure;
        }
        catch (final Exception ex)
        {
            if (null == failure)
            {
                return ex;
            }
            failure.addSuppressed(ex);
            return failure;
        }
    }
}
