package dev.pcb.broker;

import java.util.ArrayDeque;
import java.util.List;
import java.util.concurrent.Executor;

/**
 * Hands fills to the filler threads, at most {@link BrokerConfig#fillThreadsPerShare()} of one share at once: a share
 * whose filesystem hangs ties up only that many filler threads, and the other shares' misses keep the rest. A share's
 * further fills wait here, in order, on the conductor (which never blocks for them), and each goes to the executor
 * when a fill of its own share has freed its thread.
 * <pre>
 *   miss / read-ahead --> submit --(share below its allowance)--> executor (filler threads)
 *                            \--(at its allowance)--> waiting[share] --(a fill of that share finished)--^
 * </pre>
 * A thread is free when its task is done, which is the fill's last completion: the second one when the source's page
 * cache is dropped after the copy. Conductor thread only.
 */
final class FillScheduler
{
    private final Executor fillers;
    private final int allowance;
    private final int[] running;
    private final ArrayDeque<FillTask>[] waiting;

    @SuppressWarnings("unchecked")
    FillScheduler(final Executor fillers, final int allowance, final List<Share> shares)
    {
        this.fillers = fillers;
        this.allowance = allowance;
        int maxId = 0;
        for (final Share share : shares)
        {
            maxId = Math.max(maxId, share.id());
        }
        running = new int[maxId + 1];
        waiting = new ArrayDeque[maxId + 1];
        for (final Share share : shares)
        {
            // Sized for a fill per window, so queueing does not allocate unless packed small files outnumber them.
            waiting[share.id()] = new ArrayDeque<>(share.region().windowCount());
        }
    }

    /**
     * Run a fill now if its share is below its allowance, else when a fill of the share finishes.
     */
    void submit(final FillTask fill)
    {
        final int id = fill.share().id();
        if (running[id] < allowance)
        {
            running[id]++;
            fillers.execute(fill);
        }
        else
        {
            waiting[id].add(fill);
        }
    }

    /**
     * A fill's filler thread is done with it: start the share's next waiting fill, if any.
     */
    void finished(final FillTask fill)
    {
        final int id = fill.share().id();
        final FillTask next = waiting[id].poll();
        if (null != next)
        {
            fillers.execute(next);
        }
        else
        {
            running[id]--;
        }
    }
}
