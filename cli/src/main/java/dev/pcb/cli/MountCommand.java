package dev.pcb.cli;

import dev.pcb.agent.PcbAgent;
import dev.pcb.fs.AdvancePolicy;
import dev.pcb.fs.CacheMode;
import dev.pcb.fs.FuseMount;
import dev.pcb.fs.FuseServer;
import dev.pcb.fs.MountAdvancer;
import dev.pcb.fs.MountState;
import dev.pcb.fs.PcbFileSystem;
import org.agrona.CloseHelper;
import org.agrona.concurrent.SystemNanoClock;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.logging.Logger;

/**
 * {@code pcb mount}: serve a share as a read-only filesystem through the kernel's FUSE, until unmounted or signalled.
 */
@Command(
    name = "mount",
    mixinStandardHelpOptions = true,
    description = {
        "Mount a share (or a directory of it) read-only at MOUNTPOINT; every open there is a pcb OPEN.",
        "As root with mount(2); as any other user through fusermount3 (package fuse3), found on PATH.",
        "Prints 'mounted SHARE at MOUNTPOINT' once it serves; SIGTERM, SIGINT or 'pcb umount MOUNTPOINT' unmount it.",
        "A versioned share shows one tree version at a time: SIGHUP or 'pcb mount --advance MOUNTPOINT' moves the " +
            "mount to the newest, and --auto-advance says when it moves by itself."
    })
public final class MountCommand implements Callable<Integer>
{
    private static final Logger LOG = Logger.getLogger(MountCommand.class.getName());
    /** How long the kernel's INIT may take after the mount (mount(2) or fusermount3). */
    static final long INIT_TIMEOUT_MS = 10_000;
    /** How long the workers may take to see the unmount before handles are closed anyway. */
    static final long END_TIMEOUT_MS = 3_000;

    @CommandLine.Mixin
    RegionOptions regions = new RegionOptions();

    @Parameters(index = "0", arity = "0..1", paramLabel = "SHARE[/SUBDIR]", description = "What to mount.")
    String source;

    @Parameters(index = "1", arity = "0..1", paramLabel = "MOUNTPOINT", description = "An existing directory.")
    Path mountPoint;

    @Option(names = "--advance", paramLabel = "MOUNTPOINT",
        description = "Do not mount: have the pcb mount serving MOUNTPOINT advance to the newest tree version; " +
            "prints the version once the advance is done.")
    Path advanceMountPoint;

    @Option(names = "--auto-advance", paramLabel = "never|idle[:DURATION]|interval:DURATION",
        description = "When the mount moves to a newer tree version by itself: never (only on SIGHUP or " +
            "--advance), idle (nothing open through the mount and nothing opened or closed for DURATION, " +
            "default 1s), interval (looked at every DURATION, whatever is open) (default: ${DEFAULT-VALUE}).")
    String autoAdvance = "idle:1s";

    @Option(names = "--timeout", paramLabel = "SECONDS",
        description = "How long the kernel trusts names and attributes before asking again; 0 checks on every " +
            "open (default: ${DEFAULT-VALUE}).")
    double timeoutSeconds = 1;

    @Option(names = "--cache", paramLabel = "none|exec|all",
        description = "Guest page cache: none (direct I/O, no guest copy), exec (keep it for executables and " +
            "shared libraries), all (default: ${DEFAULT-VALUE}).")
    String cache = "none";

    @Option(names = "--threads", paramLabel = "N", description = "Threads serving /dev/fuse (default: ${DEFAULT-VALUE}).")
    int threads = 4;

    @Option(names = "--connect-timeout", paramLabel = "SECONDS",
        description = "How long to wait for the broker at start (default: ${DEFAULT-VALUE}).")
    long connectTimeoutSeconds = 10;

    @Option(names = "--request-timeout", paramLabel = "SECONDS",
        description = "How long a read waits for a stopped broker before failing with EIO " +
            "(default: ${DEFAULT-VALUE}).")
    long requestTimeoutSeconds = 30;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    private PcbAgent agent;
    private PcbFileSystem fs;
    private FuseMount mount;
    private FuseServer server;
    private MountAdvancer advancer;
    private boolean cleanedUp;

    /** {@inheritDoc} */
    public Integer call() throws Exception
    {
        if (null != advanceMountPoint)
        {
            if (null != source)
            {
                throw new CommandLine.ParameterException(spec.commandLine(),
                    "--advance MOUNTPOINT takes no SHARE or MOUNTPOINT argument");
            }
            return MountAdvance.advance(advanceMountPoint, 2 * requestTimeoutSeconds + 10, spec.commandLine());
        }
        if (null == mountPoint)
        {
            throw new CommandLine.ParameterException(spec.commandLine(), "SHARE[/SUBDIR] and MOUNTPOINT are needed");
        }
        final AdvancePolicy policy = MountAdvance.policy(autoAdvance, spec.commandLine());
        final CacheMode cacheMode = cacheMode();
        if (timeoutSeconds < 0 || threads < 1)
        {
            throw new CommandLine.ParameterException(spec.commandLine(), "--timeout must be >= 0, --threads >= 1");
        }
        String root = source;
        while (root.endsWith("/"))
        {
            root = root.substring(0, root.length() - 1);
        }
        final String share = root.contains("/") ? root.substring(0, root.indexOf('/')) : root;
        FuseMount.check(mountPoint);

        agent = PcbAgent.attach(regions.config(spec)
            .connectTimeout(Duration.ofSeconds(connectTimeoutSeconds))
            .requestTimeout(Duration.ofSeconds(requestTimeoutSeconds)));
        try
        {
            fs = new PcbFileSystem(agent, root, (long)(timeoutSeconds * 1e9), cacheMode);
            mount = FuseMount.mount(mountPoint, "pcb:" + root);
        }
        catch (final IOException | RuntimeException ex)
        {
            agent.close();
            throw ex;
        }
        server = new FuseServer(mount.fd(), fs, threads).chooseReplyPath(agent.shares());
        server.start();
        Runtime.getRuntime().addShutdownHook(new Thread(() -> cleanUp(true), "pcb-umount"));
        if (!server.awaitInit(INIT_TIMEOUT_MS))
        {
            cleanUp(true);
            throw new IOException(mountPoint + ": the kernel sent no FUSE INIT within " + INIT_TIMEOUT_MS + " ms");
        }
        advancer = new MountAdvancer(server, policy, new MountState(mountPoint, share), SystemNanoClock.INSTANCE,
            requestTimeoutSeconds * 1_000_000_000L).start();
        MountAdvance.onSighup(advancer);
        LOG.info("share " + share + " at tree version " + fs.treeVersion() + ", --auto-advance " + policy);
        final PrintWriter out = spec.commandLine().getOut();
        out.println("mounted " + share + " at " + mountPoint);
        out.flush();

        while (!server.awaitEnd(60_000))
        {
            // Serving; the workers end when the filesystem is unmounted.
        }
        cleanUp(false);
        return 0;
    }

    private CacheMode cacheMode()
    {
        try
        {
            return CacheMode.valueOf(cache.toUpperCase(java.util.Locale.ROOT));
        }
        catch (final IllegalArgumentException ex)
        {
            throw new CommandLine.ParameterException(spec.commandLine(),
                "--cache must be none, exec or all, not " + cache);
        }
    }

    /**
     * Unmount if still mounted, then close every handle and detach, so the broker drops every pin of this mount.
     */
    private synchronized void cleanUp(final boolean unmount)
    {
        if (cleanedUp)
        {
            return;
        }
        cleanedUp = true;
        if (unmount)
        {
            try
            {
                FuseMount.unmount(mountPoint, false);
            }
            catch (final IOException ex)
            {
                try
                {
                    // Busy: detach the name now; the workers stop with this process.
                    FuseMount.unmount(mountPoint, true);
                }
                catch (final IOException again)
                {
                    LOG.fine(again.getMessage());
                }
            }
            try
            {
                server.awaitEnd(END_TIMEOUT_MS);
            }
            catch (final InterruptedException ex)
            {
                Thread.currentThread().interrupt();
            }
        }
        CloseHelper.quietClose(advancer);
        fs.releaseAll();
        CloseHelper.quietClose(agent);
        mount.close();
    }
}
