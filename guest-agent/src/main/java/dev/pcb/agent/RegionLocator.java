package dev.pcb.agent;

import dev.pcb.layout.ControlRegionDescriptor;
import dev.pcb.layout.DataRegionDescriptor;
import dev.pcb.layout.RunDirectory;
import dev.pcb.nativeshim.MappedRegion;
import dev.pcb.protocol.ErrorCode;
import org.agrona.CloseHelper;
import org.agrona.concurrent.UnsafeBuffer;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Finds and maps an agent's regions: the control region of its guest and the data region of each share.
 * <p>
 * On the host they are files in the run directory. In a VM they are ivshmem BARs ({@code resource2} of PCI devices
 * 1af4:1110), and nothing about slot order is trusted: each candidate is identified by the magic and header at its
 * offset 0 (the guest name of a control region, the region id of a data region).
 */
final class RegionLocator
{
    private final AgentConfig config;

    RegionLocator(final AgentConfig config)
    {
        this.config = config;
    }

    /**
     * Map the guest's control region read-write, waiting up to the connect timeout for it to appear.
     */
    MappedRegion control() throws IOException
    {
        final long deadlineNs = System.nanoTime() + config.connectTimeout().toNanos();
        if (config.isHostLocal())
        {
            if (null == config.guest())
            {
                throw new IllegalArgumentException("--guest is required with --run-dir");
            }
            final Path file = RunDirectory.controlRegionFile(config.runDir(), config.guest());
            while (!Files.exists(file))
            {
                if (System.nanoTime() - deadlineNs > 0)
                {
                    throw new BrokerUnavailableException(
                        "no broker serves guest " + config.guest() + ": " + file + " does not exist");
                }
                sleep();
            }
            return MappedRegion.map(file, true);
        }

        // Like the host-local wait for the file: a device is attached from QEMU's start, but its magic appears only
        // once a broker has (re)made the region, so keep looking until the connect timeout.
        final List<String> seen = new ArrayList<>();
        do
        {
            seen.clear();
            for (final Path candidate : candidates())
            {
                final long magic = magicOf(candidate);
                if (ControlRegionDescriptor.MAGIC != magic)
                {
                    continue;
                }
                final MappedRegion region = MappedRegion.map(candidate, true);
                final String name = ControlRegionDescriptor.guestName(header(region));
                if (null == config.guest() || config.guest().equals(name))
                {
                    return region;
                }
                seen.add(name);
                CloseHelper.quietClose(region);
            }
            sleep();
        }
        while (System.nanoTime() - deadlineNs < 0);
        throw new BrokerUnavailableException("no pcb control region" +
            (null == config.guest() ? "" : " for guest " + config.guest()) + " among the ivshmem devices" +
            (seen.isEmpty() ? "" : " (found guests " + seen + ")") + " after " +
            config.connectTimeout().toMillis() + " ms; is the VM started with pcb's QEMU arguments, and the broker up?");
    }

    /**
     * Map a share's data region read-only, checking it is the region the broker named.
     */
    MappedRegion data(final String shareName, final long regionId) throws IOException
    {
        final List<Path> candidates = config.isHostLocal() ?
            List.of(RunDirectory.dataRegionFile(config.runDir(), shareName)) : candidates();
        for (final Path candidate : candidates)
        {
            if (DataRegionDescriptor.MAGIC != magicOf(candidate))
            {
                continue;
            }
            final MappedRegion region = MappedRegion.map(candidate, false);
            final UnsafeBuffer superblock = header(region);
            if (DataRegionDescriptor.isReady(superblock) &&
                superblock.getLong(DataRegionDescriptor.REGION_ID_OFFSET) == regionId)
            {
                return region;
            }
            CloseHelper.quietClose(region);
        }
        throw new PcbException(ErrorCode.UNKNOWN_SHARE, "the data region of share " + shareName +
            " is not attached here" + (config.isHostLocal() ? "" : " (missing ivshmem device?)"));
    }

    private List<Path> candidates() throws IOException
    {
        final Path[] named = config.devices();
        if (null != named)
        {
            return List.of(named);
        }
        final List<Path> paths = new ArrayList<>();
        for (final IvshmemDevice device : IvshmemDevices.scan(config.sysfsPciDevices()))
        {
            paths.add(device.resource2());
        }
        return paths;
    }

    private static long magicOf(final Path candidate) throws IOException
    {
        try (MappedRegion region = MappedRegion.map(candidate, false))
        {
            return region.length() < 8 ? 0 : header(region).getLongVolatile(0);
        }
    }

    private static UnsafeBuffer header(final MappedRegion region)
    {
        return new UnsafeBuffer(region.address(), (int)Math.min(region.length(), 4096));
    }

    private static void sleep()
    {
        try
        {
            Thread.sleep(20);
        }
        catch (final InterruptedException ex)
        {
            Thread.currentThread().interrupt();
        }
    }
}
