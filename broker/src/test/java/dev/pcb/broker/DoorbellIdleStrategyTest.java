package dev.pcb.broker;

import dev.pcb.layout.ControlRegionDescriptor;
import dev.pcb.layout.Doorbell;
import dev.pcb.nativeshim.Futex;
import dev.pcb.protocol.MessageType;
import dev.pcb.protocol.WindowRequest;
import org.agrona.concurrent.AgentRunner;
import org.agrona.concurrent.BackoffIdleStrategy;
import org.agrona.concurrent.SystemNanoClock;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The conductor on a thread of its own with {@link DoorbellIdleStrategy}, over real control regions: it sleeps once
 * idle while every attached owner rings, a ring wakes it, no ring is lost, and an owner that cannot ring keeps it
 * polling. The sleep timeout is long (10 s) so that a lost wake-up shows as a stall, not as a slow answer.
 */
final class DoorbellIdleStrategyTest
{
    private static final long LONG_SLEEP_NS = TimeUnit.SECONDS.toNanos(10);
    private static final long BOUND_NS = TimeUnit.SECONDS.toNanos(5);

    private ConductorHarness harness;
    private AgentRunner runner;
    private DoorbellIdleStrategy idle;

    @BeforeEach
    void setUp() throws Exception
    {
        harness = new ConductorHarness((config) -> config.maxRequestsPerSecondPerGuest(0));
    }

    @AfterEach
    void tearDown()
    {
        if (null != runner)
        {
            runner.close(10, (thread) -> idle.wake());
        }
        harness.close();
    }

    @Test
    void sleepsOnceIdleAndARingWakesIt()
    {
        final ConductorHarness.Client client = hostClient();
        start(TimeUnit.MILLISECONDS.toNanos(20));
        await(() -> idle.sleeps() > 0, "the conductor never went to sleep");
        final long wakesBefore = idle.wakes();

        final ConductorHarness.Answer answer = roundTrip(client);

        assertEquals(MessageType.ERROR, answer.type(), answer::toString);
        assertTrue(idle.wakes() > wakesBefore, "the answer came without the ring ending a sleep");
    }

    @Test
    void losesNoWakeUpWhileRequestsRaceTheSleep()
    {
        final ConductorHarness.Client client = hostClient();
        start(0);
        final ThreadLocalRandom random = ThreadLocalRandom.current();
        final long sleepsBefore = idle.sleeps();
        for (int i = 0; i < 400; i++)
        {
            // Pauses across the arm, the last look and the wait: each request meets the conductor in another phase.
            final long pauseNs = random.nextLong(0, TimeUnit.MILLISECONDS.toNanos(4));
            final long until = System.nanoTime() + pauseNs;
            while (System.nanoTime() < until)
            {
                Thread.onSpinWait();
            }
            assertEquals(MessageType.ERROR, roundTrip(client).type(), "request " + i);
        }
        assertTrue(idle.sleeps() - sleepsBefore > 40, "too few sleeps to have raced them: " +
            (idle.sleeps() - sleepsBefore));
    }

    @Test
    void anOwnerThatCannotRingKeepsTheConductorPolling() throws Exception
    {
        final ConductorHarness.Client guestClient = harness.attachedClient(1, 0);
        Doorbell.ownerFlags(guestClient.slot(), false, false);
        start(0);
        Thread.sleep(300);
        assertEquals(0, idle.sleeps(), "slept with a guest attached");

        assertEquals(MessageType.ERROR, roundTripWithoutRing(guestClient).type());
    }

    private ConductorHarness.Client hostClient()
    {
        final ConductorHarness.Client client = harness.attachedClient(0, 0);
        Doorbell.ownerFlags(client.slot(), true, false);
        return client;
    }

    private void start(final long sleepAfterIdleNs)
    {
        idle = new DoorbellIdleStrategy(harness.guests(), new BackoffIdleStrategy(), SystemNanoClock.INSTANCE, true,
            sleepAfterIdleNs, LONG_SLEEP_NS);
        runner = new AgentRunner(idle, Throwable::printStackTrace, null, harness.conductor());
        AgentRunner.startOnThread(runner);
    }

    private ConductorHarness.Answer roundTrip(final ConductorHarness.Client client)
    {
        write(client);
        final UnsafeBuffer header = harness.guest(0).header();
        if (Doorbell.ring(header))
        {
            Futex.wake(header.addressOffset() + ControlRegionDescriptor.DOORBELL_OFFSET, 1);
        }
        return awaitAnswer(client);
    }

    private ConductorHarness.Answer roundTripWithoutRing(final ConductorHarness.Client client)
    {
        write(client);
        return awaitAnswer(client);
    }

    private static void write(final ConductorHarness.Client client)
    {
        final UnsafeBuffer record = client.record();
        final WindowRequest request = new WindowRequest();
        request.wrap(record, 0);
        request.handleId(0x7777_0000_0001L).fileWindow(0);
        assertTrue(client.requests().write(MessageType.ACQUIRE, record, 0, WindowRequest.LENGTH), "ring full");
    }

    private static ConductorHarness.Answer awaitAnswer(final ConductorHarness.Client client)
    {
        final long deadline = System.nanoTime() + BOUND_NS;
        ConductorHarness.Answer answer;
        while (null == (answer = client.poll()) && System.nanoTime() < deadline)
        {
            Thread.onSpinWait();
        }
        assertNotNull(answer, "no answer within 5 s: a lost wake-up (the conductor sleeps 10 s)");
        return answer;
    }

    private static void await(final BooleanSupplier condition, final String failure)
    {
        final long deadline = System.nanoTime() + BOUND_NS;
        while (!condition.getAsBoolean())
        {
            assertTrue(System.nanoTime() < deadline, failure);
            Thread.onSpinWait();
        }
    }
}
