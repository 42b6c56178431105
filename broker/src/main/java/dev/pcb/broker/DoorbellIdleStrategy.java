package dev.pcb.broker;

import dev.pcb.layout.ControlRegionDescriptor;
import dev.pcb.layout.Doorbell;
import dev.pcb.nativeshim.ErrnoException;
import dev.pcb.nativeshim.Futex;
import org.agrona.BufferUtil;
import org.agrona.concurrent.IdleStrategy;
import org.agrona.concurrent.NanoClock;
import org.agrona.concurrent.UnsafeBuffer;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

import static java.lang.System.Logger.Level.WARNING;

/**
 * The conductor's idle strategy: back off as before while work may come soon, then sleep on the doorbells of every
 * control region ({@code futex_waitv}) until a host agent rings one, a fill or metadata worker finishes, or the
 * housekeeping interval passes.
 * <pre>
 *   work --> reset          idle &lt; SLEEP_AFTER_IDLE, or a client that cannot ring attached --> backoff (parks)
 *   idle long enough, every attached owner rings --> arm (sleeping flags set, doorbells read), park CLAIM_SCAN_GAP
 *   armed, the conductor's last look found nothing --> futex_waitv (the sleep timeout)
 *        woken (a ring, a changed doorbell) --> disarm
 *        timed out --> stay armed: the housekeeping cycle that follows is the last look before the next sleep
 * </pre>
 * Staying armed across a timeout is what keeps an idle broker at one wake-up per sleep timeout: the doorbells it
 * expects are still the values read when it armed, so a ring during that cycle ends the next sleep at once.
 * The memory ordering that makes the sleep lose no wake-up is in {@link Doorbell}. The conductor only reports work
 * counts; this class reads which owners ring from their client slots, on the conductor's thread.
 * <p>
 * A guest's agent cannot futex the host; it rings only through an {@code ivshmem-doorbell} device
 * ({@link IvshmemServer} turns its doorbell into the futex wake), and says so in its owner flags. While any attached
 * owner has not said it rings the broker keeps the backoff: the parks of {@link Broker#MAX_IDLE_PARK_NS} bound a guest's first-request latency, at the CPU cost of
 * today's polling. Where the kernel lacks {@code futex_waitv} (before Linux 5.16) or refuses it, the first failure is
 * logged once and the broker polls from then on.
 */
final class DoorbellIdleStrategy implements IdleStrategy
{
    /**
     * Idleness after which the broker may sleep: bursts with short gaps keep the backoff's fast wake-ups (a reader
     * between two windows, a miss's fill).
     */
    static final long SLEEP_AFTER_IDLE_NS = TimeUnit.MILLISECONDS.toNanos(20);
    /** Longest sleep with the default leases: a quarter of the 3 s broker lease agents watch the heartbeat against. */
    static final long MAX_SLEEP_TIMEOUT_NS = TimeUnit.MILLISECONDS.toNanos(750);
    /**
     * Pause between arming and the last look at the rings: longer than a millisecond, so that look includes the
     * conductor's once-a-millisecond scan of free slots (a claim rings the doorbell too).
     */
    static final long CLAIM_SCAN_GAP_NS = TimeUnit.MILLISECONDS.toNanos(2);

    private static final System.Logger LOG = System.getLogger("pcb.broker");
    // futex_waitv takes at most 128 words: one per control region and the broker's own.
    private static final int MAX_WORDS = 128;

    private final GuestControl[] guests;
    private final UnsafeBuffer[] headers;
    private final IdleStrategy backoff;
    private final NanoClock clock;
    // The broker's own bell, laid out as a control region header so Doorbell orders it the same way: workers ring it.
    private final UnsafeBuffer localBell = new UnsafeBuffer(BufferUtil.allocateDirectAligned(
        ControlRegionDescriptor.DOORBELL_OFFSET + 64, 64));
    private final long sleepAfterIdleNs;
    private final long sleepTimeoutNs;
    private Futex.Waiter waiter;
    private long idleSinceNs;
    private boolean idle;
    private boolean armed;
    // Written by the conductor thread only; volatile so tests and tools may read them.
    private volatile long sleeps;
    private volatile long wakes;

    /**
     * @param guests   the control regions; their headers carry the doorbells.
     * @param backoff  what to do while the broker may not sleep.
     * @param clock    for idleness.
     * @param useFutex false to poll only (an operator's choice, {@link Broker#NO_SLEEP_PROPERTY}).
     */
    DoorbellIdleStrategy(
        final GuestControl[] guests,
        final IdleStrategy backoff,
        final NanoClock clock,
        final boolean useFutex,
        final BrokerConfig config)
    {
        this(guests, backoff, clock, useFutex, SLEEP_AFTER_IDLE_NS, sleepTimeoutNs(config));
    }

    /**
     * The longest sleep: each timeout is a housekeeping cycle (heartbeats, client leases, quarantine, counters), so a
     * quarter of the shorter lease, within the housekeeping interval and {@link #MAX_SLEEP_TIMEOUT_NS}. An agent
     * that claims a slot rings; a guest without a doorbell device cannot, and its claim is seen at the latest after
     * this long.
     *
     * @param config the leases.
     * @return nanoseconds.
     */
    static long sleepTimeoutNs(final BrokerConfig config)
    {
        final long quarterLeaseNs = TimeUnit.MILLISECONDS.toNanos(
            Math.min(config.brokerLeaseMs(), config.clientLeaseMs()) / 4);
        return Math.max(TimeUnit.MILLISECONDS.toNanos(BrokerConductor.HOUSEKEEPING_INTERVAL_MS),
            Math.min(MAX_SLEEP_TIMEOUT_NS, quarterLeaseNs));
    }

    /**
     * With other thresholds: tests sleep at once and for long, so a lost wake-up shows as a stall.
     */
    DoorbellIdleStrategy(
        final GuestControl[] guests,
        final IdleStrategy backoff,
        final NanoClock clock,
        final boolean useFutex,
        final long sleepAfterIdleNs,
        final long sleepTimeoutNs)
    {
        this.sleepAfterIdleNs = sleepAfterIdleNs;
        this.sleepTimeoutNs = sleepTimeoutNs;
        this.guests = guests;
        this.headers = new UnsafeBuffer[guests.length];
        for (int i = 0; i < guests.length; i++)
        {
            headers[i] = guests[i].header();
        }
        this.backoff = backoff;
        this.clock = clock;
        Futex.Waiter w = null;
        if (useFutex && headers.length + 1 <= MAX_WORDS)
        {
            w = new Futex.Waiter(headers.length + 1);
            for (int i = 0; i < headers.length; i++)
            {
                w.word(i, headers[i].addressOffset() + ControlRegionDescriptor.DOORBELL_OFFSET);
            }
            w.word(headers.length, localBell.addressOffset() + ControlRegionDescriptor.DOORBELL_OFFSET);
        }
        else if (useFutex)
        {
            LOG.log(WARNING, () -> headers.length + " control regions: more than futex_waitv takes at once (" +
                (MAX_WORDS - 1) + "); the broker polls instead of sleeping");
        }
        this.waiter = w;
    }

    /**
     * Wake the conductor from any thread, after publishing work for it (a fill or metadata completion).
     */
    void wake()
    {
        if (Doorbell.ring(localBell))
        {
            Futex.wake(localBell.addressOffset() + ControlRegionDescriptor.DOORBELL_OFFSET, 1);
        }
    }

    /** @return how many times the conductor went to sleep (for tests and inspection). */
    long sleeps()
    {
        return sleeps;
    }

    /** @return how many of those sleeps a ring or a changed doorbell ended before the timeout. */
    long wakes()
    {
        return wakes;
    }

    /** {@inheritDoc} */
    public void idle(final int workCount)
    {
        if (workCount > 0)
        {
            reset();
            return;
        }
        idle();
    }

    /** {@inheritDoc} */
    public void idle()
    {
        final long now = clock.nanoTime();
        if (!idle)
        {
            idle = true;
            idleSinceNs = now;
        }
        if (null == waiter || now - idleSinceNs < sleepAfterIdleNs || !everyOwnerRings())
        {
            disarm();
            backoff.idle();
            return;
        }
        if (!armed)
        {
            arm();
            LockSupport.parkNanos(CLAIM_SCAN_GAP_NS);
            return;
        }
        if (sleep())
        {
            disarm();
        }
    }

    /** {@inheritDoc} */
    public void reset()
    {
        idle = false;
        disarm();
        backoff.reset();
    }

    /** {@inheritDoc} */
    public String alias()
    {
        return "doorbell";
    }

    private boolean everyOwnerRings()
    {
        for (final GuestControl guest : guests)
        {
            for (final ClientSession session : guest.sessions())
            {
                if (session.isActive() && (!Doorbell.ownerRings(session.slot()) || !guest.ringsReachBroker()))
                {
                    return false;
                }
            }
        }
        return true;
    }

    private void arm()
    {
        for (int i = 0; i < headers.length; i++)
        {
            waiter.expect(i, Doorbell.arm(headers[i]));
        }
        waiter.expect(headers.length, Doorbell.arm(localBell));
        armed = true;
    }

    private void disarm()
    {
        if (armed)
        {
            armed = false;
            for (final UnsafeBuffer header : headers)
            {
                Doorbell.disarm(header);
            }
            Doorbell.disarm(localBell);
        }
    }

    /**
     * @return false when the sleep timed out with every doorbell as it was when armed.
     */
    private boolean sleep()
    {
        sleeps = sleeps + 1;
        try
        {
            if (waiter.await(sleepTimeoutNs))
            {
                wakes = wakes + 1;
                return true;
            }
            return false;
        }
        catch (final ErrnoException ex)
        {
            LOG.log(WARNING, () -> "futex_waitv failed (" + ex.getMessage() + "; it needs Linux 5.16 or later): the " +
                "broker polls instead of sleeping from now on");
            waiter = null;
            return true;
        }
    }
}
