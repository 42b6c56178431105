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

import static dev.pcb.layout.RetainedWindowsDescriptor.BUSY;
import static dev.pcb.layout.RetainedWindowsDescriptor.EMPTY;
import static dev.pcb.layout.RetainedWindowsDescriptor.RECLAIMED;
import static dev.pcb.layout.RetainedWindowsDescriptor.RETAINED;
import static dev.pcb.layout.RetainedWindowsDescriptor.kind;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Process threads park, revive, re-park and release retentions in a few entries of a real mapped table while a
 * broker thread reclaims them: every retention's pin is settled exactly once (released by the process or reclaimed
 * by the broker, never both, never neither), every reclaim is seen by the process exactly once, and the broker never
 * reclaims with a handle or window written for another retention.
 */
class RetainedWindowsTableStressTest
{
    private static final int ENTRIES = 8;
    private static final int MAX_TAGS = 1 << 20;
    private static final long RUN_NS = 1_000_000_000L;
    private static final long MIN_RETENTIONS = 10_000;

    @Test
    @Timeout(60)
    void everyRetentionIsSettledExactlyOnce() throws Exception
    {
        try (MappedBuffers mapped = new MappedBuffers("retained-stress", RetainedWindowsDescriptor.LENGTH))
        {
            final AtomicLong tags = new AtomicLong();
            final AtomicIntegerArray released = new AtomicIntegerArray(MAX_TAGS);
            final AtomicIntegerArray reclaimed = new AtomicIntegerArray(MAX_TAGS);
            final AtomicIntegerArray reclaimSeen = new AtomicIntegerArray(MAX_TAGS);
            final AtomicReference<String> failure = new AtomicReference<>();
            final AtomicBoolean stop = new AtomicBoolean();
            final CountDownLatch start = new CountDownLatch(1);
            final List<Thread> threads = new ArrayList<>();
            for (int t = 0; t < 2; t++)
            {
                final SplittableRandom random = new SplittableRandom(t);
                final RetainedWindowsTable table = new RetainedWindowsTable().wrap(mapped.buffer(), 0);
                threads.add(new Thread(() -> process(table, random, tags, released, reclaimSeen, stop, start)));
            }
            final RetainedWindowsTable brokerTable = new RetainedWindowsTable().wrap(mapped.buffer(), 0);
            threads.add(new Thread(() -> broker(brokerTable, reclaimed, failure, stop, start)));
            threads.forEach(Thread::start);
            start.countDown();
            // At least RUN_NS and MIN_RETENTIONS, so a loaded machine stretches the run instead of failing it.
            final long end = System.nanoTime() + 30 * RUN_NS;
            Thread.sleep(RUN_NS / 1_000_000);
            while (tags.get() < MIN_RETENTIONS && null == failure.get() && System.nanoTime() < end)
            {
                Thread.sleep(50);
            }
            stop.set(true);
            for (final Thread thread : threads)
            {
                thread.join(30_000);
                assertTrue(!thread.isAlive(), "thread ended");
            }

            // What is left parked is released by the process, what is left reclaimed is seen.
            final RetainedWindowsTable table = new RetainedWindowsTable().wrap(mapped.buffer(), 0);
            for (int i = 0; i < ENTRIES; i++)
            {
                final long state = table.state(i);
                assertTrue(BUSY != kind(state), "no entry left BUSY");
                if (EMPTY != kind(state))
                {
                    assertTrue(table.claim(i, state));
                    (RETAINED == kind(state) ? released : reclaimSeen).incrementAndGet(
                        (int)RetainedWindowsTable.tag(state));
                    table.free(i);
                }
            }

            assertNull(failure.get());
            final long parked = tags.get();
            assertTrue(parked >= MIN_RETENTIONS && parked < MAX_TAGS, "retentions: " + parked);
            long reclaims = 0;
            for (int tag = 1; tag <= parked; tag++)
            {
                assertEquals(1, released.get(tag) + reclaimed.get(tag), "retention " + tag + " settled once");
                assertEquals(reclaimed.get(tag), reclaimSeen.get(tag), "reclaim of " + tag + " seen once");
                reclaims += reclaimed.get(tag);
            }
            assertTrue(reclaims > 0 && reclaims < parked, "reclaims " + reclaims + " of " + parked);
        }
    }

    private static void process(
        final RetainedWindowsTable table,
        final SplittableRandom random,
        final AtomicLong tags,
        final AtomicIntegerArray released,
        final AtomicIntegerArray reclaimSeen,
        final AtomicBoolean stop,
        final CountDownLatch start)
    {
        await(start);
        while (!stop.get() && tags.get() < MAX_TAGS - 16)
        {
            final int i = random.nextInt(ENTRIES);
            final long state = table.state(i);
            final long kind = kind(state);
            final int tag = (int)RetainedWindowsTable.tag(state);
            if (EMPTY == kind && table.claim(i, state))
            {
                final long newTag = tags.incrementAndGet();
                table.park(i, newTag, newTag, newTag);
            }
            else if (RECLAIMED == kind && table.claim(i, state))
            {
                reclaimSeen.incrementAndGet(tag);
                table.free(i);
            }
            else if (RETAINED == kind)
            {
                if (random.nextBoolean())
                {
                    // Read it again, then park it again or release it from BUSY|tag.
                    if (table.revive(i, tag))
                    {
                        if (random.nextBoolean())
                        {
                            table.repark(i, tag);
                        }
                        else
                        {
                            released.incrementAndGet(tag);
                            table.free(i);
                        }
                    }
                }
                else if (table.claim(i, state))
                {
                    released.incrementAndGet(tag);
                    table.free(i);
                }
            }
        }
    }

    private static void broker(
        final RetainedWindowsTable table,
        final AtomicIntegerArray reclaimed,
        final AtomicReference<String> failure,
        final AtomicBoolean stop,
        final CountDownLatch start)
    {
        await(start);
        while (!stop.get())
        {
            for (int i = 0; i < ENTRIES; i++)
            {
                final long state = table.state(i);
                if (RETAINED != kind(state))
                {
                    continue;
                }
                final long handleId = table.handleId(i);
                final long fileWindow = table.fileWindow(i);
                if (table.reclaim(i, state))
                {
                    final long tag = RetainedWindowsTable.tag(state);
                    if (handleId != tag || fileWindow != tag)
                    {
                        failure.compareAndSet(null, "reclaimed " + tag + " with handle " + handleId + " window " +
                            fileWindow);
                    }
                    reclaimed.incrementAndGet((int)tag);
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
