package dev.pcb.bench;

import dev.pcb.protocol.AcquiredResponse;
import dev.pcb.protocol.MessageType;
import dev.pcb.protocol.WindowRequest;
import org.agrona.BufferUtil;
import org.agrona.MutableDirectBuffer;
import org.agrona.concurrent.MessageHandler;
import org.agrona.concurrent.UnsafeBuffer;
import org.agrona.concurrent.ringbuffer.OneToOneRingBuffer;
import org.agrona.concurrent.ringbuffer.RingBufferDescriptor;

/**
 * The floor an acquire/release pair can approach: the same messages (an ACQUIRE-sized request answered by an
 * ACQUIRED-sized response, then a one-way RELEASE) between two threads of this JVM over two Agrona
 * {@link OneToOneRingBuffer}s, both sides busy-spinning, with no decoding, no checks, no bookkeeping and no second
 * process.
 * <p>
 * {@link #pair()} must be called from one thread at a time: each ring has exactly one producer.
 */
public final class RingFloor implements AutoCloseable
{
    private static final int CAPACITY = 64 * 1024;

    private final OneToOneRingBuffer requests = newRing();
    private final OneToOneRingBuffer responses = newRing();
    private final UnsafeBuffer request = new UnsafeBuffer(BufferUtil.allocateDirectAligned(64, 64));
    private final UnsafeBuffer response = new UnsafeBuffer(BufferUtil.allocateDirectAligned(64, 64));
    // Handlers are fields, made once: a method reference passed to read() on every poll could allocate each time.
    private final MessageHandler onRequest = this::onRequest;
    private final MessageHandler onResponse = this::onResponse;
    private final Thread responder;
    private volatile boolean running = true;
    private long correlationId;
    private boolean answered;

    /**
     * Start the responder thread.
     */
    public RingFloor()
    {
        responder = new Thread(this::respond, "pcb-bench-ring-floor");
        responder.setDaemon(true);
        responder.start();
    }

    private static OneToOneRingBuffer newRing()
    {
        return new OneToOneRingBuffer(
            new UnsafeBuffer(BufferUtil.allocateDirectAligned(CAPACITY + RingBufferDescriptor.TRAILER_LENGTH, 64)));
    }

    /**
     * One request answered, then one one-way message: what {@code acquire(w)} then {@code close()} send.
     */
    public void pair()
    {
        final long id = ++correlationId;
        request.putLong(0, id);
        write(requests, MessageType.ACQUIRE, request, WindowRequest.LENGTH);
        answered = false;
        while (!answered)
        {
            if (0 == responses.read(onResponse))
            {
                Thread.onSpinWait();
            }
        }
        write(requests, MessageType.RELEASE, request, WindowRequest.LENGTH);
    }

    private void onResponse(final int typeId, final MutableDirectBuffer buffer, final int index, final int length)
    {
        if (buffer.getLong(index) == correlationId)
        {
            answered = true;
        }
    }

    private void respond()
    {
        while (running)
        {
            if (0 == requests.read(onRequest))
            {
                Thread.onSpinWait();
            }
        }
    }

    private void onRequest(final int typeId, final MutableDirectBuffer buffer, final int index, final int length)
    {
        if (MessageType.ACQUIRE == typeId)
        {
            response.putLong(0, buffer.getLong(index));
            write(responses, MessageType.ACQUIRED, response, AcquiredResponse.LENGTH);
        }
    }

    private static void write(
        final OneToOneRingBuffer ring, final int typeId, final UnsafeBuffer message, final int length)
    {
        while (!ring.write(typeId, message, 0, length))
        {
            Thread.onSpinWait();
        }
    }

    /** Stop the responder thread. */
    public void close()
    {
        running = false;
        try
        {
            responder.join(1_000);
        }
        catch (final InterruptedException ex)
        {
            Thread.currentThread().interrupt();
        }
    }
}
