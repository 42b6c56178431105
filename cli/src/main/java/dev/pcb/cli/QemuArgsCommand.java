package dev.pcb.cli;

import dev.pcb.broker.Broker;
import dev.pcb.layout.RunDirectory;
import dev.pcb.testsupport.qemu.IvshmemRegion;
import dev.pcb.testsupport.qemu.QemuArgs;
import picocli.CommandLine;
import picocli.CommandLine.Command;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;

/**
 * {@code pcb qemu-args}: the QEMU arguments that attach a guest's regions: every share's data region read-only, the
 * guest's own control region writable, each as {@code memory-backend-file} plus {@code ivshmem-plain}.
 */
@Command(
    name = "qemu-args",
    mixinStandardHelpOptions = true,
    description = "Print the QEMU arguments that attach a guest's pcb regions.")
public final class QemuArgsCommand implements Callable<Integer>
{
    @CommandLine.Mixin
    GuestRegionOptions regions;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    /** {@inheritDoc} */
    public Integer call() throws IOException
    {
        spec.commandLine().getOut().println(render(regionFiles(regions.runDir, regions.guest, regions.shares)));
        return 0;
    }

    /**
     * The region files a guest attaches, found in a run directory: the data region of each share (read-only, sorted
     * by file name), then the guest's control region (writable).
     *
     * @param runDir the broker's run directory.
     * @param guest  the guest.
     * @param shares only these shares, or null for every share in the directory.
     * @return the files, in attach order.
     * @throws IOException when the guest has no control region there.
     */
    static List<Broker.RegionFile> regionFiles(final Path runDir, final String guest, final List<String> shares)
        throws IOException
    {
        final Path control = RunDirectory.controlRegionFile(runDir, guest);
        if (!Files.exists(control))
        {
            throw new IOException("no control region for guest " + guest + " in " + runDir +
                " (is the broker started with --guest " + guest + "?)");
        }
        // A data region holds file contents as they are: attach only the shares the broker gave this guest.
        final Path given = RunDirectory.guestSharesFile(runDir, guest);
        if (!Files.exists(given))
        {
            throw new IOException("no " + given + ": start a current broker with --guest " + guest);
        }
        final List<Broker.RegionFile> files = new ArrayList<>();
        for (final String share : Files.readAllLines(given, StandardCharsets.UTF_8))
        {
            if (!share.isBlank() && (null == shares || shares.contains(share)))
            {
                final Path data = RunDirectory.dataRegionFile(runDir, share);
                files.add(new Broker.RegionFile(data, Files.size(data), true));
            }
        }
        if (null != shares && files.size() != shares.size())
        {
            throw new IOException("guest " + guest + " was given only " +
                Files.readAllLines(given, StandardCharsets.UTF_8) + "; asked for " + shares);
        }
        // A broker started with --doorbell serves the control region on its socket: attach it as ivshmem-doorbell.
        final Path socket = RunDirectory.doorbellSocketFile(runDir, guest);
        files.add(new Broker.RegionFile(control, Files.size(control), false, Files.exists(socket) ? socket : null));
        return files;
    }

    /**
     * Render QEMU arguments for region files, through {@link QemuArgs}: one {@code memory-backend-file} (data regions
     * {@code readonly=on}) plus one {@code ivshmem-plain} per file, values escaped for QEMU's option syntax (a comma
     * in a path is doubled) and words quoted for a POSIX shell, so the line can be pasted after a QEMU command.
     * <p>
     * Object ids are {@code pcb-} and the file name without its extension ({@code pcb-share-NAME},
     * {@code pcb-guest-NAME}), made valid for QEMU (a letter, then letters, digits, '-', '.', '_') and unique.
     *
     * @param files data regions (read-only) and the control region (writable), each of a power-of-two length.
     * @return one line of arguments.
     */
    public static String render(final List<Broker.RegionFile> files)
    {
        return QemuArgs.forDevicesAsString(regions(files));
    }

    /**
     * The ivshmem regions QEMU attaches for region files, with the ids {@link #render(List)} uses.
     *
     * @param files data regions (read-only) and the control region (writable).
     * @return one region per file, in the same order.
     */
    public static List<IvshmemRegion> regions(final List<Broker.RegionFile> files)
    {
        final Set<String> ids = new HashSet<>();
        final List<IvshmemRegion> regions = new ArrayList<>(files.size());
        for (final Broker.RegionFile file : files)
        {
            String name = file.path().getFileName().toString();
            final int dot = name.lastIndexOf('.');
            if (dot > 0)
            {
                name = name.substring(0, dot);
            }
            final String base = "pcb-" + name.replaceAll("[^A-Za-z0-9._-]", "_");
            String id = base;
            for (int n = 2; !ids.add(id); n++)
            {
                id = base + "-" + n;
            }
            final Path path = file.path().toAbsolutePath();
            if (null != file.doorbellSocket())
            {
                regions.add(IvshmemRegion.doorbell(id, file.doorbellSocket().toAbsolutePath(), file.length()));
            }
            else
            {
                regions.add(file.readOnly() ?
                    IvshmemRegion.readOnly(id, path, file.length()) : IvshmemRegion.writable(id, path, file.length()));
            }
        }
        return regions;
    }
}
