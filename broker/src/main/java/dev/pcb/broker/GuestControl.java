package dev.pcb.broker;

import dev.pcb.layout.ClientSlotDescriptor;
import dev.pcb.layout.ControlRegionDescriptor;
import dev.pcb.layout.Doorbell;
import dev.pcb.nativeshim.MappedRegion;
import org.agrona.CloseHelper;
import org.agrona.concurrent.UnsafeBuffer;
import org.agrona.concurrent.ringbuffer.RingBufferDescriptor;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

import static java.lang.System.Logger.Level.INFO;
import static java.lang.System.Logger.Level.WARNING;

/**
 * A guest's control region: the header the broker writes (epoch, heartbeat, geometry) and its client slots.
 * Each guest has its own region, so a guest can only ever damage its own.
 */
final class GuestControl implements AutoCloseable
{
    private static final System.Logger LOG = System.getLogger("pcb.broker");

    private final String name;
    private final MappedRegion mapping;
    private final UnsafeBuffer header;
    private final ClientSession[] sessions;
    private final List<Share> shares;
    private long heartbeat;
    private int handles;
    private long pins;
    private double requestTokens;
    private long tokensUpdatedNs;
    private Interrupt interrupt;
    private boolean answered;
    private boolean strandedReported;

    GuestControl(
        final String name,
        final Path file,
        final List<Share> shares,
        final BrokerConfig config,
        final long brokerEpoch,
        final long brokerPid) throws IOException
    {
        this.name = name;
        this.shares = shares;
        final int slotLength = ControlRegionDescriptor.slotLength(
            config.requestRingCapacity(), config.responseRingCapacity());
        final long regionLength = ControlRegionDescriptor.regionLength(config.slotCount(), slotLength);
        RegionFiles.requireLengthIfExists(file, regionLength);
        this.mapping = MappedRegion.create(file, regionLength);
        final UnsafeBuffer whole = new UnsafeBuffer(mapping.address(), (int)regionLength);
        this.header = new UnsafeBuffer(whole, 0, ControlRegionDescriptor.HEADER_LENGTH);

        // A restarted broker reuses the file QEMU has mapped. Clients of the previous broker that are still alive
        // keep their slots (owner id, pid, heartbeat) so they can re-attach and claim the windows they still read, and
        // their owner flags, which they write once after their claim (without them a re-attached agent that rings
        // would keep this broker polling); everything else is cleared, including every accepted owner id, before
        // the new header is published.
        final boolean sameGeometry = ControlRegionDescriptor.isReady(header) &&
            header.getInt(ControlRegionDescriptor.SLOT_COUNT_OFFSET) == config.slotCount() &&
            header.getInt(ControlRegionDescriptor.SLOT_LENGTH_OFFSET) == slotLength;
        final long[] owners = new long[config.slotCount() * 4];
        if (sameGeometry)
        {
            for (int i = 0; i < config.slotCount(); i++)
            {
                final int at = ControlRegionDescriptor.slotOffset(slotLength, i);
                owners[4 * i] = whole.getLongVolatile(at + ClientSlotDescriptor.OWNER_ID_OFFSET);
                owners[4 * i + 1] = whole.getLongVolatile(at + ClientSlotDescriptor.OWNER_PID_OFFSET);
                owners[4 * i + 2] = whole.getLongVolatile(at + ClientSlotDescriptor.OWNER_HEARTBEAT_OFFSET);
                owners[4 * i + 3] = whole.getIntVolatile(at + ClientSlotDescriptor.OWNER_FLAGS_OFFSET);
            }
        }
        header.putLongVolatile(ControlRegionDescriptor.MAGIC_OFFSET, 0);
        whole.setMemory(8, (int)regionLength - 8, (byte)0);
        for (int i = 0; sameGeometry && i < config.slotCount(); i++)
        {
            final int at = ControlRegionDescriptor.slotOffset(slotLength, i);
            whole.putLong(at + ClientSlotDescriptor.OWNER_ID_OFFSET, owners[4 * i]);
            whole.putLong(at + ClientSlotDescriptor.OWNER_PID_OFFSET, owners[4 * i + 1]);
            whole.putLong(at + ClientSlotDescriptor.OWNER_HEARTBEAT_OFFSET, owners[4 * i + 2]);
            whole.putInt(at + ClientSlotDescriptor.OWNER_FLAGS_OFFSET, (int)owners[4 * i + 3]);
        }
        ControlRegionDescriptor.writeHeader(
            header,
            regionLength,
            brokerEpoch,
            brokerPid,
            config.slotCount(),
            config.requestRingCapacity(),
            config.responseRingCapacity(),
            name,
            (int)config.brokerLeaseMs(),
            (int)config.clientLeaseMs());

        // From the configuration, never read back from the header: the guest can write it.
        final int requestRingLength = config.requestRingCapacity() + RingBufferDescriptor.TRAILER_LENGTH;
        final int responseRingLength = config.responseRingCapacity() + RingBufferDescriptor.TRAILER_LENGTH;
        this.sessions = new ClientSession[config.slotCount()];
        for (int i = 0; i < sessions.length; i++)
        {
            final UnsafeBuffer slot = new UnsafeBuffer(
                whole, ControlRegionDescriptor.slotOffset(slotLength, i), slotLength);
            sessions[i] = new ClientSession(this, i, slot, requestRingLength, responseRingLength);
        }
        ControlRegionDescriptor.signalReady(header);
    }

    String name()
    {
        return name;
    }

    /** @return the header the broker writes, whose doorbell host agents ring. */
    UnsafeBuffer header()
    {
        return header;
    }

    ClientSession[] sessions()
    {
        return sessions;
    }

    List<Share> shares()
    {
        return shares;
    }

    Path file()
    {
        return mapping.path();
    }

    long regionLength()
    {
        return mapping.length();
    }

    /**
     * Share of an id, if this guest was given it.
     */
    Share share(final int shareId)
    {
        for (int i = 0, n = shares.size(); i < n; i++)
        {
            final Share share = shares.get(i);
            if (share.id() == shareId)
            {
                return share;
            }
        }
        return null;
    }

    int handles()
    {
        return handles;
    }

    void opened(final int delta)
    {
        handles += delta;
    }

    long pins()
    {
        return pins;
    }

    void pinned(final long delta)
    {
        pins += delta;
    }

    /**
     * Take one request from the guest's token bucket, refilled at {@code ratePerSecond} up to one second's worth.
     *
     * @return false when the guest is over its request rate.
     */
    boolean tryRequest(final long nowNs, final int ratePerSecond)
    {
        if (ratePerSecond <= 0)
        {
            return true;
        }
        if (0 == tokensUpdatedNs)
        {
            requestTokens = ratePerSecond;
        }
        else
        {
            requestTokens = Math.min(ratePerSecond, requestTokens + (nowNs - tokensUpdatedNs) * 1e-9 * ratePerSecond);
        }
        tokensUpdatedNs = nowNs;
        if (requestTokens < 1)
        {
            return false;
        }
        requestTokens -= 1;
        return true;
    }

    /**
     * Raise the guest's interrupt after answers, through its doorbell device ({@link IvshmemServer}).
     *
     * @param interrupt how; set once, before the conductor runs.
     */
    void interruptWith(final Interrupt interrupt)
    {
        this.interrupt = interrupt;
    }

    /** The conductor wrote an answer for one of this guest's clients in this cycle. */
    void answered()
    {
        answered = true;
    }

    /**
     * End of a conductor cycle: one interrupt for all of this cycle's answers, if any and if the guest has a doorbell
     * device. A guest's agent waiting on it then looks at its rings; one that was spinning meanwhile sees a stale
     * interrupt later, which only costs it a look.
     */
    void flushInterrupt()
    {
        if (answered)
        {
            answered = false;
            if (null != interrupt)
            {
                interrupt.interrupt();
            }
        }
    }

    /**
     * Can the guest's rings reach the broker? Not while its doorbell socket has no QEMU: QEMU cannot reconnect to a
     * restarted server, so a guest booted before this broker keeps the dead broker's eventfds, and its agent's rings
     * (it still says it rings) would go nowhere. The broker then polls for this guest as for any guest.
     *
     * @return true without a doorbell device (host agents ring with a futex) or with its QEMU connected.
     */
    boolean ringsReachBroker()
    {
        return null == interrupt || interrupt.connected();
    }

    /**
     * Clients of this guest stranded by a broker restart: they wait for doorbell interrupts (their owner flags say
     * they use the guest's doorbell device) while no QEMU is connected to the guest's socket, so
     * their QEMU holds the eventfds of a server that is gone. They poll: each answer is seen at their next interrupt
     * wait bound (10 ms), and the broker stays awake for them. Said once in the log when it starts and when it ends.
     * Called on the conductor thread when the counters are updated.
     *
     * @return their count; 0 without a doorbell device or with its QEMU connected.
     */
    int strandedDoorbellClients()
    {
        final int stranded = countStranded();
        if ((stranded > 0) != strandedReported)
        {
            strandedReported = stranded > 0;
            if (strandedReported)
            {
                LOG.log(WARNING, () -> "guest " + name + ": " + stranded + " client(s) wait for doorbell interrupts " +
                    "but no QEMU is connected to its socket: the guest's QEMU holds a previous broker's eventfds " +
                    "(QEMU never reconnects to an ivshmem server); the guest polls (answers seen within 10 ms) and " +
                    "the broker stays awake for it. Re-plug the guest's doorbell device or restart the guest " +
                    "(docs/qemu.md, \"A restarted broker\")");
            }
            else
            {
                LOG.log(INFO, () -> "guest " + name + ": no client waits for doorbell interrupts without a QEMU now");
            }
        }
        return stranded;
    }

    private int countStranded()
    {
        int stranded = 0;
        if (!ringsReachBroker())
        {
            for (final ClientSession session : sessions)
            {
                if (session.isActive() && Doorbell.ownerUsesDoorbellDevice(session.slot()))
                {
                    stranded++;
                }
            }
        }
        return stranded;
    }

    /**
     * The guest's doorbell as {@code pcb inspect} shows it.
     *
     * @return null without {@code --doorbell}, else "connected", "no QEMU" or "no QEMU, N stranded client(s)...".
     */
    String doorbellState()
    {
        if (null == interrupt)
        {
            return null;
        }
        if (interrupt.connected())
        {
            return "connected";
        }
        final int stranded = countStranded();
        return 0 == stranded ? "no QEMU" :
            "no QEMU, " + stranded + " stranded client(s) polling: their QEMU holds an old broker's eventfds";
    }

    /** @return times the guest's doorbell woke the broker, 0 without a doorbell device. */
    long doorbellWakeups()
    {
        return null == interrupt ? 0 : interrupt.wakeups();
    }

    /** @return interrupts sent to the guest, 0 without a doorbell device. */
    long interruptsSent()
    {
        return null == interrupt ? 0 : interrupt.interrupts();
    }

    /** How the broker interrupts a guest, and what its doorbell did. */
    interface Interrupt
    {
        /** Raise the guest's interrupt; never blocks. */
        void interrupt();

        /** @return times the guest's doorbell woke the broker. */
        long wakeups();

        /** @return interrupts raised. */
        long interrupts();

        /** @return whether a QEMU is connected, so the guest's doorbell and interrupts work. */
        boolean connected();
    }

    void heartbeat()
    {
        header.putLongRelease(ControlRegionDescriptor.BROKER_HEARTBEAT_OFFSET, ++heartbeat);
    }

    /**
     * Tell agents the broker has gone: a zero epoch, then no more heartbeats.
     */
    void signalShutdown()
    {
        header.putLongRelease(ControlRegionDescriptor.BROKER_EPOCH_OFFSET, 0);
    }

    /** {@inheritDoc} */
    public void close()
    {
        CloseHelper.quietClose(mapping);
    }
}
