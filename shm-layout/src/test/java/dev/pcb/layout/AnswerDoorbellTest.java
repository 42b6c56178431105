package dev.pcb.layout;

import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The answer doorbell over a real mapped slot: a broker thread publishes answers one at a time and rings as its duty
 * cycle does, an owner thread spins a little, then arms and "sleeps" until the doorbell word changes, as
 * {@code FUTEX_WAIT} would (the kernel's check-and-queue is atomic, so a wait that watches the word is the same
 * contract). A lost wake-up shows as a sleep that does not end while an answer is there.
 */
class AnswerDoorbellTest
{
    private static final int SLOT_LENGTH = ClientSlotDescriptor.HEADER_LENGTH;
    // An answer ring's tail stands in for the response ring: the broker's release store, the owner's volatile load.
    private static final int PUBLISHED_OFFSET = SLOT_LENGTH;
    private static final long RUN_MS = 1_000;
    private static final long MAX_RUN_MS = 20_000;
    private static final long MIN_ROUNDS = 20_000;
    private static final long LOST_AFTER_NS = TimeUnit.SECONDS.toNanos(2);

    @Test
    void ringsOnlyWhileAThreadWaitsAndAClaimForgetsOldWaiters() throws Exception
    {
        try (MappedBuffers mapped = new MappedBuffers("answer-bell", SLOT_LENGTH))
        {
            final UnsafeBuffer slot = mapped.buffer();
            assertFalse(AnswerDoorbell.ring(slot), "no waiter, no wake");
            final int d = AnswerDoorbell.arm(slot);
            assertTrue(AnswerDoorbell.ring(slot), "a waiter is woken");
            assertEquals(d + 1, slot.getIntVolatile(ClientSlotDescriptor.ANSWER_DOORBELL_OFFSET),
                "the ring changed the word the waiter expects");
            AnswerDoorbell.disarm(slot);
            assertFalse(AnswerDoorbell.ring(slot), "awake again, no wake");
            AnswerDoorbell.arm(slot);
            AnswerDoorbell.claimed(slot);
            assertFalse(AnswerDoorbell.ring(slot), "a new owner starts with no waiters");
        }
    }

    @Test
    void anAgentBlocksOnlyOnABrokerThatRings() throws Exception
    {
        try (MappedBuffers mapped = new MappedBuffers("answer-bell-version", ControlRegionDescriptor.HEADER_LENGTH))
        {
            final UnsafeBuffer header = mapped.buffer();
            header.putInt(ControlRegionDescriptor.LAYOUT_VERSION_OFFSET, LayoutVersion.CURRENT);
            assertTrue(AnswerDoorbell.brokerRings(header));
            header.putInt(ControlRegionDescriptor.LAYOUT_VERSION_OFFSET, AnswerDoorbell.SINCE_VERSION - 1);
            assertFalse(AnswerDoorbell.brokerRings(header), "an older broker never rings: its agents keep polling");
        }
    }

    @Test
    @Timeout(60)
    void noAnswerIsSleptThrough() throws Exception
    {
        try (MappedBuffers mapped = new MappedBuffers("answer-bell-stress", SLOT_LENGTH + 64))
        {
            final UnsafeBuffer slot = new UnsafeBuffer(mapped.buffer(), 0, SLOT_LENGTH);
            final UnsafeBuffer whole = mapped.buffer();
            final AtomicLong consumed = new AtomicLong();
            final AtomicLong rings = new AtomicLong();
            final AtomicLong quietRounds = new AtomicLong();
            final AtomicLong sleeps = new AtomicLong();
            final AtomicReference<String> failure = new AtomicReference<>();
            final long endNs = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(MAX_RUN_MS);
            final long minEndNs = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(RUN_MS);
            final AtomicLong lastRound = new AtomicLong(Long.MAX_VALUE);

            final Thread broker = new Thread(() ->
            {
                final SplittableRandom random = new SplittableRandom(7);
                for (long round = 1; null == failure.get(); round++)
                {
                    final long now = System.nanoTime();
                    if (now - endNs > 0 || (now - minEndNs > 0 && round > MIN_ROUNDS))
                    {
                        lastRound.set(round - 1);
                        return;
                    }
                    while (consumed.get() != round - 1 && null == failure.get())
                    {
                        Thread.onSpinWait();
                    }
                    // Vary the gap so the answer lands before, during and after the owner's arming.
                    for (int i = random.nextInt(200); i > 0; i--)
                    {
                        Thread.onSpinWait();
                    }
                    whole.putLongRelease(PUBLISHED_OFFSET, round);
                    if (AnswerDoorbell.ring(slot))
                    {
                        rings.incrementAndGet();
                    }
                    else
                    {
                        quietRounds.incrementAndGet();
                    }
                }
            }, "broker");

            final Thread owner = new Thread(() ->
            {
                final SplittableRandom random = new SplittableRandom(11);
                long seen = 0;
                while (seen < lastRound.get() && null == failure.get())
                {
                    final long published = whole.getLongVolatile(PUBLISHED_OFFSET);
                    if (published > seen)
                    {
                        seen = published;
                        consumed.set(seen);
                        continue;
                    }
                    for (int i = random.nextInt(100); i > 0; i--)
                    {
                        Thread.onSpinWait();
                    }
                    final int expected = AnswerDoorbell.arm(slot);
                    try
                    {
                        if (whole.getLongVolatile(PUBLISHED_OFFSET) > seen)
                        {
                            continue;
                        }
                        sleeps.incrementAndGet();
                        final long deadline = System.nanoTime() + LOST_AFTER_NS;
                        while (slot.getIntVolatile(ClientSlotDescriptor.ANSWER_DOORBELL_OFFSET) == expected &&
                            System.nanoTime() - deadline < 0 && seen < lastRound.get())
                        {
                            Thread.onSpinWait();
                        }
                        if (slot.getIntVolatile(ClientSlotDescriptor.ANSWER_DOORBELL_OFFSET) == expected &&
                            whole.getLongVolatile(PUBLISHED_OFFSET) > seen)
                        {
                            failure.compareAndSet(null, "answer " + (seen + 1) + " published but the sleep was " +
                                "not woken within 2 s");
                        }
                    }
                    finally
                    {
                        AnswerDoorbell.disarm(slot);
                    }
                }
            }, "owner");

            broker.start();
            owner.start();
            broker.join(TimeUnit.MILLISECONDS.toMillis(MAX_RUN_MS + 10_000));
            owner.join(10_000);
            assertFalse(broker.isAlive(), "broker thread ended");
            assertFalse(owner.isAlive(), "owner thread ended");
            assertNull(failure.get());
            assertEquals(lastRound.get(), consumed.get(), "every answer consumed");
            assertTrue(rings.get() > 0 && quietRounds.get() > 0, "both paths ran: " + rings.get() + " rings, " +
                quietRounds.get() + " answers with nobody asleep, " + sleeps.get() + " sleeps");
            assertEquals(0, slot.getIntVolatile(ClientSlotDescriptor.ANSWER_WAITERS_OFFSET), "every waiter disarmed");
        }
    }
}
