package dev.pcb.cli;

import dev.pcb.broker.Broker;
import dev.pcb.layout.RunDirectory;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
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
    @Option(names = "--run-dir", required = true, paramLabel = "DIR", description = "The broker's run directory.")
    Path runDir;

    @Option(names = "--guest", required = true, paramLabel = "NAME", description = "The guest.")
    String guest;

    @Option(names = "--share", paramLabel = "NAME", description = "Only these shares (default: every share in DIR).")
    List<String> shares;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    /** {@inheritDoc} */
    public Integer call() throws IOException
    {
        final Path control = RunDirectory.controlRegionFile(runDir, guest);
        if (!Files.exists(control))
        {
            throw new IOException("no control region for guest " + guest + " in " + runDir +
                " (is the broker started with --guest " + guest + "?)");
        }
        final List<Broker.RegionFile> files = new ArrayList<>();
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(runDir, "share-*.data"))
        {
            for (final Path entry : entries)
            {
                final String file = entry.getFileName().toString();
                final String share = file.substring("share-".length(), file.length() - ".data".length());
                if (null == shares || shares.contains(share))
                {
                    files.add(new Broker.RegionFile(entry, Files.size(entry), true));
                }
            }
        }
        files.sort((a, b) -> a.path().compareTo(b.path()));
        files.add(new Broker.RegionFile(control, Files.size(control), false));
        spec.commandLine().getOut().println(render(files));
        return 0;
    }

    /**
     * Render QEMU arguments for region files.
     *
     * @param files data regions (read-only) and the control region (writable).
     * @return one line of arguments.
     */
    public static String render(final List<Broker.RegionFile> files)
    {
        final StringBuilder sb = new StringBuilder();
        for (final Broker.RegionFile file : files)
        {
            final String name = file.path().getFileName().toString();
            final String id = "pcb-" + name.replace('.', '-');
            if (sb.length() > 0)
            {
                sb.append(' ');
            }
            sb.append("-object memory-backend-file,id=").append(id)
                .append(",mem-path=").append(file.path().toAbsolutePath())
                .append(",size=").append(file.length())
                .append(",share=on").append(file.readOnly() ? ",readonly=on" : "")
                .append(" -device ivshmem-plain,memdev=").append(id);
        }
        return sb.toString();
    }
}
