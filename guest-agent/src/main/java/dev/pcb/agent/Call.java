package dev.pcb.agent;

import dev.pcb.nativeshim.Futex;
import dev.pcb.protocol.AcquiredResponse;
import dev.pcb.protocol.AdvanceMessage;
import dev.pcb.protocol.AttachRequest;
import dev.pcb.protocol.ErrorResponse;
import dev.pcb.protocol.HoldRequest;
import dev.pcb.protocol.PathRequest;
import dev.pcb.protocol.WindowRequest;
import org.agrona.BufferUtil;
import org.agrona.concurrent.BackoffIdleStrategy;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * One thread's request in flight: its scratch buffers and flyweights, reused for every request the thread makes,
 * so a request allocates nothing. {@link BrokerProxy} encodes into it; the thread reading answers copies the answer
 * in and sets {@link #done} last ({@link PendingCalls}).
 */
final class Call
{
    static final int REQUEST_CAPACITY = 8 * 1024;
    static final int RESPONSE_CAPACITY = 64 * 1024;

    final UnsafeBuffer request = new UnsafeBuffer(BufferUtil.allocateDirectAligned(REQUEST_CAPACITY, 64));
    final UnsafeBuffer response = new UnsafeBuffer(BufferUtil.allocateDirectAligned(RESPONSE_CAPACITY, 64));
    final WindowRequest windowRequest = new WindowRequest();
    final PathRequest pathRequest = new PathRequest();
    final HoldRequest holdRequest = new HoldRequest();
    final AttachRequest attachRequest = new AttachRequest();
    // Wrapped over the request to encode ADVANCE, over the response to decode ADVANCED.
    final AdvanceMessage advance = new AdvanceMessage();
    final AcquiredResponse acquired = new AcquiredResponse();
    final ErrorResponse error = new ErrorResponse();
    // Spin, then yield for about a millisecond before parking: an answer usually comes within microseconds (a
    // fill within tens), and Linux's timer slack turns even a 1 us park into tens of microseconds.
    final BackoffIdleStrategy idle = new BackoffIdleStrategy(1_000, 10_000, 1_000, 100_000);
    // A host agent's sleep on the slot's answer doorbell: made by the channel at this thread's first sleep.
    Futex.Waiter answerBell;
    long waitStartNs;
    int spins;
    long correlationId;
    int generation;
    boolean recovering;
    // Set while the caller holds a lock the re-attach takes: the call then never waits for a restarted broker, it
    // throws BrokerRestartedException and the caller waits (ClientChannel#awaitServing) after letting go of the lock.
    boolean underLock;
    int responseType;
    int responseLength;
    volatile boolean done;

    Call()
    {
        windowRequest.wrap(request, 0);
        pathRequest.wrap(request, 0);
        holdRequest.wrap(request, 0);
        attachRequest.wrap(request, 0);
        acquired.wrap(response, 0);
        error.wrap(response, 0);
    }
}
