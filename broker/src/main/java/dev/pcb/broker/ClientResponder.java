package dev.pcb.broker;

import dev.pcb.layout.AnswerDoorbell;
import dev.pcb.nativeshim.Futex;
import dev.pcb.protocol.AcquiredResponse;
import dev.pcb.protocol.AdvanceMessage;
import dev.pcb.protocol.AttachedResponse;
import dev.pcb.protocol.ErrorCode;
import dev.pcb.protocol.ErrorResponse;
import dev.pcb.protocol.FileAttributes;
import dev.pcb.protocol.MessageType;
import dev.pcb.protocol.OpenedResponse;
import dev.pcb.protocol.PathRequest;
import dev.pcb.protocol.SimpleMessage;
import dev.pcb.protocol.StatResponse;
import org.agrona.BufferUtil;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.EpochClock;
import org.agrona.concurrent.UnsafeBuffer;
import org.agrona.concurrent.ringbuffer.OneToOneRingBuffer;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Encodes every answer the broker sends and writes it to the client's response ring, as Aeron's {@code ClientProxy}.
 * <p>
 * A client whose response ring is full (it does not read its answers) or corrupt is not detached here, in the middle
 * of whatever the conductor is doing: it is marked, sent nothing more, and detached by the conductor between two
 * units of work ({@link #takeDetaches}). Conductor thread only.
 * <p>
 * Host owners may sleep waiting for their answers ({@link AnswerDoorbell}): the slots answered in a duty cycle are
 * noted, and {@link #wakeAnswered} rings each once at the end of the cycle, which costs a fence per slot and a
 * {@code FUTEX_WAKE} only for a slot with a thread asleep.
 */
final class ClientResponder
{
    /**
     * A client the responder could not answer: to be detached.
     *
     * @param session   the client.
     * @param sessionId its session when it failed, so a later owner of the slot is not detached.
     * @param reason    for the log.
     */
    record Detach(ClientSession session, long sessionId, String reason)
    {
    }

    private final UnsafeBuffer out = new UnsafeBuffer(BufferUtil.allocateDirectAligned(64 * 1024, 64));
    private final AttachedResponse attached = new AttachedResponse();
    private final AdvanceMessage advanced = new AdvanceMessage();
    private final OpenedResponse opened = new OpenedResponse();
    private final StatResponse statResponse = new StatResponse();
    private final PathRequest readlinkResult = new PathRequest();
    private final AcquiredResponse acquired = new AcquiredResponse();
    private final SimpleMessage simple = new SimpleMessage();
    private final ErrorResponse error = new ErrorResponse();
    private final ErrorLog errorLog;
    private final BrokerCounters counters;
    private final EpochClock clock;
    private final long epoch;
    private final List<Detach> detaches = new ArrayList<>();
    private final List<Detach> taken = new ArrayList<>();
    // Slots answered this cycle, each once; grown by doubling, so a steady state allocates nothing.
    private ClientSession[] answered = new ClientSession[16];
    private int answeredCount;
    private long answerWakes;

    ClientResponder(final BrokerCounters counters, final ErrorLog errorLog, final EpochClock clock, final long epoch)
    {
        this.errorLog = errorLog;
        this.counters = counters;
        this.clock = clock;
        this.epoch = epoch;
    }

    void sendAttached(final ClientSession session, final long correlationId)
    {
        attached.wrap(out, 0);
        attached.correlationId(correlationId);
        attached.brokerEpoch(epoch).slotIndex(session.slotIndex());
        final List<Share> given = session.guest().shares();
        attached.shareCount(given.size());
        int at = AttachedResponse.SHARES_OFFSET;
        for (final Share share : given)
        {
            at = attached.putShare(at, share.id(), share.region().windowSize(), share.region().regionLength(),
                share.region().regionId(), session.tree(share).number(), share.name());
        }
        for (final Share share : given)
        {
            at = attached.putIdentity(at, session.tree(share).identity());
        }
        send(session, MessageType.ATTACHED, out, at);
    }

    void sendOpened(final ClientSession session, final long correlationId, final Handle handle)
    {
        final FileVersion version = handle.version();
        final Share share = version.share();
        opened.wrap(out, 0);
        opened.correlationId(correlationId);
        opened.handleId(handle.id()).versionId(version.id()).windowSize(share.region().windowSize()).shareId(share.id());
        opened.putAttributes(version.attributes());
        send(session, MessageType.OPENED, out, OpenedResponse.LENGTH);
    }

    void sendAdvanced(final ClientSession session, final long correlationId, final Share share, final TreeVersion tree)
    {
        advanced.wrap(out, 0);
        advanced.correlationId(correlationId);
        advanced.shareId(share.id()).treeVersion(tree.number());
        send(session, MessageType.ADVANCED, out, advanced.identity(tree.identity()));
    }

    void sendStat(final ClientSession session, final long correlationId, final FileAttributes attributes)
    {
        statResponse.wrap(out, 0);
        statResponse.correlationId(correlationId);
        statResponse.putAttributes(attributes);
        send(session, MessageType.STAT_RESULT, out, StatResponse.LENGTH);
    }

    /**
     * READLINK_RESULT: the target travels in the PATH layout.
     */
    void sendReadlink(final ClientSession session, final long correlationId, final Share share, final String target)
    {
        readlinkResult.wrap(out, 0);
        readlinkResult.correlationId(correlationId);
        readlinkResult.shareId(share.id()).maxEntries(0).cookie(0);
        send(session, MessageType.READLINK_RESULT, out, readlinkResult.path(target));
    }

    void sendAcquired(
        final ClientSession session,
        final long correlationId,
        final long handleId,
        final long fileWindow,
        final Share share,
        final int window,
        final int offsetInWindow,
        final int length)
    {
        acquired.wrap(out, 0);
        acquired.correlationId(correlationId);
        acquired.handleId(handleId)
            .fileWindow(fileWindow)
            .generation(share.windows().generation(window))
            .regionWindow(window)
            .offsetInWindow(offsetInWindow)
            .length(length)
            .shareId(share.id());
        send(session, MessageType.ACQUIRED, out, AcquiredResponse.LENGTH);
    }

    /**
     * CLOSED, HELD, DETACHED: answers that carry only the correlation id.
     */
    void sendSimple(final ClientSession session, final int typeId, final long correlationId)
    {
        simple.wrap(out, 0);
        simple.correlationId(correlationId);
        send(session, typeId, out, SimpleMessage.LENGTH);
    }

    void sendError(
        final ClientSession session, final long correlationId, final int requestType, final ErrorCode code,
        final String message)
    {
        counters.error(code);
        errorLog.log(session, requestType, code, message, clock.time());
        error.wrap(out, 0);
        error.correlationId(correlationId);
        error.code(code).requestType(requestType);
        send(session, MessageType.ERROR, out, error.message(message));
    }

    /**
     * Write an answer encoded elsewhere (a LIST page).
     */
    void send(final ClientSession session, final int typeId, final DirectBuffer buffer, final int length)
    {
        if (!session.isActive() || isDetaching(session))
        {
            return;
        }
        final OneToOneRingBuffer responses = session.responses();
        final boolean written;
        try
        {
            written = responses.write(typeId, buffer, 0, length);
        }
        catch (final RuntimeException ex)
        {
            detaches.add(new Detach(session, session.sessionId(), "corrupt response ring (" + ex + ")"));
            return;
        }
        if (!written)
        {
            detaches.add(new Detach(session, session.sessionId(),
                "response ring full: the client does not read its answers"));
            return;
        }
        if (session.markAnswered())
        {
            // First answer of the cycle for this slot: its guest's interrupt (GuestControl.flushInterrupt) and its
            // answer doorbell (wakeAnswered) are decided once, from this one record.
            session.guest().answered();
            if (answeredCount == answered.length)
            {
                answered = Arrays.copyOf(answered, 2 * answered.length);
            }
            answered[answeredCount++] = session;
        }
    }

    /**
     * End of a duty cycle: wake the threads asleep on the answer doorbell of every slot answered in it.
     *
     * @return slots whose owner was woken.
     */
    int wakeAnswered()
    {
        int woken = 0;
        for (int i = 0; i < answeredCount; i++)
        {
            final ClientSession session = answered[i];
            answered[i] = null;
            session.clearAnswered();
            if (AnswerDoorbell.ring(session.slot()))
            {
                // Every thread: each waits for its own answer, and whichever reads the ring hands the others theirs.
                Futex.wake(AnswerDoorbell.address(session.slot()), Integer.MAX_VALUE);
                woken++;
            }
        }
        answeredCount = 0;
        answerWakes += woken;
        return woken;
    }

    /** @return FUTEX_WAKEs of answer doorbells so far (tests and inspection). */
    long answerWakes()
    {
        return answerWakes;
    }

    /**
     * Clients to detach because they could not be answered; the list is reused by the next call.
     */
    List<Detach> takeDetaches()
    {
        taken.clear();
        if (!detaches.isEmpty())
        {
            taken.addAll(detaches);
            detaches.clear();
        }
        return taken;
    }

    private boolean isDetaching(final ClientSession session)
    {
        for (int i = 0, n = detaches.size(); i < n; i++)
        {
            final Detach detach = detaches.get(i);
            if (detach.session() == session && detach.sessionId() == session.sessionId())
            {
                return true;
            }
        }
        return false;
    }
}
