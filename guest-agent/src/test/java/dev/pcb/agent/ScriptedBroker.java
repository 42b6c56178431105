package dev.pcb.agent;

import dev.pcb.layout.ClientSlot;
import dev.pcb.layout.ClientSlotDescriptor;
import dev.pcb.layout.ControlRegionDescriptor;
import dev.pcb.nativeshim.MappedRegion;
import dev.pcb.protocol.AcquiredResponse;
import dev.pcb.protocol.OpenedResponse;
import dev.pcb.protocol.MessageType;
import org.agrona.concurrent.UnsafeBuffer;
import org.agrona.concurrent.ringbuffer.ManyToOneRingBuffer;
import org.agrona.concurrent.ringbuffer.OneToOneRingBuffer;
import org.agrona.concurrent.ringbuffer.RingBufferDescriptor;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * The broker's half of a control region, driven by a test so it can answer late, out of order or not at all, and
 * stop heartbeating: a real region file with one client slot, its real rings, real answers. For the agent's channel
 * in-process; everything about files and windows is whatever the test writes into the answers.
 */
final class ScriptedBroker implements AutoCloseable
{
    static final int RING_CAPACITY = 64 * 1024;
    static final int BROKER_LEASE_MS = 3_000;

    private final Path file;
    private final MappedRegion region;
    private final UnsafeBuffer header;
    private final ClientSlot slot = new ClientSlot();
    private final ManyToOneRingBuffer requests;
    private final OneToOneRingBuffer responses;
    private final UnsafeBuffer answer = new UnsafeBuffer(new byte[1024]);

    /** One request as the broker read it. */
    record Request(int type, UnsafeBuffer body)
    {
        long correlationId()
        {
            return body.getLong(0);
        }
    }

    ScriptedBroker(final Path dir) throws IOException
    {
        file = Files.createTempFile(dir, "pcb-scripted-control-", ".region");
        Files.delete(file);
        final int slotLength = ControlRegionDescriptor.slotLength(RING_CAPACITY, RING_CAPACITY);
        final long length = ControlRegionDescriptor.regionLength(1, slotLength);
        region = MappedRegion.create(file, length);
        final UnsafeBuffer whole = new UnsafeBuffer(region.address(), (int)length);
        header = new UnsafeBuffer(region.address(), ControlRegionDescriptor.HEADER_LENGTH);
        ControlRegionDescriptor.writeHeader(header, length, 1, ProcessHandle.current().pid(), 1, RING_CAPACITY,
            RING_CAPACITY, "scripted", BROKER_LEASE_MS, 5_000);
        slot.wrap(whole, ControlRegionDescriptor.slotOffset(slotLength, 0), slotLength);
        final int ringLength = RING_CAPACITY + RingBufferDescriptor.TRAILER_LENGTH;
        requests = new ManyToOneRingBuffer(
            new UnsafeBuffer(slot.buffer(), ClientSlotDescriptor.requestRingOffset(), ringLength));
        responses = new OneToOneRingBuffer(
            new UnsafeBuffer(slot.buffer(), ClientSlotDescriptor.responseRingOffset(ringLength), ringLength));
        beat();
        ControlRegionDescriptor.signalReady(header);
        // Accept the first claim from a thread of its own: the channel's constructor waits for it.
        final Thread acceptor = new Thread(() ->
        {
            final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (ClientSlotDescriptor.FREE == slot.ownerId() && System.nanoTime() < deadline)
            {
                Thread.onSpinWait();
            }
            slot.accept(slot.ownerId());
        }, "scripted-broker-accept");
        acceptor.setDaemon(true);
        acceptor.start();
    }

    /** @return the control region file, for {@link MappedRegion#map(Path, boolean)}. */
    Path file()
    {
        return file;
    }

    /** Advance the broker's heartbeat once. */
    void beat()
    {
        header.getAndAddLong(ControlRegionDescriptor.BROKER_HEARTBEAT_OFFSET, 1);
    }

    /**
     * The next request the agent wrote.
     *
     * @throws AssertionError when none comes within 10 s.
     */
    Request nextRequest()
    {
        final Request[] read = new Request[1];
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (null == read[0])
        {
            requests.read((type, buffer, index, length) ->
            {
                final UnsafeBuffer body = new UnsafeBuffer(new byte[length]);
                body.putBytes(0, buffer, index, length);
                read[0] = new Request(type, body);
            }, 1);
            if (System.nanoTime() > deadline)
            {
                throw new AssertionError("no request within 10 s");
            }
            Thread.onSpinWait();
        }
        return read[0];
    }

    /** @return true when no request is waiting to be read. */
    boolean noRequestWaiting()
    {
        return requests.size() == 0;
    }

    /** Answer ACQUIRED for a window of a handle. */
    void acquired(final long correlationId, final long handleId, final long fileWindow)
    {
        final AcquiredResponse acquired = new AcquiredResponse();
        acquired.wrap(answer, 0);
        acquired.correlationId(correlationId);
        acquired.handleId(handleId).fileWindow(fileWindow);
        send(MessageType.ACQUIRED, AcquiredResponse.LENGTH);
    }

    /** Answer OPENED with a handle. */
    void opened(final long correlationId, final long handleId)
    {
        final OpenedResponse opened = new OpenedResponse();
        opened.wrap(answer, 0);
        opened.correlationId(correlationId);
        opened.handleId(handleId);
        send(MessageType.OPENED, OpenedResponse.LENGTH);
    }

    /** Answer a record of a type with the correlation id and one long after it. */
    void answer(final int type, final long correlationId, final long value)
    {
        answer.putLong(0, correlationId);
        answer.putLong(8, value);
        send(type, 16);
    }

    private void send(final int type, final int length)
    {
        if (!responses.write(type, answer, 0, length))
        {
            throw new AssertionError("response ring full");
        }
    }

    public void close() throws IOException
    {
        region.close();
        Files.deleteIfExists(file);
    }
}
