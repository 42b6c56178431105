package dev.pcb.agent;

import dev.pcb.layout.ControlRegionDescriptor;
import dev.pcb.layout.Doorbell;
import dev.pcb.layout.LayoutVersion;
import dev.pcb.nativeshim.Futex;
import dev.pcb.protocol.AdvanceMessage;
import dev.pcb.protocol.AttachRequest;
import dev.pcb.protocol.ErrorCode;
import dev.pcb.protocol.HoldRequest;
import dev.pcb.protocol.MessageType;
import dev.pcb.protocol.PathRequest;
import dev.pcb.protocol.SimpleMessage;
import dev.pcb.protocol.TreeIdentity;
import dev.pcb.protocol.WindowRequest;
import org.agrona.BufferUtil;
import org.agrona.MutableDirectBuffer;
import org.agrona.concurrent.AtomicBuffer;
import org.agrona.concurrent.UnsafeBuffer;
import org.agrona.concurrent.ringbuffer.ManyToOneRingBuffer;

/**
 * Encoding of every request the agent sends, and the one place that writes the slot's request ring.
 * <p>
 * Requests are encoded into a {@link Call}'s own buffer (one per thread, so encoding allocates nothing and takes no
 * lock); each method returns the encoded length for {@link ClientChannel#call} or {@link ClientChannel#send}. The
 * correlation id at offset 0 is written by {@link PendingCalls} when the request is sent.
 */
final class BrokerProxy
{
    private final ManyToOneRingBuffer requests;
    private final AtomicBuffer header;
    private final DoorbellInterrupts bell;
    // Used only by the thread that holds the response reader's lock: see ResponseAdapter.
    private final UnsafeBuffer settlement = new UnsafeBuffer(BufferUtil.allocateDirectAligned(64, 64));
    private final WindowRequest settlementRequest = new WindowRequest();

    /**
     * @param requests the slot's request ring.
     * @param header   the control region header, when this process rings the broker's doorbell; else null.
     * @param bell     in a guest with an {@code ivshmem-doorbell} device bound to vfio-pci: rings through its
     *                 register instead of a futex; else null.
     */
    BrokerProxy(final ManyToOneRingBuffer requests, final AtomicBuffer header, final DoorbellInterrupts bell)
    {
        this.requests = requests;
        this.header = header;
        this.bell = bell;
        settlementRequest.wrap(settlement, 0);
    }

    /**
     * ATTACH with this layout version and pid.
     *
     * @return the length to send.
     */
    int attach(final Call call, final int pid)
    {
        call.attachRequest.layoutVersion(LayoutVersion.CURRENT).pid(pid);
        return AttachRequest.LENGTH;
    }

    /**
     * OPEN, STAT or LIST of a path in a share.
     *
     * @return the length to send.
     * @throws PcbException MALFORMED when the path does not fit a request.
     */
    int path(final Call call, final int shareId, final String relative, final long cookie, final int maxEntries)
        throws PcbException
    {
        final PathRequest request = call.pathRequest;
        request.shareId(shareId).maxEntries(maxEntries).cookie(cookie);
        try
        {
            return request.path(relative);
        }
        catch (final IllegalArgumentException ex)
        {
            throw new PcbException(ErrorCode.MALFORMED, ex.getMessage());
        }
    }

    /**
     * ACQUIRE or RELEASE of a file window, or CLOSE of a handle (window 0).
     *
     * @return the length to send.
     */
    int window(final Call call, final long handleId, final long fileWindow)
    {
        call.windowRequest.handleId(handleId).fileWindow(fileWindow);
        return WindowRequest.LENGTH;
    }

    /**
     * RELEASE of a window claimed with HOLD after a broker restart.
     *
     * @return the length to send.
     */
    int heldWindow(final Call call, final int shareId, final int regionWindow)
    {
        return window(call, WindowRequest.HELD_WINDOW_HANDLE, WindowRequest.heldWindow(shareId, regionWindow));
    }

    /**
     * HOLD of a window this process still reads, after a broker restart.
     *
     * @return the length to send.
     */
    int hold(final Call call, final int shareId, final int regionWindow, final long generation)
    {
        call.holdRequest.shareId(shareId).regionWindow(regionWindow).generation(generation);
        return HoldRequest.LENGTH;
    }

    /**
     * ADVANCE of this session to a share's newest tree version.
     *
     * @return the length to send.
     */
    int advance(final Call call, final int shareId)
    {
        call.advance.wrap(call.request, 0);
        call.advance.shareId(shareId);
        return AdvanceMessage.LENGTH;
    }

    /**
     * RESUME: after a broker restart, back onto the version directory this session held.
     *
     * @return the length to send.
     */
    int resume(final Call call, final int shareId, final TreeIdentity held)
    {
        call.advance.wrap(call.request, 0);
        call.advance.shareId(shareId);
        return call.advance.identity(held);
    }

    /**
     * DETACH.
     *
     * @return the length to send.
     */
    int detach(final Call call)
    {
        return SimpleMessage.LENGTH;
    }

    /**
     * Write an encoded request to the ring.
     *
     * @return false when the ring is full now.
     */
    boolean offer(final int typeId, final MutableDirectBuffer buffer, final int length)
    {
        return ringIfSleeping(requests.write(typeId, buffer, 0, length));
    }

    private boolean ringIfSleeping(final boolean written)
    {
        if (written && null != bell)
        {
            bell.ring(header);
        }
        else if (written && null != header)
        {
            ring(header);
        }
        return written;
    }

    /**
     * Wake the broker if it sleeps, after publishing something it must see (a request, a slot claim). Host processes
     * only: a guest's futex cannot reach the host.
     *
     * @param header the control region header.
     */
    static void ring(final AtomicBuffer header)
    {
        if (Doorbell.ring(header))
        {
            Futex.wake(header.addressOffset() + ControlRegionDescriptor.DOORBELL_OFFSET, 1);
        }
    }

    /**
     * Undo what a late answer did at the broker: RELEASE for a late ACQUIRED, CLOSE for a late OPENED. Only the
     * thread holding the response reader's lock calls this.
     *
     * @param typeId        {@link MessageType#RELEASE} or {@link MessageType#CLOSE}.
     * @param correlationId a fresh id; the answer, if any, is an error no one waits for.
     * @return false when the ring is full now.
     */
    boolean offerSettlement(final int typeId, final long correlationId, final long handleId, final long fileWindow)
    {
        settlementRequest.correlationId(correlationId);
        settlementRequest.handleId(handleId).fileWindow(fileWindow);
        return ringIfSleeping(requests.write(typeId, settlement, 0, WindowRequest.LENGTH));
    }
}
