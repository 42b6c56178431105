package dev.pcb.fs;

import dev.pcb.agent.ShareRegion;
import dev.pcb.nativeshim.Errno;
import dev.pcb.nativeshim.Linux;
import dev.pcb.agent.PcbException;
import org.agrona.BufferUtil;
import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;
import org.agrona.collections.LongArrayList;
import org.agrona.concurrent.UnsafeBuffer;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.logging.Logger;

/**
 * The FUSE session on one /dev/fuse descriptor: its worker threads, the INIT negotiation, whether READ replies
 * go straight from the window mappings or through a copy, and the tree version advance with the notifications that
 * make the kernel drop what it cached of the older tree.
 */
public final class FuseServer
{
    private static final Logger LOG = Logger.getLogger(FuseServer.class.getName());

    private final int fd;
    private final PcbFileSystem fs;
    private final List<Thread> threads = new ArrayList<>();
    private final List<FuseWorker> workers = new ArrayList<>();
    // Notifications are written by the advancing thread only (advance is synchronized).
    private final UnsafeBuffer notify = new UnsafeBuffer(BufferUtil.allocateDirectAligned(4096, 64));
    private final long[] notifyIov = new long[2];
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
            final FuseWorker worker = new FuseWorker(this, fs, fd);
            workers.add(worker);
            final Thread thread = new Thread(worker, "pcb-fuse-" + i);
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

    /**
     * Advance the mount to the newest tree version, all paths at once (docs/versions.md, docs/fuse.md):
     * <ol>
     * <li>one ADVANCE moves the mount's session: from its answer on, every STAT, LIST and OPEN the broker resolves
     * in the new tree; a new mount generation makes the mount's own listings and directory snapshots of the older
     * tree stop answering;</li>
     * <li>wait until every request that began in the older generation has been answered (so every dentry the
     * kernel may get from them is in the node table);</li>
     * <li>tell the kernel to drop every dentry it was given (FUSE_NOTIFY_INVAL_ENTRY per (parent, name) the node
     * table handed out: each waits for lookups running in that directory, then unhashes the dentry and what is
     * cached below it) and the root's attributes (FUSE_NOTIFY_INVAL_INODE).</li>
     * </ol>
     * Once this returns, every path walk starts at the root's fresh dentries and so resolves in the new tree; files
     * open keep reading the version they opened. Must not be called from a worker thread (the notifications wait for
     * workers) and never runs twice at once.
     *
     * @param waitNanos how long to wait for requests of the older generation (a stopped broker holds them up to the
     *                  request timeout).
     * @return what the advance did.
     * @throws PcbException when the broker refused or did not answer: nothing changed.
     */
    public synchronized Advance advance(final long waitNanos) throws PcbException
    {
        final long started = System.nanoTime();
        final long from = fs.treeVersion();
        final long to = fs.advanceTree();
        if (to == from)
        {
            return new Advance(from, to, 0, System.nanoTime() - started);
        }
        final long generation = fs.generation();
        final long deadline = started + waitNanos;
        for (final FuseWorker worker : workers)
        {
            while (worker.servesOlderThan(generation))
            {
                if (System.nanoTime() - deadline > 0)
                {
                    LOG.warning("advance: a request of the older tree is still running after " +
                        waitNanos / 1_000_000 + " ms; invalidating without it");
                    break;
                }
                // Requests wait for the broker: microseconds usually, up to the request timeout when it is stopped.
                LockSupport.parkNanos(50_000);
            }
        }
        int invalidated = 0;
        if (initialized.getCount() == 0)
        {
            // Collected under the node table's lock, written without it: a notification waits for the
            // directory's lookups, whose workers need that lock.
            final LongArrayList parents = new LongArrayList();
            final List<String> names = new ArrayList<>();
            fs.nodes().drainEntries((parent, name) ->
            {
                parents.addLong(parent);
                names.add(name);
            });
            for (int i = 0; i < names.size(); i++)
            {
                if (notifyKernel(FuseNotify.invalEntry(notify, parents.getLong(i), names.get(i))))
                {
                    invalidated++;
                }
            }
            notifyKernel(FuseNotify.invalAttributes(notify, NodeTable.ROOT_ID));
        }
        return new Advance(from, to, invalidated, System.nanoTime() - started);
    }

    private boolean notifyKernel(final int length)
    {
        if (length < 0)
        {
            return false;
        }
        notifyIov[0] = notify.addressOffset();
        notifyIov[1] = length;
        final long result = Linux.writev(fd, notifyIov, 1);
        if (result >= 0)
        {
            return true;
        }
        // ENOENT: the kernel no longer has that parent or entry (forgotten meanwhile); nothing to drop.
        if (-Errno.ENOENT != result && -Errno.ENOTDIR != result)
        {
            LOG.warning("/dev/fuse notification: " + Errno.name((int)-result));
        }
        return false;
    }

    /**
     * What one {@link #advance} did.
     *
     * @param from        tree version before.
     * @param to          tree version after; equal to {@code from} when there was nothing newer.
     * @param invalidated kernel entries dropped.
     * @param nanos       how long it took.
     */
    public record Advance(long from, long to, int invalidated, long nanos)
    {
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
