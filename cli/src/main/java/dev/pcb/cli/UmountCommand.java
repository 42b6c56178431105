package dev.pcb.cli;

import dev.pcb.fs.FuseMount;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.nio.file.Path;
import java.util.concurrent.Callable;

/**
 * {@code pcb umount}: unmount a {@code pcb mount}; its server sees the unmount, closes its handles and exits.
 */
@Command(
    name = "umount",
    mixinStandardHelpOptions = true,
    description = "Unmount a pcb mount (as root with umount2, else with fusermount3 -u); the 'pcb mount' process " +
        "releases every handle and pin and exits.")
public final class UmountCommand implements Callable<Integer>
{
    @Parameters(index = "0", paramLabel = "MOUNTPOINT", description = "Where the share is mounted.")
    Path mountPoint;

    @Option(names = "--lazy",
        description = "Detach now even while files are open (umount -l; fusermount3 -u -z when not root).")
    boolean lazy;

    /** {@inheritDoc} */
    public Integer call() throws Exception
    {
        FuseMount.unmount(mountPoint, lazy);
        return 0;
    }
}
