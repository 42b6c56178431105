package dev.pcb.layout;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Processes claim, wait for acceptance, heartbeat and give back two slots of a real mapped region while a broker
 * thread accepts and resets them as its duty cycle does: one owner per slot at a time, every claim accepted, and
 * every owner's release succeeds (no one else moved the owner id meanwhile).
 */
class ClientSlotStressTest
{
    private static final int SLOTS = 2;
    private static final int SLOT_LENGTH = ClientSlotDescriptor.HEADER_LENGTH;
    private static final long RUN_MS = 1_000;
    private static final long MAX_RUN_MS = 30_000;
    private static final long MIN_CLAIMS = 200;

    @Test
    @Timeout(60)
    void oneOwnerPerSlotAndEveryClaimAccepted() throws Exception
    {
        try (MappedBuffers mapped = new MappedBuffers("slot-stress", SLOTS * SLOT_LENGTH))
        {
            final AtomicIntegerArray owners = new AtomicIntegerArray(SLOTS);
            final AtomicLong claims = new AtomicLong();
            final AtomicReference<String> failure = new AtomicReference<>();
            final AtomicBoolean stop = new AtomicBoolean();
            final CountDownLatch start = new CountDownLatch(1);
            final List<Thread> threads = new ArrayList<>();
            for (int t = 0; t < 3; t++)
            {
                final int pid = 100 + t;
                threads.add(new Thread(() ->
                {
                    final SplittableRandom random = new SplittableRandom(pid);
                    final ClientSlot slot = new ClientSlot();
                    await(start);
                    int next = 0;
                    while (!stop.get() && null == failure.get())
                    {
                        final int index = random.nextInt(SLOTS);
                        slot.wrap(mapped.buffer(), index * SLOT_LENGTH, SLOT_LENGTH);
                        final long id = ClientSlot.ownerId(pid, ++next);
                        final long seen = slot.ownerId();
                        if (ClientSlotDescriptor.FREE != seen || !slot.claim(seen, id))
                        {
                            Thread.onSpinWait();
                            continue;
                        }
                        if (1 != owners.incrementAndGet(index))
                        {
                            failure.compareAndSet(null, "two owners of slot " + index);
                        }
                        final long deadline = System.nanoTime() + 5_000_000_000L;
                        while (!slot.isAccepted(id) && System.nanoTime() < deadline)
                        {
                            Thread.onSpinWait();
                        }
                        if (!slot.isAccepted(id))
                        {
                            failure.compareAndSet(null, "owner " + id + " never accepted");
                        }
                        final long beat = slot.ownerHeartbeat();
                        slot.heartbeat();
                        if (slot.ownerHeartbeat() == beat)
                        {
                            failure.compareAndSet(null, "heartbeat did not advance");
                        }
                        owners.decrementAndGet(index);
                        if (!slot.release(id))
                        {
                            failure.compareAndSet(null, "owner " + id + " could not give back slot " + index);
                        }
                        claims.incrementAndGet();
                    }
                }));
            }
            // The broker runs until the last process is done: one that claimed just before the stop still waits.
            final AtomicBoolean brokerStop = new AtomicBoolean();
            final Thread broker = new Thread(() -> broker(mapped, brokerStop, start));
            broker.start();
            threads.forEach(Thread::start);
            start.countDown();
            // At least RUN_MS and MIN_CLAIMS, so a loaded machine stretches the run instead of failing it.
            final long end = System.nanoTime() + MAX_RUN_MS * 1_000_000L;
            Thread.sleep(RUN_MS);
            while (claims.get() < MIN_CLAIMS && null == failure.get() && System.nanoTime() < end)
            {
                Thread.sleep(50);
            }
            stop.set(true);
            for (final Thread thread : threads)
            {
                thread.join(30_000);
                assertTrue(!thread.isAlive(), "thread ended");
            }
            brokerStop.set(true);
            broker.join(30_000);
            assertNull(failure.get());
            assertTrue(claims.get() >= MIN_CLAIMS, "claims: " + claims.get());
            for (int i = 0; i < SLOTS; i++)
            {
                assertEquals(0, owners.get(i));
            }
        }
    }

    /** As the broker's duty cycle: a changed owner is reset, then a new one accepted. */
    private static void broker(final MappedBuffers mapped, final AtomicBoolean stop, final CountDownLatch start)
    {
        final ClientSlot[] slots = new ClientSlot[SLOTS];
        final long[] accepted = new long[SLOTS];
        for (int i = 0; i < SLOTS; i++)
        {
            slots[i] = new ClientSlot().wrap(mapped.buffer(), i * SLOT_LENGTH, SLOT_LENGTH);
        }
        await(start);
        while (!stop.get())
        {
            for (int i = 0; i < SLOTS; i++)
            {
                final long owner = slots[i].ownerId();
                if (owner == accepted[i])
                {
                    continue;
                }
                if (ClientSlotDescriptor.FREE != accepted[i])
                {
                    slots[i].reset(accepted[i], false);
                }
                accepted[i] = owner;
                if (ClientSlotDescriptor.FREE != owner)
                {
                    slots[i].accept(owner);
                }
            }
        }
    }

    private static void await(final CountDownLatch latch)
    {
        try
        {
            latch.await();
        }
        catch (final InterruptedException ex)
        {
            Thread.currentThread().interrupt();
        }
    }
}
