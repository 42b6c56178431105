package dev.pcb.protocol;

/**
 * DETACH, CLOSED and DETACHED: a record that is only its correlation id.
 * <pre>
 *  0: correlation id (long)
 * </pre>
 */
public final class SimpleMessage extends Flyweight
{
    /** Record length. */
    public static final int LENGTH = 8;
}
