package dev.pcb.agent;

import dev.pcb.layout.AnswerDoorbell;
import dev.pcb.layout.ClientSlot;
import dev.pcb.layout.ClientSlotDescriptor;
import dev.pcb.layout.ControlRegionDescriptor;
import dev.pcb.layout.Doorbell;
import dev.pcb.layout.RetainedWindowsTable;
import dev.pcb.nativeshim.ErrnoException;
import dev.pcb.nativeshim.Futex;
import dev.pcb.nativeshim.Linux;
import dev.pcb.nativeshim.MappedRegion;
import dev.pcb.protocol.ErrorCode;
import dev.pcb.protocol.MessageType;
import org.agrona.CloseHelper;
import org.agrona.concurrent.NanoClock;
import org.agrona.concurrent.UnsafeBuffer;
import org.agrona.concurrent.ringbuffer.ManyToOneRingBuffer;
import org.agrona.concurrent.ringbuffer.OneToOneRingBuffer;

import java.security.SecureRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static java.lang.System.Logger.Level.WARNING;

/**
 * This process's channel to the broker, the agent's conductor: one claimed client slot of the guest's control
 * region, shared by all threads of the process. It keeps the state (the broker's epoch, whether it serves, the
 * re-attach after a restart) and the policy of a call; the parts around it each do one job:
 * <ul>
 *   <li>{@link SlotClaim}: claiming the slot, waiting until the broker accepts it;</li>
 *   <li>{@link BrokerProxy}: encoding every request, writing the request ring (many-to-one: threads write without
 *   a lock);</li>
 *   <li>{@link PendingCalls} and {@link ResponseAdapter}: correlation of answers to the calls waiting for them, and
 *   settling late answers;</li>
 *   <li>{@link BrokerWatch}: heartbeats and the broker's epoch.</li>
 * </ul>
 * A call fails only when its own deadline passes, when the broker restarts (the caller asks again) or when the
 * broker is gone for good; a broker that merely stops heartbeating (paused) is waited for.
 * <p>
 * A call waiting for its answer in a host process spins and yields for {@link AgentConfig#answerSpin()}, then sleeps
 * on the slot's answer doorbell ({@link AnswerDoorbell}) until the broker's answer wakes it, its deadline passes or a
 * heartbeat interval ends (the broker watch's findings are looked at between sleeps). A guest's call cannot futex
 * the host: it spins, yields and parks as before ({@link Call#idle}), and so does a host call to a broker older
 * than the doorbell.
 */
final class ClientChannel implements AutoCloseable, BrokerWatch.Listener
{
    private static final System.Logger LOG = System.getLogger("pcb.agent");
    // Busy spins of a blocking wait before it yields: a few microseconds, about a round trip to a running broker.
    private static final int ANSWER_SPINS = 100;
    // With a doorbell device: back off as a polling guest does (spins, yields, short parks) for this long, then wait
    // for interrupts. An interrupt costs a VM exit each way and, under TCG, about a millisecond more than polling for
    // a broker's first answer after idling (benchmarks.md, "First request from a guest after idling"); an answer that
    // comes within this is seen as fast as by polling, and a long wait (a fill, a paused broker) still sleeps.
    static final long SPIN_BEFORE_INTERRUPT_WAIT_NS = TimeUnit.MILLISECONDS.toNanos(2);
    // A bound on each interrupt wait: a wake-up lost to another thread's drain costs at most this.
    private static final int INTERRUPT_WAIT_MS = 10;

    private final MappedRegion control;
    private final UnsafeBuffer header;
    private final ClientSlot slot = new ClientSlot();
    private final int slotIndex;
    private final long ownerId;
    private final int slotLength;
    private final NanoClock clock;
    private final long reconnectTimeoutNs;
    private final long requestTimeoutNs;
    private final long answerSpinNs;
    private final long maxAnswerSleepNs;
    private volatile boolean blockingWait;
    private volatile long epoch;
    // Counts completed re-attaches: a request prepared under an older count is encoded again before it is sent.
    private volatile int servingGeneration;
    private final BrokerProxy proxy;
    private final PendingCalls pending = new PendingCalls();
    private final ResponseAdapter responses;
    private final BrokerWatch watch;
    private final ThreadLocal<Call> calls = ThreadLocal.withInitial(Call::new);
    private volatile String brokerFailure;
    private volatile boolean permanentFailure;
    // Orders the watch thread's "restarted" against the recovery thread's outcome (rare: restarts only): it must not
    // hide why recovery failed, nor be written after a recovery that succeeded (every call would then wait in vain).
    private final Object failureLock = new Object();
    private volatile Recovery recovery;
    private long recoveringEpoch;
    // What the recovery thread does now and since when, named when a caller's wait for it times out.
    private volatile String recoveryStep = "none started";
    private volatile long recoveryStepNs;
    private volatile boolean closed;
    private final DoorbellInterrupts bell;
    // 1 while open, plus 1 per call in progress; the control region is unmapped when it drops to 0.
    private final AtomicInteger users = new AtomicInteger(1);

    ClientChannel(final MappedRegion control, final AgentConfig config, final NanoClock clock) throws PcbException
    {
        this(control, config, clock, null);
    }

    /**
     * @param bell the control region's doorbell device in a guest ({@link DoorbellInterrupts#forControlRegion}), or
     *             null to poll; closed with this channel.
     */
    ClientChannel(
        final MappedRegion control, final AgentConfig config, final NanoClock clock, final DoorbellInterrupts bell)
        throws PcbException
    {
        this.control = control;
        this.bell = bell;
        this.clock = clock;
        this.requestTimeoutNs = config.requestTimeout().toNanos();
        this.reconnectTimeoutNs = config.connectTimeout().toNanos();
        this.blockingWait = config.isHostLocal() && config.blockingWait();
        this.answerSpinNs = config.answerSpin().toNanos();
        this.maxAnswerSleepNs = TimeUnit.MILLISECONDS.toNanos(Math.max(1, config.heartbeatIntervalMs()));
        final long deadlineNs = clock.nanoTime() + reconnectTimeoutNs;
        this.header = new UnsafeBuffer(control.address(), ControlRegionDescriptor.HEADER_LENGTH);

        awaitBroker(deadlineNs);
        this.epoch = header.getLongVolatile(ControlRegionDescriptor.BROKER_EPOCH_OFFSET);
        final int slotCount = header.getInt(ControlRegionDescriptor.SLOT_COUNT_OFFSET);
        this.slotLength = header.getInt(ControlRegionDescriptor.SLOT_LENGTH_OFFSET);
        final int requestRingLength = header.getInt(ControlRegionDescriptor.REQUEST_RING_LENGTH_OFFSET);
        final int responseRingLength = header.getInt(ControlRegionDescriptor.RESPONSE_RING_LENGTH_OFFSET);
        if (slotCount < 1 || (long)ControlRegionDescriptor.slotOffset(slotLength, slotCount) > control.length())
        {
            throw new PcbException(ErrorCode.MALFORMED, control.path() + ": control region header is inconsistent");
        }

        this.ownerId = ClientSlot.ownerId(Linux.getpid(), new SecureRandom().nextInt());
        final UnsafeBuffer whole = new UnsafeBuffer(control.address(), (int)control.length());
        this.slotIndex = SlotClaim.claim(whole, slot, ownerId, clock, deadlineNs, config.connectTimeout().toMillis());
        // Before ATTACH: a broker sleeps only while every owner it serves can wake it. A claim wakes it too, so a
        // sleeping broker accepts the slot at once.
        Doorbell.ownerFlags(slot.buffer(), config.isHostLocal() || null != bell, null != bell);
        AnswerDoorbell.claimed(slot.buffer());
        if (config.isHostLocal())
        {
            BrokerProxy.ring(header);
        }
        else if (null != bell)
        {
            bell.ring(header);
        }
        SlotClaim.awaitAccepted(slot, ownerId, clock, deadlineNs,
            "client slot " + slotIndex + " of " + control.path());
        final UnsafeBuffer slotBuffer = slot.buffer();
        // A previous owner's retained windows died with it; the broker dropped their pins before accepting us.
        retainedWindowsTable().reset();

        this.proxy = new BrokerProxy(new ManyToOneRingBuffer(
            new UnsafeBuffer(slotBuffer, ClientSlotDescriptor.requestRingOffset(), requestRingLength)),
            config.isHostLocal() || null != bell ? header : null, bell);
        this.responses = new ResponseAdapter(new OneToOneRingBuffer(new UnsafeBuffer(
            slotBuffer, ClientSlotDescriptor.responseRingOffset(requestRingLength), responseRingLength)),
            pending, proxy);
        this.watch = new BrokerWatch(header, slot, ownerId, clock, config.heartbeatIntervalMs(), config.isHostLocal(),
            responses, this);
        watch.start();
    }

    private void awaitBroker(final long deadlineNs) throws PcbException
    {
        while (!ControlRegionDescriptor.isReady(header) ||
            0 == header.getLongVolatile(ControlRegionDescriptor.BROKER_EPOCH_OFFSET))
        {
            if (clock.nanoTime() - deadlineNs > 0)
            {
                throw new BrokerUnavailableException("no broker serves " + control.path() + " (waited for it to " +
                    "come up)");
            }
            sleepMs(10);
        }
    }

    int slotIndex()
    {
        return slotIndex;
    }

    /** @return a view of this slot's table of retained windows. */
    RetainedWindowsTable retainedWindowsTable()
    {
        return new RetainedWindowsTable().wrap(slot.buffer(), ClientSlotDescriptor.RETAINED_WINDOWS_OFFSET);
    }

    /** @return the encoder of every request. */
    BrokerProxy proxy()
    {
        return proxy;
    }

    /** @return the reader of answers, for its counts. */
    ResponseAdapter responses()
    {
        return responses;
    }

    /**
     * This thread's reusable call; encode the request with {@link #proxy()} then {@link #call}.
     */
    Call prepare()
    {
        final Call call = calls.get();
        // Handle and share ids read after this belong to the broker that serves now; see call().
        call.generation = servingGeneration;
        return call;
    }

    /**
     * Send a request and wait for its answer, which lands in {@code call.response}.
     *
     * @return the answer's type id; an ERROR answer is returned, not thrown.
     * @throws PcbException IO_ERROR when no answer comes within the request timeout, {@link BrokerRestartedException}
     *                      when the broker restarted (ask again), {@link BrokerUnavailableException} when it is gone.
     */
    int call(final Call call, final int typeId, final int length) throws PcbException
    {
        enter();
        try
        {
            return callEntered(call, typeId, length);
        }
        finally
        {
            exit();
        }
    }

    /**
     * {@link #call} for a caller holding a lock the re-attach after a restart takes (a window's, to forget its
     * retained pin): it never waits for a new broker under that lock, which would hold up the re-attach it waits for
     * until its connect timeout. Call {@link #awaitServing} before taking the lock, and again when this throws.
     *
     * @throws BrokerRestartedException when the broker is not serving this client now: let go of the lock, wait, ask
     *                                  again.
     */
    int callUnderLock(final Call call, final int typeId, final int length) throws PcbException
    {
        call.underLock = true;
        try
        {
            return call(call, typeId, length);
        }
        finally
        {
            call.underLock = false;
        }
    }

    private int callEntered(final Call call, final int typeId, final int length) throws PcbException
    {
        if (!call.recovering)
        {
            if (!call.underLock)
            {
                awaitServing();
            }
            else if (null != brokerFailure)
            {
                throw new BrokerRestartedException();
            }
            if (call.generation != servingGeneration)
            {
                // Encoded before the last re-attach: its handle and share ids may be the previous broker's.
                throw new BrokerRestartedException();
            }
        }
        else
        {
            recoveryStep(MessageType.name(typeId) + " sent");
        }
        final long deadlineNs = clock.nanoTime() + requestTimeoutNs;
        pending.register(call);
        try
        {
            write(call, typeId, length, deadlineNs);
            call.idle.reset();
            call.waitStartNs = clock.nanoTime();
            call.spins = 0;
            while (!call.done)
            {
                if (responses.poll() == 0)
                {
                    checkAlive(call);
                    if (clock.nanoTime() - deadlineNs > 0)
                    {
                        if (pending.withdraw(call))
                        {
                            // An answer that comes later is settled by the response adapter, not lost with a pin.
                            throw timeout(typeId);
                        }
                        // A reader took the answer for this call just as its deadline passed: it is ours.
                        awaitDelivery(call);
                        break;
                    }
                    if (null != bell)
                    {
                        if (clock.nanoTime() - call.waitStartNs > SPIN_BEFORE_INTERRUPT_WAIT_NS)
                        {
                            // The broker interrupts the guest after each cycle that answered it: block, bounded.
                            bell.awaitInterrupt(INTERRUPT_WAIT_MS);
                        }
                        else
                        {
                            call.idle.idle();
                        }
                    }
                    else
                    {
                        awaitAnswer(call, deadlineNs);
                    }
                }
            }
            return call.responseType;
        }
        finally
        {
            pending.withdraw(call);
        }
    }

    /**
     * One idle step of a call waiting for its answer: spin, then (host, broker that rings) sleep on the answer
     * doorbell; otherwise back off as a guest does.
     */
    private void awaitAnswer(final Call call, final long deadlineNs)
    {
        if (!blockingWait || !AnswerDoorbell.brokerRings(header))
        {
            call.idle.idle();
            return;
        }
        final long now = clock.nanoTime();
        final long sleepNs = Math.min(deadlineNs - now, maxAnswerSleepNs);
        if (now - call.waitStartNs < answerSpinNs || sleepNs <= 0)
        {
            // A few spins catch a broker answering from another core; then yields, because a futex wake tends to put
            // the woken thread on the waker's core, where a spinning waiter keeps the broker from answering at all.
            if (++call.spins <= ANSWER_SPINS)
            {
                Thread.onSpinWait();
            }
            else
            {
                Thread.yield();
            }
            return;
        }
        final UnsafeBuffer slotBuffer = slot.buffer();
        Futex.Waiter bell = call.answerBell;
        if (null == bell)
        {
            bell = new Futex.Waiter(1);
            bell.word(0, AnswerDoorbell.address(slotBuffer));
            call.answerBell = bell;
        }
        bell.expect(0, AnswerDoorbell.arm(slotBuffer));
        try
        {
            // The last look, after arming: an answer written before it is read here, one written after it rings.
            if (call.done || responses.pollAfterOthers() > 0 || call.done)
            {
                return;
            }
            bell.await(sleepNs);
        }
        catch (final ErrnoException ex)
        {
            blockingWait = false;
            LOG.log(WARNING, () -> "futex_waitv failed (" + ex.getMessage() + "; it needs Linux 5.16 or later): " +
                "calls poll for their answers from now on");
        }
        finally
        {
            AnswerDoorbell.disarm(slotBuffer);
        }
    }

    /**
     * Send a request no one waits an answer for (RELEASE, a deferred CLOSE); an error answer is dropped.
     */
    void send(final Call call, final int typeId, final int length) throws PcbException
    {
        final String failure = brokerFailure;
        if (null != failure)
        {
            // No waiting for a new broker here: a release during an outage has nothing left to release.
            throw new BrokerUnavailableException(failure);
        }
        enter();
        try
        {
            call.request.putLong(0, pending.nextId());
            write(call, typeId, length, clock.nanoTime() + requestTimeoutNs);
        }
        finally
        {
            exit();
        }
    }

    /**
     * Count a call that is about to touch the control region, so {@link #close} does not unmap it under the call.
     *
     * @throws PcbException SHUTTING_DOWN once the channel is closed.
     */
    private void enter() throws PcbException
    {
        while (true)
        {
            final int count = users.get();
            if (0 == count || closed)
            {
                throw new PcbException(ErrorCode.SHUTTING_DOWN, "agent is closed");
            }
            if (users.compareAndSet(count, count + 1))
            {
                return;
            }
        }
    }

    private void exit()
    {
        if (0 == users.decrementAndGet())
        {
            unmap();
        }
    }

    private void unmap()
    {
        CloseHelper.quietClose(control);
        CloseHelper.quietClose(bell);
    }

    private void write(final Call call, final int typeId, final int length, final long deadlineNs)
        throws PcbException
    {
        call.idle.reset();
        while (!proxy.offer(typeId, call.request, length))
        {
            checkAlive(call);
            if (clock.nanoTime() - deadlineNs > 0)
            {
                // Not written, so nothing can answer it; a registered call is withdrawn by the caller.
                throw timeout(typeId);
            }
            responses.poll();
            call.idle.idle();
        }
    }

    /**
     * @throws PcbException when the call must end before its deadline: the broker restarted or is gone, or the agent
     *                      closed.
     */
    private void checkAlive(final Call call) throws PcbException
    {
        if (null != brokerFailure && !call.recovering)
        {
            // The request may be lost with the old broker: wait for a new one, then let the caller ask again.
            if (!call.underLock)
            {
                awaitServing();
            }
            throw new BrokerRestartedException();
        }
        if (call.recovering && permanentFailure)
        {
            throw new BrokerUnavailableException(brokerFailure);
        }
        if (closed)
        {
            throw new PcbException(ErrorCode.SHUTTING_DOWN, "agent is closed");
        }
    }

    private PcbException timeout(final int typeId)
    {
        final String silence = watch.isSilent() ?
            " (the broker has not heartbeated for " + watch.silentMs() + " ms: paused or hung)" : "";
        return new PcbException(ErrorCode.IO_ERROR, MessageType.name(typeId) + " not answered within " +
            TimeUnit.NANOSECONDS.toMillis(requestTimeoutNs) + " ms" + silence);
    }

    private static void awaitDelivery(final Call call)
    {
        while (!call.done)
        {
            Thread.onSpinWait();
        }
    }

    /**
     * Wait, bounded by the connect timeout, until the broker serves this client: right away when it does, after a
     * re-attach when a new broker came up.
     *
     * @throws BrokerUnavailableException when the broker is gone for good, or not back within the connect timeout.
     */
    void awaitServing() throws PcbException
    {
        if (null == brokerFailure)
        {
            return;
        }
        final long deadlineNs = clock.nanoTime() + reconnectTimeoutNs;
        while (null != brokerFailure)
        {
            if (permanentFailure || closed)
            {
                final String failure = brokerFailure;
                throw new BrokerUnavailableException(null == failure ? "agent is closed" : failure);
            }
            if (clock.nanoTime() - deadlineNs > 0)
            {
                final String failure = brokerFailure;
                throw new BrokerUnavailableException((null == failure ? "the broker" : failure) +
                    ", and this client was not served again within " +
                    TimeUnit.NANOSECONDS.toMillis(reconnectTimeoutNs) + " ms (re-attach: " + recoveryStep + " " +
                    TimeUnit.NANOSECONDS.toMillis(clock.nanoTime() - recoveryStepNs) + " ms ago)");
            }
            sleepMs(5);
        }
    }

    /**
     * Set what re-attaches the files of this process after a broker restart.
     */
    void recovery(final Recovery recovery)
    {
        this.recovery = recovery;
    }

    /**
     * The broker watch's observation, on its thread: a new epoch means a restarted broker (re-attach), a zero epoch
     * a clean shutdown (wait for a new one), a withdrawn acceptance a detach, a silent broker whose process is gone
     * a death (wait for a new one). Silence alone means nothing here: a paused broker serves again.
     */
    public void onBeat(final long brokerEpoch, final boolean ready, final boolean accepted, final boolean gone)
    {
        if (!permanentFailure && 0 != brokerEpoch && brokerEpoch != epoch && ready)
        {
            synchronized (failureLock)
            {
                if (permanentFailure || brokerEpoch == epoch)
                {
                    // The recovery thread failed, or already re-attached to this broker, between the look above and
                    // here: "restarted" written now would outlive the recovery and fail every later call.
                    return;
                }
                brokerFailure = "the broker restarted";
            }
            if (recoveringEpoch != brokerEpoch)
            {
                recoveringEpoch = brokerEpoch;
                final Thread thread = new Thread(() -> recover(brokerEpoch), "pcb-agent-recovery");
                thread.setDaemon(true);
                thread.start();
            }
        }
        else if (null == brokerFailure)
        {
            if (brokerEpoch != epoch)
            {
                brokerFailure = "the broker shut down";
            }
            else if (!accepted)
            {
                brokerFailure = "the broker detached this client (lease expired or protocol error)";
            }
            else if (gone)
            {
                brokerFailure = "the broker has not heartbeated for " + watch.silentMs() + " ms and its process " +
                    "(pid " + watch.brokerPid() + ") is gone";
            }
        }
    }

    /**
     * Re-attach to a broker that restarted on the same regions: wait until it accepts this client's slot again,
     * ATTACH, then let the agent claim its held windows and re-open its files. Runs on its own thread so heartbeats
     * go on meanwhile.
     */
    private void recover(final long newEpoch)
    {
        final long deadlineNs = clock.nanoTime() + reconnectTimeoutNs;
        recoveryStep("started, waiting for the broker to accept slot " + slotIndex);
        try
        {
            while (!slot.isAccepted(ownerId))
            {
                if (slot.ownerId() != ownerId ||
                    header.getInt(ControlRegionDescriptor.SLOT_LENGTH_OFFSET) != slotLength)
                {
                    fail("the restarted broker did not keep this client's slot");
                    return;
                }
                if (closed || clock.nanoTime() - deadlineNs > 0)
                {
                    fail("the restarted broker did not accept this client in time");
                    return;
                }
                sleepMs(2);
            }
            epoch = newEpoch;
            final Recovery listener = recovery;
            if (null != listener)
            {
                final Call call = prepare();
                call.recovering = true;
                try
                {
                    listener.reattach(call);
                }
                finally
                {
                    call.recovering = false;
                }
            }
            // Single writer (this thread); published to callers by the volatile write below.
            servingGeneration++;
            synchronized (failureLock)
            {
                brokerFailure = null;
            }
            recoveryStep("done");
        }
        catch (final PcbException | RuntimeException ex)
        {
            fail("re-attaching to the restarted broker failed: " + ex.getMessage());
        }
    }

    private void recoveryStep(final String step)
    {
        recoveryStepNs = clock.nanoTime();
        recoveryStep = step;
    }

    private void fail(final String reason)
    {
        synchronized (failureLock)
        {
            brokerFailure = reason;
            permanentFailure = true;
        }
    }

    /** @return the epoch of the broker this client is attached to; it changes when a restarted one accepts it. */
    long epoch()
    {
        return epoch;
    }

    /** @return the reason the broker is unusable (restarting, shut down, detached us), or null while it serves. */
    String brokerFailure()
    {
        return brokerFailure;
    }

    /** @return ms since the broker last heartbeated. */
    long brokerSilentMs()
    {
        return watch.silentMs();
    }

    /** @return true while the broker has not heartbeated for longer than its lease: paused, hung or gone. */
    boolean isBrokerSilent()
    {
        return watch.isSilent();
    }

    /**
     * Give the slot back: after a DETACH was answered, or when the broker is gone.
     */
    public synchronized void close()
    {
        if (closed)
        {
            return;
        }
        closed = true;
        watch.close();
        // A thread asleep on the answer doorbell looks at the closed flag now, not at its sleep's timeout.
        if (AnswerDoorbell.ring(slot.buffer()))
        {
            Futex.wake(AnswerDoorbell.address(slot.buffer()), Integer.MAX_VALUE);
        }
        slot.release(ownerId);
        // The last of this and the calls still in progress (each now ends with "agent is closed") unmaps the region:
        // a thread of the application still inside a call when another closes the agent gets an error, not SIGSEGV.
        exit();
    }

    static void sleepMs(final long ms)
    {
        try
        {
            Thread.sleep(ms);
        }
        catch (final InterruptedException ex)
        {
            Thread.currentThread().interrupt();
        }
    }
}
