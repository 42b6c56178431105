package dev.pcb.fs;

import dev.pcb.agent.WindowView;
import dev.pcb.nativeshim.Errno;
import dev.pcb.nativeshim.ErrnoException;
import dev.pcb.nativeshim.Linux;
import org.agrona.BufferUtil;
import org.agrona.concurrent.UnsafeBuffer;

import java.util.logging.Logger;

/**
 * One thread serving /dev/fuse: reads a request, decodes it (the adapter), has the {@link PcbFileSystem} answer,
 * and writes the reply (the proxy). Each worker has its own buffers, so several serve at once and a read that
 * waits for the broker holds up only its own thread.
 */
final class FuseWorker implements Runnable
{
    /** Request buffer: above the kernel's minimum (8192, and in header + write_in + max_write). */
    static final int REQUEST_BUFFER = 132 * 1024;
    /** Largest READ the kernel sends with max_pages = 256. */
    static final int MAX_READ = FuseInit.MAX_PAGES_WANTED * 4096;
    /** Most windows one READ reply is gathered from in place; longer ranges are copied window by window. */
    static final int MAX_GATHER_WINDOWS = 4;
    private static final Logger LOG = Logger.getLogger(FuseWorker.class.getName());

    private final FuseServer server;
    private final PcbFileSystem fs;
    private final int fd;
    private final UnsafeBuffer in = new UnsafeBuffer(BufferUtil.allocateDirectAligned(REQUEST_BUFFER, 4096));
    // Replies that are not READ data, and READ data copied when the window mapping cannot be pinned.
    private final UnsafeBuffer out =
        new UnsafeBuffer(BufferUtil.allocateDirectAligned(FuseOutHeader.LENGTH + MAX_READ + 4096, 4096));
    private final UnsafeBuffer header = new UnsafeBuffer(BufferUtil.allocateDirectAligned(64, 64));
    private final FuseInHeader inHeader = new FuseInHeader();
    private final FuseOutHeader outHeader = new FuseOutHeader();
    private final FuseOutHeader dataHeader = new FuseOutHeader();
    private final WindowView[] views;
    private final long[] iov;
    /** The mount generation of the request being served, or {@link #IDLE}: what an advance waits for. */
    private volatile long serving = IDLE;
    /** {@link #serving} between requests. */
    static final long IDLE = 0;

    FuseWorker(final FuseServer server, final PcbFileSystem fs, final int fd)
    {
        this.server = server;
        this.fs = fs;
        this.fd = fd;
        views = new WindowView[MAX_GATHER_WINDOWS];
        iov = new long[2 * (MAX_GATHER_WINDOWS + 1)];
        inHeader.wrap(in);
        outHeader.wrap(out, 0);
        dataHeader.wrap(header, 0);
    }

    /** Serve until the filesystem is unmounted (read answers ENODEV). */
    public void run()
    {
        while (true)
        {
            final long n;
            try
            {
                n = Linux.read(fd, in.addressOffset(), REQUEST_BUFFER);
            }
            catch (final ErrnoException ex)
            {
                if (Errno.ENOENT == ex.errno() || Errno.EAGAIN == ex.errno())
                {
                    // ENOENT: the request was interrupted before it was read.
                    continue;
                }
                if (Errno.ENODEV != ex.errno())
                {
                    LOG.warning("/dev/fuse: " + ex.getMessage());
                }
                server.workerEnded();
                return;
            }
            if (n < FuseInHeader.LENGTH)
            {
                continue;
            }
            enter();
            try
            {
                dispatch();
            }
            catch (final RuntimeException ex)
            {
                LOG.warning("FUSE opcode " + inHeader.opcode() + " failed: " + ex);
                replyError(inHeader.unique(), Errno.EIO);
            }
            finally
            {
                serving = IDLE;
            }
        }
    }

    /**
     * Publish the generation this request is served in. Read again after the store: an advance bumps the
     * generation and then reads {@link #serving}, so either it sees this request's generation and waits for it, or
     * this request sees the new generation (volatile accesses are totally ordered).
     */
    private void enter()
    {
        long generation;
        do
        {
            generation = fs.generation();
            serving = generation;
        }
        while (generation != fs.generation());
    }

    /**
     * @param generation a mount generation.
     * @return true while this worker serves a request that began in an older generation.
     */
    boolean servesOlderThan(final long generation)
    {
        final long now = serving;
        return IDLE != now && now < generation;
    }

    private void dispatch()
    {
        final int opcode = inHeader.opcode();
        final long unique = inHeader.unique();
        final long nodeId = inHeader.nodeId();
        final int args = FuseInHeader.LENGTH;
        final int body = FuseOutHeader.LENGTH;
        switch (opcode)
        {
            case FuseOpcode.INIT:
                answer(unique, server.init(in, args, out, body));
                break;
            case FuseOpcode.LOOKUP:
                answer(unique, fs.lookup(nodeId, name(args), out, body));
                break;
            case FuseOpcode.FORGET:
                fs.forget(nodeId, in.getLong(args + FuseArgs.FORGET_NLOOKUP_OFFSET));
                break;
            case FuseOpcode.BATCH_FORGET:
                batchForget(args);
                break;
            case FuseOpcode.GETATTR:
                answer(unique, fs.getattr(nodeId, out, body));
                break;
            case FuseOpcode.OPEN:
                answer(unique, fs.open(nodeId, in.getInt(args + FuseOpen.IN_FLAGS_OFFSET), out, body));
                break;
            case FuseOpcode.READ:
                fs.read(this, unique, in.getLong(args + FuseRead.FH_OFFSET),
                    in.getLong(args + FuseRead.OFFSET_OFFSET), in.getInt(args + FuseRead.SIZE_OFFSET));
                break;
            case FuseOpcode.RELEASE:
                answer(unique, fs.release(in.getLong(args + FuseOpen.FH_OFFSET)));
                break;
            case FuseOpcode.OPENDIR:
                answer(unique, fs.opendir(nodeId, out, body));
                break;
            case FuseOpcode.READDIR:
            case FuseOpcode.READDIRPLUS:
                answer(unique, fs.readdir(in.getLong(args + FuseRead.FH_OFFSET),
                    in.getLong(args + FuseRead.OFFSET_OFFSET),
                    Math.min(in.getInt(args + FuseRead.SIZE_OFFSET), out.capacity() - body),
                    FuseOpcode.READDIRPLUS == opcode, out, body));
                break;
            case FuseOpcode.RELEASEDIR:
                answer(unique, fs.releasedir(in.getLong(args + FuseOpen.FH_OFFSET)));
                break;
            case FuseOpcode.READLINK:
                answer(unique, fs.readlink(nodeId, out, body));
                break;
            case FuseOpcode.STATFS:
                answer(unique, FuseArgs.encodeStatfs(out, body));
                break;
            case FuseOpcode.ACCESS:
                answer(unique, fs.access(nodeId, in.getInt(args + FuseArgs.ACCESS_MASK_OFFSET)));
                break;
            case FuseOpcode.GETXATTR:
                answer(unique, -Errno.ENODATA);
                break;
            case FuseOpcode.LISTXATTR:
                answer(unique, listxattr(in.getInt(args + FuseArgs.XATTR_SIZE_OFFSET), body));
                break;
            case FuseOpcode.FLUSH:
            case FuseOpcode.FSYNC:
            case FuseOpcode.FSYNCDIR:
                answer(unique, 0);
                break;
            case FuseOpcode.INTERRUPT:
                // Not answered: the interrupted request finishes within the agent's bounded request timeout.
                break;
            case FuseOpcode.DESTROY:
                answer(unique, 0);
                break;
            default:
                answer(unique, FuseOpcode.writes(opcode) ? -Errno.EROFS : -Errno.ENOSYS);
                break;
        }
    }

    private String name(final int at)
    {
        final int end = inHeader.len();
        int nul = at;
        while (nul < end && 0 != in.getByte(nul))
        {
            nul++;
        }
        return in.getStringWithoutLengthUtf8(at, nul - at);
    }

    private void batchForget(final int at)
    {
        final int count = in.getInt(at + FuseArgs.BATCH_FORGET_COUNT_OFFSET);
        int entry = at + FuseArgs.BATCH_FORGET_LENGTH;
        final int end = inHeader.len();
        for (int i = 0; i < count && entry + FuseArgs.FORGET_ONE_LENGTH <= end; i++)
        {
            fs.forget(in.getLong(entry + FuseArgs.FORGET_ONE_NODEID_OFFSET),
                in.getLong(entry + FuseArgs.FORGET_ONE_NLOOKUP_OFFSET));
            entry += FuseArgs.FORGET_ONE_LENGTH;
        }
    }

    private int listxattr(final int size, final int body)
    {
        if (0 == size)
        {
            out.putInt(body + FuseArgs.XATTR_SIZE_OFFSET, 0);
            out.putInt(body + FuseArgs.XATTR_SIZE_OFFSET + 4, 0);
            return FuseArgs.XATTR_OUT_LENGTH;
        }
        return 0;
    }

    /** @return scratch for the views one READ pins. */
    WindowView[] views()
    {
        return views;
    }

    private void answer(final long unique, final int result)
    {
        if (result < 0)
        {
            replyError(unique, -result);
        }
        else
        {
            final int length = FuseOutHeader.LENGTH + result;
            outHeader.set(length, 0, unique);
            write(out.addressOffset(), length);
        }
    }

    /**
     * Reply with an error alone.
     *
     * @param unique request id.
     * @param errno  positive errno.
     */
    void replyError(final long unique, final int errno)
    {
        outHeader.set(FuseOutHeader.LENGTH, errno, unique);
        write(out.addressOffset(), FuseOutHeader.LENGTH);
    }

    /**
     * Reply to a READ with bytes [from, to) of the file, from the {@code count} views in {@link #views()}: straight
     * from the window mappings when the kernel can pin them, else copied through this worker's buffer.
     */
    void replyData(final long unique, final long from, final long to, final int count)
    {
        final int length = FuseOutHeader.LENGTH + (int)(to - from);
        if (server.copyReplies())
        {
            int at = 0;
            for (int i = 0; i < count; i++)
            {
                at += copyPart(views[i], from, to, at);
            }
            replyCopied(unique, at);
            return;
        }
        dataHeader.set(length, 0, unique);
        iov[0] = header.addressOffset();
        iov[1] = FuseOutHeader.LENGTH;
        for (int i = 0; i < count; i++)
        {
            final WindowView view = views[i];
            final long start = Math.max(from, view.fileOffset());
            iov[2 + 2 * i] = view.address() + (start - view.fileOffset());
            iov[3 + 2 * i] = Math.min(to, view.fileOffset() + view.length()) - start;
        }
        final long result = Linux.writev(fd, iov, count + 1);
        if (-Errno.EFAULT == result)
        {
            // The kernel could not pin the window mapping (a PCI BAR): it failed this request with EIO.
            server.copyFromNowOn();
        }
        else if (result < 0 && -Errno.ENOENT != result)
        {
            LOG.warning("/dev/fuse reply: " + Errno.name((int)-result));
        }
    }

    /**
     * Copy the part of a view inside [from, to) into the reply body.
     *
     * @param view a held view.
     * @param from first file offset of the reply.
     * @param to   end file offset of the reply.
     * @param at   body offset the part goes to.
     * @return bytes copied.
     */
    int copyPart(final WindowView view, final long from, final long to, final int at)
    {
        final long start = Math.max(from, view.fileOffset());
        final int n = (int)(Math.min(to, view.fileOffset() + view.length()) - start);
        out.putBytes(FuseOutHeader.LENGTH + at, view.buffer(), (int)(start - view.fileOffset()), n);
        return n;
    }

    /**
     * Reply with the body {@link #copyPart} filled.
     *
     * @param unique request id.
     * @param length body bytes.
     */
    void replyCopied(final long unique, final int length)
    {
        outHeader.set(FuseOutHeader.LENGTH + length, 0, unique);
        write(out.addressOffset(), FuseOutHeader.LENGTH + length);
    }

    private void write(final long address, final int length)
    {
        iov[0] = address;
        iov[1] = length;
        final long result = Linux.writev(fd, iov, 1);
        // ENOENT: the request was interrupted and is gone; nothing to do.
        if (result < 0 && -Errno.ENOENT != result)
        {
            LOG.warning("/dev/fuse reply: " + Errno.name((int)-result));
        }
    }
}
