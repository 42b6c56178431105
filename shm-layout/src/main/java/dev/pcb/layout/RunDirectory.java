package dev.pcb.layout;

import java.nio.file.Path;

/**
 * Names of the files a broker keeps in its run directory, so an operator can tell them apart at a glance and an
 * agent on the host finds them without asking.
 * <pre>
 *  share-NAME.data   data region of share NAME (QEMU: readonly=on)
 *  guest-NAME.ctl    control region of guest NAME (QEMU: writable)
 *  guest-NAME.shares the shares guest NAME was given, one per line, in attach order
 *  broker.pid        pid of the running broker
 *  counters.dat      the broker's counters (host only; read by pcb stat, kept after the broker stops)
 *  inspect.request   created by {@code pcb inspect}: asks the broker for a report
 *  inspect.txt       the broker's report of versions, handles and pins
 * </pre>
 */
public final class RunDirectory
{
    private RunDirectory()
    {
    }

    /**
     * Data region of a share.
     *
     * @param runDir    run directory.
     * @param shareName share name.
     * @return {@code runDir/share-NAME.data}.
     */
    public static Path dataRegionFile(final Path runDir, final String shareName)
    {
        return runDir.resolve("share-" + shareName + ".data");
    }

    /**
     * Control region of a guest.
     *
     * @param runDir    run directory.
     * @param guestName guest name.
     * @return {@code runDir/guest-NAME.ctl}.
     */
    public static Path controlRegionFile(final Path runDir, final String guestName)
    {
        return runDir.resolve("guest-" + guestName + ".ctl");
    }

    /**
     * The socket on which the broker serves a guest's {@code ivshmem-doorbell} device as its ivshmem server (only with
     * {@code pcb broker --doorbell}).
     *
     * @param runDir    run directory.
     * @param guestName guest name.
     * @return {@code runDir/guest-NAME.sock}.
     */
    public static Path doorbellSocketFile(final Path runDir, final String guestName)
    {
        return runDir.resolve("guest-" + guestName + ".sock");
    }

    /**
     * The shares a guest was given, one name per line in the order the broker attaches them, so tools that print
     * QEMU arguments never attach a data region the guest may not read.
     *
     * @param runDir    run directory.
     * @param guestName guest name.
     * @return {@code runDir/guest-NAME.shares}.
     */
    public static Path guestSharesFile(final Path runDir, final String guestName)
    {
        return runDir.resolve("guest-" + guestName + ".shares");
    }

    /**
     * Pid file of the broker.
     *
     * @param runDir run directory.
     * @return {@code runDir/broker.pid}.
     */
    public static Path pidFile(final Path runDir)
    {
        return runDir.resolve("broker.pid");
    }

    /**
     * Counters file of the broker, laid out by {@link CountersFileDescriptor}.
     *
     * @param runDir run directory.
     * @return {@code runDir/counters.dat}.
     */
    public static Path countersFile(final Path runDir)
    {
        return runDir.resolve("counters.dat");
    }

    /**
     * The tree versions of a share the broker has served (docs/versions.md), replaced atomically when they change.
     *
     * @param runDir    the run directory.
     * @param shareName the share.
     * @return {@code versions-SHARE}.
     */
    public static Path versionsFile(final Path runDir, final String shareName)
    {
        return runDir.resolve("versions-" + shareName);
    }

    /**
     * File whose appearance asks the broker for an inspection report.
     *
     * @param runDir run directory.
     * @return {@code runDir/inspect.request}.
     */
    public static Path inspectRequestFile(final Path runDir)
    {
        return runDir.resolve("inspect.request");
    }

    /**
     * The broker's inspection report, replaced atomically on each request.
     *
     * @param runDir run directory.
     * @return {@code runDir/inspect.txt}.
     */
    public static Path inspectReportFile(final Path runDir)
    {
        return runDir.resolve("inspect.txt");
    }
}
