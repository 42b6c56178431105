package dev.pcb.broker;

import dev.pcb.nativeshim.StatxResult;
import dev.pcb.protocol.ErrorCode;
import dev.pcb.protocol.FileAttributes;
import dev.pcb.protocol.MessageType;
import dev.pcb.protocol.TreeIdentity;
import org.agrona.BufferUtil;
import org.agrona.concurrent.ManyToOneConcurrentArrayQueue;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * One OPEN, STAT, LIST, READLINK or RESUME run off the conductor: the system calls (openat2, statx, getdents64,
 * readlinkat; realpath and open of a version directory) on a metadata worker, the result handed back through a
 * queue for the conductor to apply and answer. A share on a hung filesystem then stalls only the workers and the
 * requests that touch it, never the conductor.
 * <p>
 * Tasks are pooled per guest ({@link MetadataWork}); the inputs are set by the conductor before submission and the
 * outputs by the worker before the completion queue hands the task back, which orders them.
 */
final class MetadataTask implements Runnable
{
    private final MetadataRequests requests = new MetadataRequests();
    private final StatxResult stat = new StatxResult();
    private final FileAttributes attributes = new FileAttributes();
    private final UnsafeBuffer page = new UnsafeBuffer(BufferUtil.allocateDirectAligned(64 * 1024, 64));
    private final ManyToOneConcurrentArrayQueue<MetadataTask> completions;
    private final Runnable bell;
    private ClientSession session;
    private long sessionId;
    private int type;
    private long correlationId;
    private Share share;
    private TreeVersion tree;
    private int rootFd;
    private String path;
    private long cookie;
    private int maxEntries;
    private int limit;
    private int fd;
    private int pageLength;
    private String linkTarget;
    private TreeIdentity wanted;
    private TreeWatcher.Flip reopened;
    private ErrorCode error;
    private String errorMessage;

    MetadataTask(final ManyToOneConcurrentArrayQueue<MetadataTask> completions, final Runnable bell)
    {
        this.completions = completions;
        this.bell = bell;
    }

    /**
     * Set the request; conductor thread.
     */
    MetadataTask request(
        final ClientSession session,
        final int type,
        final long correlationId,
        final Share share,
        final TreeVersion tree,
        final String path,
        final long cookie,
        final int maxEntries)
    {
        this.tree = tree;
        this.rootFd = tree.rootFd();
        this.session = session;
        this.sessionId = session.sessionId();
        this.type = type;
        this.correlationId = correlationId;
        this.share = share;
        this.path = path;
        this.cookie = cookie;
        this.maxEntries = maxEntries;
        this.limit = session.responses().maxMsgLength();
        this.fd = -1;
        this.pageLength = 0;
        this.linkTarget = null;
        this.wanted = null;
        this.reopened = null;
        this.error = null;
        this.errorMessage = null;
        return this;
    }

    /**
     * Set the version directory a RESUME asks for; conductor thread, after {@link #request}.
     */
    MetadataTask wanted(final TreeIdentity wanted)
    {
        this.wanted = wanted;
        return this;
    }

    /** {@inheritDoc} */
    public void run()
    {
        try
        {
            switch (type)
            {
                case MessageType.OPEN:
                    fd = Catalog.resolve(share, rootFd, path, stat);
                    break;
                case MessageType.STAT:
                    requests.stat(share, rootFd, path, attributes);
                    break;
                case MessageType.READLINK:
                    linkTarget = requests.readlink(share, rootFd, path);
                    break;
                case MessageType.RESUME:
                    reopened = TreeWatcher.reopen(share, share.tree().link(), wanted);
                    fd = reopened.fd();
                    break;
                default:
                    pageLength = requests.listPage(share, rootFd, path, correlationId, cookie, maxEntries, limit, page);
                    break;
            }
        }
        catch (final RequestException ex)
        {
            error = ex.code();
            errorMessage = ex.getMessage();
        }
        catch (final RuntimeException ex)
        {
            error = ErrorCode.IO_ERROR;
            errorMessage = share.name() + "/" + path + ": " + ex;
        }
        while (!completions.offer(this))
        {
            Thread.onSpinWait();
        }
        // After the offer: a sleeping conductor wakes to a completion it can already take.
        bell.run();
    }

    /**
     * Is the client that asked still the owner of its slot? If not, the answer has nobody to go to.
     */
    boolean isLive()
    {
        return session.isActive() && session.sessionId() == sessionId;
    }

    ClientSession session()
    {
        return session;
    }

    int type()
    {
        return type;
    }

    long correlationId()
    {
        return correlationId;
    }

    Share share()
    {
        return share;
    }

    /**
     * @return the tree version the request resolves beneath; counted in flight until the conductor takes it back.
     */
    TreeVersion tree()
    {
        return tree;
    }

    String path()
    {
        return path;
    }

    /**
     * @return the descriptor an OPEN resolved, or -1; whoever takes it sets it back with {@link #takeFd}.
     */
    int fd()
    {
        return fd;
    }

    int takeFd()
    {
        final int taken = fd;
        fd = -1;
        return taken;
    }

    StatxResult stat()
    {
        return stat;
    }

    FileAttributes attributes()
    {
        return attributes;
    }

    UnsafeBuffer page()
    {
        return page;
    }

    /**
     * @return a READLINK's target, as stored.
     */
    String linkTarget()
    {
        return linkTarget;
    }

    /**
     * @return a RESUME's lookup: the version directory (its descriptor is {@link #fd}) or why it is gone.
     */
    TreeWatcher.Flip reopened()
    {
        return reopened;
    }

    int pageLength()
    {
        return pageLength;
    }

    ErrorCode error()
    {
        return error;
    }

    String errorMessage()
    {
        return errorMessage;
    }
}
