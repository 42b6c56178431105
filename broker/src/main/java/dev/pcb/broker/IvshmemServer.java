package dev.pcb.broker;

import dev.pcb.layout.ControlRegionDescriptor;
import dev.pcb.layout.RunDirectory;
import dev.pcb.nativeshim.ErrnoException;
import dev.pcb.nativeshim.EventFd;
import dev.pcb.nativeshim.Futex;
import dev.pcb.nativeshim.Linux;
import dev.pcb.nativeshim.UnixSocketServer;
import com.sun.jna.Memory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static java.lang.System.Logger.Level.INFO;
import static java.lang.System.Logger.Level.WARNING;

/**
 * The broker as the ivshmem server of its guests' {@code ivshmem-doorbell} devices ({@code pcb broker --doorbell}):
 * one UNIX socket per guest, {@code guest-NAME.sock} in the run directory, on which that guest's QEMU receives the
 * control region file as the device's shared memory and two eventfds (QEMU's {@code docs/specs/ivshmem-spec.rst};
 * what was seen under TCG is in docs/qemu.md):
 * <pre>
 *   on connect:  0 (version) | 1 (the guest's peer id) | -1 + control region fd | 0 + fd B | 1 + fd G
 *   guest doorbell write (peer 0, vector 0) --QEMU--> B readable --this thread--> FUTEX_WAKE the region's doorbell
 *   conductor answered the guest --> write G --QEMU--> MSI-X vector 0 in the guest
 * </pre>
 * The broker is peer 0 and the guest peer 1 of each socket: a guest can only ring the broker, never another guest.
 * The guest's agent rings as a host agent does ({@link dev.pcb.layout.Doorbell#ring}: add to the doorbell word, then
 * wake), with a write to the doorbell register in place of {@code FUTEX_WAKE}; this class's thread turns B into the
 * futex wake, so the conductor's sleep ({@link DoorbellIdleStrategy}) and its ordering stay those of host agents.
 * One QEMU at a time per socket: a second connection is closed at once. Blocking calls ({@code poll}, {@code accept})
 * run on this class's own thread, never on the conductor's.
 */
final class IvshmemServer implements AutoCloseable
{
    static final long PROTOCOL_VERSION = 0;
    static final long BROKER_PEER = 0;
    static final long GUEST_PEER = 1;
    static final long SHARED_MEMORY = -1;
    private static final int POLL_MS = 200;
    private static final int PER_GUEST = 3;

    private static final System.Logger LOG = System.getLogger("pcb.broker");

    private final Bell[] bells;
    private final EventFd.Poller poller;
    private final UnixSocketServer.Sender sender = new UnixSocketServer.Sender();
    private final Memory scratch = new Memory(8);
    private final Thread thread;
    private volatile boolean closed;

    /**
     * Listen on every guest's socket (replacing a stale one) and start serving.
     *
     * @param runFiles the run directory, whose group (if any) gets the sockets ({@link RunFiles#socketBound}).
     * @param guests   the control regions to serve.
     * @throws IOException when a socket cannot be bound or an eventfd made.
     */
    IvshmemServer(final RunFiles runFiles, final GuestControl[] guests) throws IOException
    {
        this.bells = new Bell[guests.length];
        this.poller = new EventFd.Poller(Math.max(1, guests.length * PER_GUEST));
        boolean ok = false;
        try
        {
            for (int i = 0; i < guests.length; i++)
            {
                bells[i] = new Bell(guests[i], RunDirectory.doorbellSocketFile(runFiles.dir(), guests[i].name()));
                runFiles.socketBound(bells[i].socket);
                guests[i].interruptWith(bells[i]);
                poller.fd(PER_GUEST * i, bells[i].listening);
                poller.fd(PER_GUEST * i + 1, bells[i].brokerFd);
                poller.fd(PER_GUEST * i + 2, -1);
            }
            ok = true;
        }
        finally
        {
            if (!ok)
            {
                closeBells();
            }
        }
        this.thread = new Thread(this::run, "pcb-ivshmem-server");
        thread.setDaemon(true);
        thread.start();
    }

    /** {@inheritDoc} */
    public void close()
    {
        closed = true;
        try
        {
            thread.join(10_000);
        }
        catch (final InterruptedException ex)
        {
            Thread.currentThread().interrupt();
        }
        closeBells();
    }

    private void closeBells()
    {
        for (final Bell bell : bells)
        {
            if (null != bell)
            {
                bell.close();
            }
        }
    }

    private void run()
    {
        while (!closed)
        {
            try
            {
                if (0 == poller.await(POLL_MS))
                {
                    continue;
                }
                for (int i = 0; i < bells.length; i++)
                {
                    final Bell bell = bells[i];
                    if (poller.ready(PER_GUEST * i + 1) && EventFd.drain(bell.brokerFd, scratch) > 0)
                    {
                        bell.wakeups = bell.wakeups + 1;
                        Futex.wake(bell.doorbellAddress, 1);
                    }
                    if (poller.ready(PER_GUEST * i))
                    {
                        accept(i, bell);
                    }
                    if (poller.ready(PER_GUEST * i + 2))
                    {
                        // QEMU never sends; readable means it hung up (or sent what the protocol has no room for).
                        LOG.log(INFO, () -> "guest " + bell.guest.name() + ": QEMU left the doorbell socket");
                        bell.disconnect();
                        poller.fd(PER_GUEST * i + 2, -1);
                    }
                }
            }
            catch (final ErrnoException ex)
            {
                LOG.log(WARNING, () -> "ivshmem server: " + ex.getMessage() + "; doorbells stop, guests poll");
                return;
            }
        }
    }

    private void accept(final int index, final Bell bell) throws ErrnoException
    {
        final int fd = UnixSocketServer.accept(bell.listening);
        if (bell.connected >= 0)
        {
            LOG.log(WARNING, () -> "guest " + bell.guest.name() + ": a second QEMU connected to " + bell.socket +
                "; refused (one QEMU per guest)");
            Linux.close(fd);
            return;
        }
        try
        {
            sender.send(fd, PROTOCOL_VERSION, -1);
            sender.send(fd, GUEST_PEER, -1);
            sender.send(fd, SHARED_MEMORY, bell.controlFd);
            sender.send(fd, BROKER_PEER, bell.brokerFd);
            sender.send(fd, GUEST_PEER, bell.guestFd);
        }
        catch (final ErrnoException ex)
        {
            LOG.log(WARNING, () -> "guest " + bell.guest.name() + ": doorbell set-up failed: " + ex.getMessage());
            Linux.close(fd);
            return;
        }
        bell.connected = fd;
        poller.fd(PER_GUEST * index + 2, fd);
        LOG.log(INFO, () -> "guest " + bell.guest.name() + ": QEMU attached its doorbell device");
    }

    /** One guest's socket, eventfds and connection. */
    static final class Bell implements GuestControl.Interrupt
    {
        private final GuestControl guest;
        private final Path socket;
        private final long doorbellAddress;
        private final Memory scratch = new Memory(8);
        private int listening = -1;
        private int controlFd = -1;
        private int brokerFd = -1;
        private int guestFd = -1;
        private volatile int connected = -1;
        // Written by the conductor thread only.
        private volatile long interrupts;
        // Written by the server thread only: eventfd reads, not rings (rings between two reads add up to one).
        private volatile long wakeups;

        Bell(final GuestControl guest, final Path socket) throws IOException
        {
            this.guest = guest;
            this.socket = socket;
            this.doorbellAddress = guest.header().addressOffset() + ControlRegionDescriptor.DOORBELL_OFFSET;
            Files.deleteIfExists(socket);
            try
            {
                controlFd = Linux.openFile(guest.file().toString(), Linux.O_RDWR);
                brokerFd = EventFd.create();
                guestFd = EventFd.create();
                listening = UnixSocketServer.listen(socket.toString(), 4);
            }
            catch (final IOException ex)
            {
                close();
                throw ex;
            }
        }

        /** {@inheritDoc} */
        public void interrupt()
        {
            if (connected < 0)
            {
                return;
            }
            try
            {
                EventFd.signal(guestFd, scratch);
                interrupts = interrupts + 1;
            }
            catch (final ErrnoException ex)
            {
                // Only a counter at its maximum refuses a write; the guest has a wake-up pending either way.
            }
        }

        /** {@inheritDoc} */
        public long wakeups()
        {
            return wakeups;
        }

        /** {@inheritDoc} */
        public long interrupts()
        {
            return interrupts;
        }

        /** {@inheritDoc} */
        public boolean connected()
        {
            return connected >= 0;
        }

        void disconnect()
        {
            final int fd = connected;
            connected = -1;
            if (fd >= 0)
            {
                Linux.close(fd);
            }
        }

        void close()
        {
            disconnect();
            for (final int fd : new int[]{listening, controlFd, brokerFd, guestFd})
            {
                if (fd >= 0)
                {
                    Linux.close(fd);
                }
            }
            listening = controlFd = brokerFd = guestFd = -1;
            try
            {
                Files.deleteIfExists(socket);
            }
            catch (final IOException ignore)
            {
                // Best effort: the next broker replaces a stale socket.
            }
        }
    }
}
