package dev.pcb.agent;

import dev.pcb.nativeshim.MappedRegion;
import dev.pcb.protocol.AcquiredResponse;
import dev.pcb.protocol.ErrorCode;
import dev.pcb.protocol.MessageType;
import dev.pcb.protocol.WindowRequest;
import org.agrona.concurrent.CachedNanoClock;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The agent's channel in-process, against a broker half the test drives over the real rings of a real mapped control
 * region, with time from a clock the test advances: answers out of order, late answers, a silent broker.
 */
@Timeout(60)
class ClientChannelTest
{
    private static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(10);

    private final CachedNanoClock clock = new CachedNanoClock();
    private final ExecutorService callers = Executors.newFixedThreadPool(2);
    private ScriptedBroker broker;
    private ClientChannel channel;

    @BeforeEach
    void setUp() throws Exception
    {
        final Path dir = Files.isDirectory(Path.of("/dev/shm")) ? Path.of("/dev/shm") : Files.createTempDirectory("pcb");
        broker = new ScriptedBroker(dir);
        channel = new ClientChannel(MappedRegion.map(broker.file(), true), new AgentConfig()
            .requestTimeout(REQUEST_TIMEOUT).connectTimeout(Duration.ofSeconds(10)).heartbeatIntervalMs(5), clock);
    }

    @AfterEach
    void tearDown() throws Exception
    {
        callers.shutdownNow();
        callers.awaitTermination(10, TimeUnit.SECONDS);
        if (null != channel)
        {
            channel.close();
        }
        broker.close();
    }

    @Test
    void answersOutOfOrderReachTheCallsTheyAnswer() throws Exception
    {
        final Future<Long> first = callers.submit(() -> acquire(7, 1));
        final ScriptedBroker.Request a = broker.nextRequest();
        final Future<Long> second = callers.submit(() -> acquire(7, 2));
        final ScriptedBroker.Request b = broker.nextRequest();

        broker.acquired(b.correlationId(), 7, window(b));
        broker.acquired(a.correlationId(), 7, window(a));
        assertEquals(window(a), first.get(10, TimeUnit.SECONDS));
        assertEquals(window(b), second.get(10, TimeUnit.SECONDS));
        assertEquals(0, channel.responses().lateAnswers());
    }

    @Test
    void aLateAcquiredIsReleasedAndNeverMatchesTheNextCall() throws Exception
    {
        final Future<Long> timedOut = callers.submit(() -> acquire(7, 3));
        final ScriptedBroker.Request late = broker.nextRequest();
        assertEquals(MessageType.ACQUIRE, late.type());
        clock.advance(REQUEST_TIMEOUT.toNanos() + 1);
        final PcbException timeout = cause(timedOut);
        assertEquals(ErrorCode.IO_ERROR, timeout.code());
        assertTrue(timeout.getMessage().startsWith("ACQUIRE not answered within 10000 ms"), timeout.getMessage());

        // The same thread (the same reusable call) asks again; the late answer arrives first.
        final Future<Long> retry = callers.submit(() -> acquire(7, 4));
        final ScriptedBroker.Request next = broker.nextRequest();
        broker.acquired(late.correlationId(), 7, 3);
        broker.acquired(next.correlationId(), 7, 4);
        assertEquals(4, retry.get(10, TimeUnit.SECONDS), "the retry got its own answer");

        final ScriptedBroker.Request release = broker.nextRequest();
        assertEquals(MessageType.RELEASE, release.type());
        assertEquals(7, release.body().getLong(WindowRequest.HANDLE_ID_OFFSET));
        assertEquals(3, release.body().getLong(WindowRequest.FILE_WINDOW_OFFSET), "the late pin was released");
        assertEquals(1, channel.responses().lateAnswers());
    }

    @Test
    void aLateOpenedIsClosedEvenWhenNoCallRuns() throws Exception
    {
        final Future<Integer> timedOut = callers.submit(() ->
        {
            final Call call = channel.prepare();
            return channel.call(call, MessageType.OPEN, channel.proxy().path(call, 1, "a/file", 0, 0));
        });
        final ScriptedBroker.Request open = broker.nextRequest();
        clock.advance(REQUEST_TIMEOUT.toNanos() + 1);
        assertEquals(ErrorCode.IO_ERROR, cause(timedOut).code());

        // Read by the broker watch between heartbeats: no caller is there.
        broker.opened(open.correlationId(), 42);
        final ScriptedBroker.Request close = broker.nextRequest();
        assertEquals(MessageType.CLOSE, close.type());
        assertEquals(42, close.body().getLong(WindowRequest.HANDLE_ID_OFFSET));
    }

    @Test
    void aSilentBrokerIsWaitedForAndACallFailsOnlyAtItsOwnDeadline() throws Exception
    {
        // The broker stops heartbeating for twice its lease, within the call's deadline: nothing fails, calls wait.
        final Future<Long> waiting = callers.submit(() -> acquire(7, 5));
        final ScriptedBroker.Request request = broker.nextRequest();
        clock.advance(TimeUnit.MILLISECONDS.toNanos(2 * ScriptedBroker.BROKER_LEASE_MS));
        Thread.sleep(50);
        assertTrue(channel.brokerSilentMs() >= 2 * ScriptedBroker.BROKER_LEASE_MS);
        assertNull(channel.brokerFailure(), "silence is not a failure");
        assertFalse(waiting.isDone());
        broker.acquired(request.correlationId(), 7, 5);
        assertEquals(5, waiting.get(10, TimeUnit.SECONDS));

        // Still silent: the next call fails at its own deadline, and says the broker is silent.
        final Future<Long> timedOut = callers.submit(() -> acquire(7, 6));
        broker.nextRequest();
        clock.advance(REQUEST_TIMEOUT.toNanos() + 1);
        final PcbException timeout = cause(timedOut);
        assertTrue(timeout.getMessage().startsWith("ACQUIRE not answered within 10000 ms (the broker has not " +
            "heartbeated for "), timeout.getMessage());

        // The broker beats again and answers: the next call works.
        broker.beat();
        final Future<Long> after = callers.submit(() -> acquire(7, 7));
        final ScriptedBroker.Request again = broker.nextRequest();
        broker.acquired(again.correlationId(), 7, 7);
        assertEquals(7, after.get(10, TimeUnit.SECONDS));
        assertNull(channel.brokerFailure());
    }

    private long acquire(final long handleId, final long fileWindow) throws PcbException
    {
        final Call call = channel.prepare();
        final int type = channel.call(call, MessageType.ACQUIRE, channel.proxy().window(call, handleId, fileWindow));
        PcbAgent.throwIfError(call, type, MessageType.ACQUIRED);
        return call.response.getLong(AcquiredResponse.FILE_WINDOW_OFFSET);
    }

    private static long window(final ScriptedBroker.Request request)
    {
        return request.body().getLong(WindowRequest.FILE_WINDOW_OFFSET);
    }

    private static PcbException cause(final Future<?> future) throws Exception
    {
        final ExecutionException ex = assertThrows(ExecutionException.class, () -> future.get(10, TimeUnit.SECONDS));
        return assertInstanceOf(PcbException.class, ex.getCause());
    }
}
