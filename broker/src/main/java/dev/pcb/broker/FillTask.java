package dev.pcb.broker;

import dev.pcb.nativeshim.ErrnoException;
import dev.pcb.nativeshim.Linux;
import dev.pcb.nativeshim.StatxResult;
import dev.pcb.protocol.ErrorCode;
import dev.pcb.protocol.FileAttributes;
import org.agrona.concurrent.ManyToOneConcurrentArrayQueue;

import java.util.ArrayList;
import java.util.List;

/**
 * One window fill: runs on a filler thread, copies the file bytes straight from the source descriptor into the
 * window (one copy, no Java heap), and checks the version before and after so a file changed on the host while it
 * was copied is reported STALE instead of served torn.
 * <p>
 * Fields other than the outcome are set by the conductor before submission and read by the filler; the outcome is
 * set by the filler and read by the conductor after the completion queue hands the task back. When the source's
 * page cache is to be dropped the task comes back twice: once with the window's bytes in place, then once the
 * drop is done, so readers never wait for it.
 */
final class FillTask implements Runnable
{
    /**
     * Someone waiting on this fill: answered when it completes.
     */
    record Waiter(ClientSession session, long sessionId, Handle handle, long correlationId)
    {
    }

    private final Share share;
    private final FileVersion version;
    private boolean readAhead;
    private boolean published;
    private final int window;
    private final long fileWindow;
    private final long fileOffset;
    private final int length;
    private final long address;
    private final int offsetInWindow;
    private final boolean dropSourceCache;
    private final ManyToOneConcurrentArrayQueue<FillTask> completions;
    private final Runnable bell;
    private static final int LEASE_ATTEMPTS = 50;
    private static final long LEASE_RETRY_MS = 4;

    private final List<Waiter> waiters = new ArrayList<>(2);
    private ErrorCode failure;
    private String failureMessage;
    private long nanos;

    FillTask(
        final Share share,
        final FileVersion version,
        final int window,
        final long fileWindow,
        final long fileOffset,
        final int length,
        final int offsetInWindow,
        final boolean dropSourceCache,
        final ManyToOneConcurrentArrayQueue<FillTask> completions,
        final Runnable bell)
    {
        this.share = share;
        this.version = version;
        this.window = window;
        this.fileWindow = fileWindow;
        this.fileOffset = fileOffset;
        this.length = length;
        this.address = share.region().windowAddress(window) + offsetInWindow;
        this.offsetInWindow = offsetInWindow;
        this.dropSourceCache = dropSourceCache;
        this.completions = completions;
        this.bell = bell;
    }

    /** {@inheritDoc} */
    public void run()
    {
        final long start = System.nanoTime();
        final StatxResult stat = new StatxResult();
        final FileAttributes now = new FileAttributes();
        final int fd = version.fd();
        boolean leased = false;
        try
        {
            leased = takeReadLease(fd);
            Linux.fstat(fd, stat);
            if (changed(stat, now))
            {
                fail(ErrorCode.STALE, version.displayPath() + ": changed on the host since it was opened");
            }
            else
            {
                final long read = Linux.preadFully(fd, address, length, fileOffset);
                Linux.fstat(fd, stat);
                if (read != length)
                {
                    fail(ErrorCode.STALE, version.displayPath() + ": truncated on the host since it was opened");
                }
                else if (changed(stat, now))
                {
                    fail(ErrorCode.STALE, version.displayPath() + ": changed on the host while it was read");
                }
            }
        }
        catch (final ErrnoException ex)
        {
            fail(ErrorCode.IO_ERROR, version.displayPath() + ": " + ex.getMessage());
        }
        catch (final RuntimeException ex)
        {
            fail(ErrorCode.IO_ERROR, version.displayPath() + ": " + ex);
        }
        finally
        {
            if (leased)
            {
                releaseLease(fd);
            }
        }
        nanos = System.nanoTime() - start;
        complete();

        if (dropSourceCache)
        {
            // After the window is published, not before: readers do not wait for the page cache to be dropped. The
            // version keeps its descriptor open until the second completion says this is done.
            try
            {
                Linux.posixFadvise(fd, fileOffset, length, Linux.POSIX_FADV_DONTNEED);
            }
            catch (final ErrnoException ignore)
            {
                // Only advice: the pages stay cached until the kernel needs them.
            }
            complete();
        }
    }

    private void complete()
    {
        while (!completions.offer(this))
        {
            Thread.onSpinWait();
        }
        // After the offer: a sleeping conductor wakes to a completion it can already take.
        bell.run();
    }

    /**
     * Hold a read lease across the copy: the kernel then guarantees no process has the file open for writing, and
     * makes a writer that opens it wait until the copy is done. That closes the one gap a before/after stat leaves:
     * a write() that started before the first stat and is still copying. A file kept open for writing denies the
     * lease; after a short wait the fill goes ahead on the stat checks alone (see docs/coherence.md).
     */
    private boolean takeReadLease(final int fd)
    {
        if (!share.leasesAvailable())
        {
            return false;
        }
        try
        {
            for (int attempt = 0; attempt < LEASE_ATTEMPTS; attempt++)
            {
                if (Linux.tryReadLease(fd))
                {
                    return true;
                }
                Thread.sleep(LEASE_RETRY_MS);
            }
        }
        catch (final ErrnoException ex)
        {
            // Not the file's owner without CAP_LEASE, or a filesystem without leases: stat checks only.
            share.leasesUnavailable(ex.getMessage());
        }
        catch (final InterruptedException ex)
        {
            Thread.currentThread().interrupt();
        }
        return false;
    }

    private static void releaseLease(final int fd)
    {
        try
        {
            Linux.releaseLease(fd);
        }
        catch (final ErrnoException ignore)
        {
            // The descriptor holds no lease any more: nothing to give back.
        }
    }

    private boolean changed(final StatxResult stat, final FileAttributes now)
    {
        return !version.attributes().sameVersionAs(Catalog.toAttributes(stat, now));
    }

    private void fail(final ErrorCode code, final String message)
    {
        failure = code;
        failureMessage = message;
    }

    Share share()
    {
        return share;
    }

    /**
     * Note that the conductor is handling a completion of this task; conductor thread only.
     *
     * @return true for the second completion (the source's page cache is dropped), false for the first.
     */
    boolean noteCompletion()
    {
        if (published)
        {
            return true;
        }
        published = true;
        return false;
    }

    boolean dropsSourceCache()
    {
        return dropSourceCache;
    }

    /**
     * Mark a fill started ahead of a reader rather than for one; conductor thread only.
     */
    void readAhead(final boolean readAhead)
    {
        this.readAhead = readAhead;
    }

    boolean isReadAhead()
    {
        return readAhead;
    }

    FileVersion version()
    {
        return version;
    }

    int window()
    {
        return window;
    }

    long fileWindow()
    {
        return fileWindow;
    }

    long fileOffset()
    {
        return fileOffset;
    }

    int length()
    {
        return length;
    }

    List<Waiter> waiters()
    {
        return waiters;
    }

    ErrorCode failure()
    {
        return failure;
    }

    String failureMessage()
    {
        return failureMessage;
    }

    int offsetInWindow()
    {
        return offsetInWindow;
    }

    long nanos()
    {
        return nanos;
    }
}
