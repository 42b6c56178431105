package dev.pcb.broker;

import dev.pcb.protocol.AdvanceMessage;
import dev.pcb.protocol.AttachRequest;
import dev.pcb.protocol.ErrorCode;
import dev.pcb.protocol.HoldRequest;
import dev.pcb.protocol.MessageType;
import dev.pcb.protocol.PathRequest;
import dev.pcb.protocol.TreeIdentity;
import dev.pcb.protocol.WindowRequest;
import org.agrona.MutableDirectBuffer;
import org.agrona.concurrent.ControlledMessageHandler;
import org.agrona.concurrent.NanoClock;

/**
 * Reads a client's request ring and decodes every record, as Aeron's {@code ClientCommandAdapter}: checks each
 * record's length on its flyweight before reading a field, reads each guest field once, enforces attach-first and
 * the guest's request rate, and hands the decoded values to the conductor.
 * <p>
 * One error path: a {@link RequestException} from handling a record becomes an ERROR answer to that record; any
 * other exception, from a record or from the ring itself, detaches that client (which releases everything it held)
 * and the conductor goes on serving the others. Nothing a guest writes can throw past {@link #poll}.
 * Conductor thread only.
 */
final class RequestAdapter implements ControlledMessageHandler
{
    /** Records read from one slot per duty cycle, so one busy guest cannot starve the others. */
    static final int REQUESTS_PER_SLOT = 32;

    private final BrokerConductor conductor;
    private final ClientResponder responder;
    private final BrokerCounters counters;
    private final NanoClock nanoClock;
    private final int maxRequestsPerSecond;
    private final AttachRequest attachRequest = new AttachRequest();
    private final PathRequest pathRequest = new PathRequest();
    private final WindowRequest windowRequest = new WindowRequest();
    private final HoldRequest holdRequest = new HoldRequest();
    private final AdvanceMessage advanceMessage = new AdvanceMessage();
    private final byte[] pathBytes = new byte[PathRequest.MAX_PATH_LENGTH];
    private ClientSession current;
    private int pathShareId;

    RequestAdapter(
        final BrokerConductor conductor,
        final ClientResponder responder,
        final BrokerCounters counters,
        final NanoClock nanoClock,
        final int maxRequestsPerSecond)
    {
        this.conductor = conductor;
        this.responder = responder;
        this.counters = counters;
        this.nanoClock = nanoClock;
        this.maxRequestsPerSecond = maxRequestsPerSecond;
    }

    /**
     * Handle up to {@link #REQUESTS_PER_SLOT} records of an attached client.
     *
     * @return records read, or 1 when the client was detached.
     */
    int poll(final ClientSession session)
    {
        current = session;
        try
        {
            return session.requests().controlledRead(this, REQUESTS_PER_SLOT);
        }
        catch (final RuntimeException | OutOfMemoryError ex)
        {
            // Not a refusal of one request but a broken client or a broker bug: detaching releases all it held, so
            // no state is left half changed, and the other clients are served on.
            conductor.detach(session, "corrupt request (" + ex + ")");
            return 1;
        }
        finally
        {
            current = null;
        }
    }

    /** {@inheritDoc} */
    public Action onMessage(final int typeId, final MutableDirectBuffer buffer, final int index, final int length)
    {
        final ClientSession session = current;
        if (!session.isActive())
        {
            return Action.CONTINUE;
        }
        if (isMetadata(typeId) && session.isAttached())
        {
            // The share id is read once, here: the share given room is the share the request is decoded for.
            pathShareId = length >= PathRequest.SHARE_ID_OFFSET + Integer.BYTES ?
                buffer.getInt(index + PathRequest.SHARE_ID_OFFSET) : 0;
            if (!conductor.hasMetadataRoom(session, session.guest().share(pathShareId)))
            {
                // The guest has as many OPEN, STAT and LIST in flight as it may, or as many on this share: leave this
                // record (and those behind it in this slot) in the ring until one comes back. Other slots and guests
                // are read on.
                return Action.ABORT;
            }
        }
        session.countRequest();
        counters.request(session.guest());
        final long correlationId = length >= Long.BYTES ? buffer.getLong(index) : 0;
        try
        {
            if (MessageType.ATTACH != typeId && !session.isAttached())
            {
                throw new RequestException(ErrorCode.NOT_ATTACHED, "ATTACH first");
            }
            if (maxRequestsPerSecond > 0 && isRateLimited(typeId) &&
                !session.guest().tryRequest(nanoClock.nanoTime(), maxRequestsPerSecond))
            {
                throw new RequestException(ErrorCode.QUOTA_EXCEEDED, "guest " + session.guest().name() +
                    " is over its rate of " + maxRequestsPerSecond + " requests per second");
            }
            dispatch(session, typeId, buffer, index, length, correlationId);
        }
        catch (final RequestException ex)
        {
            responder.sendError(session, correlationId, typeId, ex.code(), ex.getMessage());
        }
        return Action.CONTINUE;
    }

    private static boolean isMetadata(final int typeId)
    {
        return MessageType.OPEN == typeId || MessageType.STAT == typeId || MessageType.LIST == typeId ||
            MessageType.READLINK == typeId || MessageType.RESUME == typeId;
    }

    private void dispatch(
        final ClientSession session,
        final int typeId,
        final MutableDirectBuffer buffer,
        final int index,
        final int length,
        final long correlationId) throws RequestException
    {
        switch (typeId)
        {
            case MessageType.ATTACH:
                require(AttachRequest.isWellFormed(length), "ATTACH", length, AttachRequest.LENGTH);
                attachRequest.wrap(buffer, index);
                conductor.onAttach(session, correlationId, attachRequest.layoutVersion(), attachRequest.pid());
                break;

            case MessageType.OPEN:
            case MessageType.STAT:
            case MessageType.LIST:
            case MessageType.READLINK:
                onPathRequest(session, typeId, buffer, index, length, correlationId);
                break;

            case MessageType.ACQUIRE:
            case MessageType.RELEASE:
            case MessageType.CLOSE:
                onWindowRequest(session, typeId, buffer, index, length, correlationId);
                break;

            case MessageType.DETACH:
                conductor.onDetach(session, correlationId);
                break;

            case MessageType.HOLD:
                require(HoldRequest.isWellFormed(length), "HOLD", length, HoldRequest.LENGTH);
                holdRequest.wrap(buffer, index);
                conductor.onHold(session, correlationId, share(session, holdRequest.shareId()),
                    holdRequest.regionWindow(), holdRequest.generation());
                break;

            case MessageType.ADVANCE:
                require(AdvanceMessage.isWellFormed(length), "ADVANCE", length, AdvanceMessage.LENGTH);
                advanceMessage.wrap(buffer, index);
                conductor.onAdvance(session, correlationId, share(session, advanceMessage.shareId()));
                break;

            case MessageType.RESUME:
                onResume(session, buffer, index, length, correlationId);
                break;

            default:
                throw new RequestException(ErrorCode.MALFORMED, "unknown request type " + typeId);
        }
    }

    private void onResume(
        final ClientSession session,
        final MutableDirectBuffer buffer,
        final int index,
        final int length,
        final long correlationId) throws RequestException
    {
        require(AdvanceMessage.isWellFormed(length), "RESUME", length, AdvanceMessage.LENGTH);
        advanceMessage.wrap(buffer, index);
        final Share share = share(session, pathShareId); // read once, at the room check (same offset)
        final TreeIdentity wanted;
        try
        {
            wanted = advanceMessage.identity(length);
        }
        catch (final IllegalArgumentException ex)
        {
            throw new RequestException(ErrorCode.MALFORMED, "RESUME: " + ex.getMessage());
        }
        conductor.onResume(session, correlationId, share, wanted);
    }

    private void onWindowRequest(
        final ClientSession session,
        final int typeId,
        final MutableDirectBuffer buffer,
        final int index,
        final int length,
        final long correlationId) throws RequestException
    {
        require(WindowRequest.isWellFormed(length), MessageType.name(typeId), length, WindowRequest.LENGTH);
        windowRequest.wrap(buffer, index);
        final long handleId = windowRequest.handleId();
        final long fileWindow = windowRequest.fileWindow();
        if (MessageType.ACQUIRE == typeId)
        {
            conductor.onAcquire(session, correlationId, handleId, fileWindow);
        }
        else if (MessageType.RELEASE == typeId)
        {
            conductor.onRelease(session, handleId, fileWindow);
        }
        else
        {
            conductor.onCloseHandle(session, correlationId, handleId);
        }
    }

    private void onPathRequest(
        final ClientSession session,
        final int typeId,
        final MutableDirectBuffer buffer,
        final int index,
        final int length,
        final long correlationId) throws RequestException
    {
        // Read the length once, check it, and decode with the checked value only.
        final int pathLength = PathRequest.checkedPathLength(buffer, index, length);
        if (pathLength < 0)
        {
            throw new RequestException(ErrorCode.MALFORMED, "malformed path request");
        }
        pathRequest.wrap(buffer, index);
        final Share share = share(session, pathShareId);
        final String path = pathRequest.path(pathBytes, pathLength);
        if (MessageType.OPEN == typeId)
        {
            conductor.onOpen(session, correlationId, share, path);
        }
        else if (MessageType.STAT == typeId)
        {
            conductor.onStat(session, correlationId, share, path);
        }
        else if (MessageType.READLINK == typeId)
        {
            conductor.onReadlink(session, correlationId, share, path);
        }
        else
        {
            conductor.onList(session, correlationId, share, path, pathRequest.cookie(), pathRequest.maxEntries());
        }
    }

    private static boolean isRateLimited(final int typeId)
    {
        // Every request that costs the broker work or a pin; RELEASE, CLOSE and DETACH only give back.
        return MessageType.OPEN == typeId || MessageType.STAT == typeId || MessageType.LIST == typeId ||
            MessageType.READLINK == typeId || MessageType.ACQUIRE == typeId || MessageType.HOLD == typeId ||
            MessageType.ATTACH == typeId || MessageType.RESUME == typeId;
    }

    private static Share share(final ClientSession session, final int shareId) throws RequestException
    {
        final Share share = session.guest().share(shareId);
        if (null == share)
        {
            throw new RequestException(ErrorCode.UNKNOWN_SHARE,
                "share id " + shareId + " is not given to guest " + session.guest().name());
        }
        return share;
    }

    private static void require(final boolean wellFormed, final String what, final int length, final int required)
        throws RequestException
    {
        if (!wellFormed)
        {
            throw new RequestException(ErrorCode.MALFORMED, what + " record of " + length + " bytes, needs " + required);
        }
    }
}
