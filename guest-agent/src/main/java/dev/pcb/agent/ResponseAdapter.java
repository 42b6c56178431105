package dev.pcb.agent;

import dev.pcb.protocol.AcquiredResponse;
import dev.pcb.protocol.MessageType;
import dev.pcb.protocol.OpenedResponse;
import org.agrona.MutableDirectBuffer;
import org.agrona.concurrent.MessageHandler;
import org.agrona.concurrent.ringbuffer.OneToOneRingBuffer;

import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Decoding of the broker's answers: the one reader of the slot's response ring. Whichever thread wins the poll lock
 * (a waiting caller, or the broker watch between beats) reads the ring and hands each answer to its call.
 * <p>
 * An answer no call waits for any more (its deadline passed, say, during a broker pause) is settled here: a late
 * ACQUIRED pinned a window for no one, so it is released; a late OPENED opened a handle for no one, so it is closed.
 * Other late answers hold nothing. Settlements are queued and written when the request ring has room, never
 * waited for.
 */
final class ResponseAdapter
{
    /** Settlements that can wait for room in the request ring; more are dropped and counted. */
    static final int SETTLEMENT_CAPACITY = 256;
    private static final int SETTLEMENT_MASK = SETTLEMENT_CAPACITY - 1;

    private final OneToOneRingBuffer responses;
    private final PendingCalls pending;
    private final BrokerProxy proxy;
    private final AtomicBoolean pollLock = new AtomicBoolean();
    // Held in a field: a method reference at the call site would allocate on every poll.
    private final MessageHandler handler = this::onResponse;
    private final AcquiredResponse acquired = new AcquiredResponse();
    private final OpenedResponse opened = new OpenedResponse();
    // Settlement queue: touched only under pollLock.
    private final int[] settleType = new int[SETTLEMENT_CAPACITY];
    private final long[] settleHandle = new long[SETTLEMENT_CAPACITY];
    private final long[] settleWindow = new long[SETTLEMENT_CAPACITY];
    private long settleHead;
    private long settleTail;
    private final AtomicLong answers = new AtomicLong();
    private final AtomicLong lateAnswers = new AtomicLong();
    private final AtomicLong settlementsDropped = new AtomicLong();

    ResponseAdapter(final OneToOneRingBuffer responses, final PendingCalls pending, final BrokerProxy proxy)
    {
        this.responses = responses;
        this.pending = pending;
        this.proxy = proxy;
    }

    /**
     * Read the answers there are, unless another thread is reading them.
     *
     * @return answers read; 0 also when another thread holds the lock.
     */
    int poll()
    {
        if (!pollLock.compareAndSet(false, true))
        {
            return 0;
        }
        return readLocked();
    }

    /**
     * Read the answers there are, waiting for a thread reading them to finish first: a thread about to sleep on the
     * answer doorbell must look at the ring itself, or see what the other reader handed it (see AnswerDoorbell).
     *
     * @return answers read.
     */
    int pollAfterOthers()
    {
        while (!pollLock.compareAndSet(false, true))
        {
            // The holder only copies answers out and offers settlements: microseconds.
            Thread.onSpinWait();
        }
        return readLocked();
    }

    private int readLocked()
    {
        try
        {
            final int read = responses.read(handler, 64);
            if (read > 0)
            {
                // One writer at a time (the lock holder): an ordered store, no read-modify-write.
                answers.lazySet(answers.get() + read);
            }
            flushSettlements();
            return read;
        }
        finally
        {
            pollLock.set(false);
        }
    }

    /** @return answers read so far: one per round trip to the broker. */
    long answers()
    {
        return answers.get();
    }

    /** @return answers that came for no waiting call. */
    long lateAnswers()
    {
        return lateAnswers.get();
    }

    /** @return settlements dropped because the queue was full; their pins stay until their file closes. */
    long settlementsDropped()
    {
        return settlementsDropped.get();
    }

    private void onResponse(final int typeId, final MutableDirectBuffer buffer, final int index, final int length)
    {
        if (length < 8 || pending.deliver(typeId, buffer, index, length))
        {
            return;
        }
        lateAnswers.incrementAndGet();
        if (MessageType.ACQUIRED == typeId && length >= AcquiredResponse.LENGTH)
        {
            acquired.wrap(buffer, index);
            settle(MessageType.RELEASE, acquired.handleId(), acquired.fileWindow());
        }
        else if (MessageType.OPENED == typeId && length >= OpenedResponse.LENGTH)
        {
            opened.wrap(buffer, index);
            settle(MessageType.CLOSE, opened.handleId(), 0);
        }
    }

    private void settle(final int typeId, final long handleId, final long fileWindow)
    {
        if (settleTail - settleHead == SETTLEMENT_CAPACITY)
        {
            settlementsDropped.incrementAndGet();
            return;
        }
        final int at = (int)(settleTail++ & SETTLEMENT_MASK);
        settleType[at] = typeId;
        settleHandle[at] = handleId;
        settleWindow[at] = fileWindow;
    }

    private void flushSettlements()
    {
        while (settleHead < settleTail)
        {
            final int at = (int)(settleHead & SETTLEMENT_MASK);
            if (!proxy.offerSettlement(settleType[at], pending.nextId(), settleHandle[at], settleWindow[at]))
            {
                return;
            }
            settleHead++;
        }
    }
}
