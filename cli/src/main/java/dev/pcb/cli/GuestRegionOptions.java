package dev.pcb.cli;

import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.List;

/**
 * The options that name a guest's regions in a broker's run directory, shared by {@code pcb qemu-args} and
 * {@code pcb libvirt-xml} (a picocli mixin).
 */
public final class GuestRegionOptions
{
    @Option(names = "--run-dir", required = true, paramLabel = "DIR", description = "The broker's run directory.")
    Path runDir;

    @Option(names = "--guest", required = true, paramLabel = "NAME", description = "The guest.")
    String guest;

    @Option(names = "--share", paramLabel = "NAME",
        description = "Only these of the guest's shares (default: every share the broker gave the guest).")
    List<String> shares;
}
