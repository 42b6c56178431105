package dev.pcb.fs;

import dev.pcb.agent.ShareRegion;
import dev.pcb.nativeshim.Errno;
import dev.pcb.nativeshim.Linux;
import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.logging.Logger;

/**
 * The FUSE session on one /dev/fuse descriptor: its worker threads, the INIT negotiation, and whether READ replies
 * go straight from the window mappings or through a copy.
 */
public final class FuseServer
{
    private static final Logger LOG = Logger.getLogger(FuseServer.class.getName());

    private final int fd;
    private final PcbFileSystem fs;
    private final List<Thread> threads = new ArrayList<>();
    private final CountDownLatch initialized = new CountDownLatch(1);
    private final CountDownLatch ended;
    private volatile boolean copyReplies;
    private volatile long negotiatedFlags;
    private volatile int negotiatedMinor;

    /**
     * A server; nothing runs until {@link #start()}.
     *
     * @param fd      the /dev/fuse descriptor of a mounted filesystem.
     * @param fs      the filesystem.
     * @param threads worker threads.
     */
    public FuseServer(final int fd, final PcbFileSystem fs, final int threads)
    {
        this.fd = fd;
        this.fs = fs;
        this.ended = new CountDownLatch(threads);
        for (int i = 0; i < threads; i++)
        {
            final Thread thread = new Thread(new FuseWorker(this, fs, fd), "pcb-fuse-" + i);
            thread.setDaemon(true);
            this.threads.add(thread);
        }
    }

    /**
     * Decide how READ replies are written: straight from the windows when the kernel can pin the region mappings
     * (host files, /dev/shm), through a per-thread copy when it cannot (a PCI BAR in a guest).
     *
     * @param shares the shares read.
     * @return this.
     */
    public FuseServer chooseReplyPath(final List<ShareRegion> shares)
    {
        boolean pinnable = true;
        for (final ShareRegion share : shares)
        {
            pinnable &= Linux.canPin(share.windowAddress(0), Math.min(4096, share.windowSize()));
        }
        copyReplies = !pinnable;
        LOG.info(pinnable ? "READ replies are written straight from the window mappings" :
            "the window mappings cannot be pinned by the kernel (a PCI BAR): READ replies are copied");
        return this;
    }

    /** Start the workers. */
    public void start()
    {
        threads.forEach(Thread::start);
    }

    /**
     * Wait for the kernel's INIT to be answered.
     *
     * @param timeoutMs bound.
     * @return true once the filesystem serves.
     * @throws InterruptedException if interrupted.
     */
    public boolean awaitInit(final long timeoutMs) throws InterruptedException
    {
        return initialized.await(timeoutMs, TimeUnit.MILLISECONDS);
    }

    /**
     * Wait until every worker ended: the filesystem was unmounted or the connection aborted.
     *
     * @param timeoutMs bound.
     * @return true when all ended.
     * @throws InterruptedException if interrupted.
     */
    public boolean awaitEnd(final long timeoutMs) throws InterruptedException
    {
        return ended.await(timeoutMs, TimeUnit.MILLISECONDS);
    }

    /** @return the flags INIT negotiated. */
    public long negotiatedFlags()
    {
        return negotiatedFlags;
    }

    /** @return the protocol minor version INIT negotiated. */
    public int negotiatedMinor()
    {
        return negotiatedMinor;
    }

    /** @return the filesystem. */
    public PcbFileSystem fileSystem()
    {
        return fs;
    }

    /** @return the /dev/fuse descriptor. */
    public int fd()
    {
        return fd;
    }

    boolean copyReplies()
    {
        return copyReplies;
    }

    void copyFromNowOn()
    {
        if (!copyReplies)
        {
            copyReplies = true;
            LOG.warning("a READ reply from the window mapping failed with EFAULT: copying replies from now on");
        }
    }

    void workerEnded()
    {
        ended.countDown();
    }

    int init(final DirectBuffer in, final int args, final MutableDirectBuffer out, final int body)
    {
        final int major = in.getInt(args + FuseInit.MAJOR_OFFSET);
        final int minor = in.getInt(args + FuseInit.MINOR_OFFSET);
        if (FuseInit.KERNEL_MAJOR != major)
        {
            LOG.warning("the kernel speaks FUSE " + major + "." + minor + "; pcb speaks " + FuseInit.KERNEL_MAJOR);
            return -Errno.EPROTO;
        }
        final long flags = FuseInit.offeredFlags(in, args) & FuseInit.WANTED_FLAGS;
        final int answeredMinor = Math.min(minor, FuseInit.KERNEL_MINOR);
        final int length = FuseInit.encodeReply(out, body, answeredMinor,
            in.getInt(args + FuseInit.MAX_READAHEAD_OFFSET), flags);
        negotiatedFlags = flags;
        negotiatedMinor = answeredMinor;
        LOG.info("FUSE " + major + "." + minor + " kernel, answered 7." + answeredMinor + " with flags 0x" +
            Long.toHexString(flags));
        initialized.countDown();
        return length;
    }
}
