package dev.pcb.agent;

import org.agrona.DirectBuffer;

import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * Request multiplexing: the calls waiting for an answer, by correlation id, so many threads share one request ring
 * and one response ring.
 * <p>
 * Each answer is settled exactly once: a waiting call and the thread reading answers race for the call's entry with
 * one compare-and-set each. The reader that wins {@link #deliver} hands the answer to the call; a call that wins
 * {@link #withdraw} (its deadline passed) gets nothing, and an answer that comes later finds no call and is settled
 * by {@link ResponseAdapter} instead. A call's correlation id is set before the call is published, so an answer can
 * only ever match the call it was sent for.
 */
final class PendingCalls
{
    private static final int SLOTS = 1024;
    private static final int MASK = SLOTS - 1;

    private final AtomicLong correlationIds = new AtomicLong();
    private final AtomicReferenceArray<Call> pending = new AtomicReferenceArray<>(SLOTS);

    /**
     * A correlation id for a request no one waits an answer for.
     *
     * @return a fresh id.
     */
    long nextId()
    {
        return correlationIds.incrementAndGet();
    }

    /**
     * Give a call a fresh correlation id, write it into the request and publish the call for its answer.
     *
     * @param call a call not waiting for anything.
     */
    void register(final Call call)
    {
        call.done = false;
        while (true)
        {
            final long id = correlationIds.incrementAndGet();
            final int index = (int)(id & MASK);
            // Before the publishing compare-and-set: a reader that finds the call there sees this id.
            call.correlationId = id;
            if (null == pending.get(index) && pending.compareAndSet(index, null, call))
            {
                call.request.putLong(0, id);
                return;
            }
        }
    }

    /**
     * Stop waiting for a call's answer.
     *
     * @param call a registered call.
     * @return true when no answer was or will be delivered to it; false when a reader took it for delivery, in which
     * case {@link Call#done} becomes true within a copy's time.
     */
    boolean withdraw(final Call call)
    {
        return pending.compareAndSet((int)(call.correlationId & MASK), call, null);
    }

    /**
     * Hand an answer to the call waiting for it. Called by the one thread reading the response ring.
     *
     * @return false when no call waits for this correlation id: the answer is late or unsolicited.
     */
    boolean deliver(final int typeId, final DirectBuffer buffer, final int index, final int length)
    {
        final long id = buffer.getLong(index);
        final int at = (int)(id & MASK);
        final Call call = pending.get(at);
        if (null == call || call.correlationId != id || !pending.compareAndSet(at, call, null))
        {
            return false;
        }
        final int copy = Math.min(length, Call.RESPONSE_CAPACITY);
        call.response.putBytes(0, buffer, index, copy);
        call.responseType = typeId;
        call.responseLength = copy;
        call.done = true;
        return true;
    }
}
