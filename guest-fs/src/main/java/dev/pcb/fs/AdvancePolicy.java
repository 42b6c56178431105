package dev.pcb.fs;

/**
 * When a mount moves to a newer tree version by itself (docs/versions.md): {@code never} (only when asked: SIGHUP or
 * {@code pcb mount --advance}), {@code idle:QUIET} (a newer version is published, nothing is open through the mount
 * and nothing was opened or closed for QUIET), or {@code interval:PERIOD} (a newer version is published; looked at
 * every PERIOD, whatever is open).
 */
public final class AdvancePolicy
{
    /** How often the policy is looked at, at most: the newest version is read from shared memory, no request. */
    public static final long TICK_NANOS = 100_000_000L;

    /** The kinds of policy. */
    public enum Kind
    {
        /** Only explicit advances. */
        NEVER,
        /** When idle for a quiet time. */
        IDLE,
        /** Every period. */
        INTERVAL
    }

    private final Kind kind;
    private final long nanos;

    private AdvancePolicy(final Kind kind, final long nanos)
    {
        this.kind = kind;
        this.nanos = nanos;
    }

    /** @return the policy that advances only when asked. */
    public static AdvancePolicy never()
    {
        return new AdvancePolicy(Kind.NEVER, 0);
    }

    /**
     * @param quietNanos how long nothing may have been opened or closed through the mount.
     * @return the policy that advances when the mount is idle.
     */
    public static AdvancePolicy idle(final long quietNanos)
    {
        return new AdvancePolicy(Kind.IDLE, Math.max(0, quietNanos));
    }

    /**
     * @param periodNanos how often to look, more than 0.
     * @return the policy that advances at the first look after a newer version is published.
     */
    public static AdvancePolicy interval(final long periodNanos)
    {
        if (periodNanos <= 0)
        {
            throw new IllegalArgumentException("interval must be more than 0");
        }
        return new AdvancePolicy(Kind.INTERVAL, periodNanos);
    }

    /** @return the kind. */
    public Kind kind()
    {
        return kind;
    }

    /** @return how long to wait between looks. */
    long tickNanos()
    {
        return Kind.INTERVAL == kind ? nanos : TICK_NANOS;
    }

    /**
     * Whether to advance now, at a look.
     *
     * @param newer       a newer version than the mount's is published.
     * @param openFiles   files open through the mount.
     * @param openDirs    directories open through the mount.
     * @param quietNanos  time since the last open or close through the mount.
     * @return true to advance.
     */
    boolean due(final boolean newer, final int openFiles, final int openDirs, final long quietNanos)
    {
        switch (kind)
        {
            case IDLE:
                return newer && 0 == openFiles && 0 == openDirs && quietNanos >= nanos;
            case INTERVAL:
                return newer;
            default:
                return false;
        }
    }

    /** @return as given on the command line: never, idle:1000ms, interval:30000ms. */
    public String toString()
    {
        return Kind.NEVER == kind ? "never" : kind.name().toLowerCase(java.util.Locale.ROOT) + ":" +
            nanos / 1_000_000 + "ms";
    }
}
