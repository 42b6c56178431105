package dev.pcb.agent;

import dev.pcb.layout.RetainedWindowsDescriptor;

import java.nio.file.Path;
import java.time.Duration;

/**
 * How an agent finds its broker: in host-local mode the run directory and guest name, in a VM the ivshmem PCI
 * devices in sysfs (found by the magic at offset 0, never by slot order). Fluent setters, like Aeron's contexts.
 */
public final class AgentConfig
{
    /** Where sysfs lists PCI devices inside a guest. */
    public static final Path DEFAULT_SYSFS_PCI_DEVICES = Path.of("/sys/bus/pci/devices");
    /**
     * How long a host agent's thread spins (100 busy spins, then yields) for an answer before it sleeps on its slot's
     * answer doorbell by default: several times a hit's round trip to a broker running on another core (about 1 us),
     * so such hits pay no wake-up; no longer, because an answer not there by then is one the broker is not running to
     * give (a fill, a busy machine), and a longer spin measured slower (docs/benchmarks.md, agent wait).
     */
    public static final Duration DEFAULT_ANSWER_SPIN = Duration.ofNanos(10_000);
    /** System property: {@code false} makes host agents poll for answers (spin, yield, park) as guests do. */
    public static final String BLOCKING_WAIT_PROPERTY = "pcb.agent.blockingWait";

    /** Windows a process retains by default: the whole table of its slot. */
    public static final int DEFAULT_RETAINED_WINDOWS = RetainedWindowsDescriptor.ENTRY_COUNT;

    private Path runDir;
    private String guest;
    private Path sysfsPciDevices = DEFAULT_SYSFS_PCI_DEVICES;
    private Path[] devices;
    private Duration connectTimeout = Duration.ofSeconds(10);
    private Duration requestTimeout = Duration.ofSeconds(30);
    private long heartbeatIntervalMs = 100;
    private int retainedWindows = DEFAULT_RETAINED_WINDOWS;
    private boolean blockingWait = !"false".equals(System.getProperty(BLOCKING_WAIT_PROPERTY));
    private Duration answerSpin = DEFAULT_ANSWER_SPIN;

    /**
     * Host-local mode: the broker's run directory.
     *
     * @param runDir where the region files are.
     * @return this.
     */
    public AgentConfig runDir(final Path runDir)
    {
        this.runDir = runDir;
        return this;
    }

    /** @return the run directory, or null in a VM. */
    public Path runDir()
    {
        return runDir;
    }

    /**
     * Guest name: required in host-local mode; in a VM only needed when several control regions are attached.
     *
     * @param guest the guest's name as the broker knows it.
     * @return this.
     */
    public AgentConfig guest(final String guest)
    {
        this.guest = guest;
        return this;
    }

    /** @return the guest name, or null. */
    public String guest()
    {
        return guest;
    }

    /**
     * Where to scan for ivshmem PCI devices in a VM.
     *
     * @param sysfsPciDevices normally {@code /sys/bus/pci/devices}.
     * @return this.
     */
    public AgentConfig sysfsPciDevices(final Path sysfsPciDevices)
    {
        this.sysfsPciDevices = sysfsPciDevices;
        return this;
    }

    /** @return where PCI devices are scanned. */
    public Path sysfsPciDevices()
    {
        return sysfsPciDevices;
    }

    /**
     * Name the region files or BARs to use instead of scanning: {@code resource2} paths or region files.
     *
     * @param devices files to map; each is still identified by its magic.
     * @return this.
     */
    public AgentConfig devices(final Path... devices)
    {
        this.devices = devices.clone();
        return this;
    }

    /** @return named devices, or null to scan. */
    public Path[] devices()
    {
        return null == devices ? null : devices.clone();
    }

    /**
     * How long to wait for the broker to come up and a client slot to be free.
     *
     * @param timeout bounded wait.
     * @return this.
     */
    public AgentConfig connectTimeout(final Duration timeout)
    {
        this.connectTimeout = timeout;
        return this;
    }

    /** @return connect timeout. */
    public Duration connectTimeout()
    {
        return connectTimeout;
    }

    /**
     * How long one request may wait for its answer while the broker is alive.
     *
     * @param timeout bounded wait.
     * @return this.
     */
    public AgentConfig requestTimeout(final Duration timeout)
    {
        this.requestTimeout = timeout;
        return this;
    }

    /** @return request timeout. */
    public Duration requestTimeout()
    {
        return requestTimeout;
    }

    /**
     * How often the agent heartbeats and checks the broker's heartbeat.
     *
     * @param ms interval.
     * @return this.
     */
    public AgentConfig heartbeatIntervalMs(final long ms)
    {
        this.heartbeatIntervalMs = ms;
        return this;
    }

    /** @return heartbeat interval in ms. */
    public long heartbeatIntervalMs()
    {
        return heartbeatIntervalMs;
    }

    /**
     * How many windows the process keeps pinned after their last view is closed, so that reading them again needs
     * no round trip to the broker. The broker takes such pins back whenever it needs the room, so this never makes
     * an ACQUIRE fail; 0 releases every window at once.
     *
     * @param windows 0 to {@link RetainedWindowsDescriptor#ENTRY_COUNT}.
     * @return this.
     */
    public AgentConfig retainedWindows(final int windows)
    {
        if (windows < 0 || windows > RetainedWindowsDescriptor.ENTRY_COUNT)
        {
            throw new IllegalArgumentException(
                "retained windows must be 0.." + RetainedWindowsDescriptor.ENTRY_COUNT + ": " + windows);
        }
        this.retainedWindows = windows;
        return this;
    }

    /** @return windows kept pinned after their last view is closed. */
    public int retainedWindows()
    {
        return retainedWindows;
    }

    /**
     * Whether a host agent's thread waiting for an answer sleeps on its slot's answer doorbell after
     * {@link #answerSpin}, woken by the broker's answer; otherwise it polls with a backoff, as a guest's does (a guest
     * cannot futex the host, so this applies to host-local agents only). Default true, or the
     * {@link #BLOCKING_WAIT_PROPERTY} system property.
     *
     * @param blocking false to poll.
     * @return this.
     */
    public AgentConfig blockingWait(final boolean blocking)
    {
        this.blockingWait = blocking;
        return this;
    }

    /** @return true when host-local waits for answers may sleep on the answer doorbell. */
    public boolean blockingWait()
    {
        return blockingWait;
    }

    /**
     * How long a blocking wait spins before it sleeps.
     *
     * @param spin 0 to 1 ms.
     * @return this.
     */
    public AgentConfig answerSpin(final Duration spin)
    {
        if (spin.isNegative() || spin.compareTo(Duration.ofMillis(1)) > 0)
        {
            throw new IllegalArgumentException("answer spin must be 0 to 1 ms: " + spin);
        }
        this.answerSpin = spin;
        return this;
    }

    /** @return how long a blocking wait spins before it sleeps. */
    public Duration answerSpin()
    {
        return answerSpin;
    }

    /** @return true in host-local mode. */
    public boolean isHostLocal()
    {
        return null != runDir;
    }
}
