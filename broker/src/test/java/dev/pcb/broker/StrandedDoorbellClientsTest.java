package dev.pcb.broker;

import dev.pcb.layout.Doorbell;
import dev.pcb.protocol.MessageType;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A guest whose agents wait for doorbell interrupts while no QEMU is connected to its socket (a QEMU booted before a
 * broker restart keeps the old server's eventfds): the broker counts them as stranded and {@code pcb inspect} says so,
 * over real control regions and real client slots; the doorbell connection is the only stand-in (no QEMU here).
 */
final class StrandedDoorbellClientsTest
{
    private ConductorHarness harness;
    private final Bell bell = new Bell();

    @BeforeEach
    void setUp() throws Exception
    {
        harness = new ConductorHarness((config) -> config.maxRequestsPerSecondPerGuest(0));
        harness.guest(0).interruptWith(bell);
    }

    @AfterEach
    void tearDown()
    {
        harness.close();
    }

    @Test
    void aDeviceClientWithoutAConnectedQemuIsStrandedAndInspectSaysSo()
    {
        final GuestControl guest = harness.guest(0);
        final ConductorHarness.Client host = harness.attachedClient(0, 0);
        Doorbell.ownerFlags(host.slot(), true, false);
        assertEquals(0, guest.strandedDoorbellClients(), "a host agent rings with a futex: never stranded");
        assertEquals("no QEMU", guest.doorbellState());

        final ConductorHarness.Client agent = harness.attachedClient(0, 1);
        Doorbell.ownerFlags(agent.slot(), true, true);
        assertEquals(1, guest.strandedDoorbellClients());
        assertTrue(guest.doorbellState().startsWith("no QEMU, 1 stranded client(s) polling"), guest.doorbellState());
        final String report = InspectReport.build(1, java.util.List.of(), harness.guests());
        assertTrue(report.contains("guest g1: clients=2 doorbell=no QEMU, 1 stranded client(s) polling"), report);

        bell.connected = true; // the device re-plugged: its QEMU connected to this broker
        assertEquals(0, guest.strandedDoorbellClients());
        assertEquals("connected", guest.doorbellState());
        assertNull(harness.guest(1).doorbellState(), "a guest without a doorbell device has no doorbell state");
    }

    @Test
    void aRestartedBrokerKeepsTheOwnerFlagsOfAnAgentThatReattaches() throws Exception
    {
        final ConductorHarness.Client agent = harness.attachedClient(0, 0);
        Doorbell.ownerFlags(agent.slot(), true, true);
        bell.connected = true;
        assertEquals(0, harness.guest(0).strandedDoorbellClients());

        harness.restart();
        harness.guest(0).interruptWith(new Bell()); // the new broker's server: the running QEMU never reconnects
        agent.rebind();
        assertEquals(MessageType.ATTACHED, agent.attach().type());

        // The agent wrote its flags once, after its claim: a restart that cleared them would make a host agent that
        // rings keep the new broker polling, and hide a stranded guest agent.
        assertTrue(Doorbell.ownerRings(agent.slot()) && Doorbell.ownerUsesDoorbellDevice(agent.slot()),
            "the restart cleared the owner flags");
        assertEquals(1, harness.guest(0).strandedDoorbellClients());
    }

    private static final class Bell implements GuestControl.Interrupt
    {
        private volatile boolean connected;

        public void interrupt()
        {
        }

        public long wakeups()
        {
            return 0;
        }

        public long interrupts()
        {
            return 0;
        }

        public boolean connected()
        {
            return connected;
        }
    }
}
