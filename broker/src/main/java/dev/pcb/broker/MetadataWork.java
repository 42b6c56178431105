package dev.pcb.broker;

import dev.pcb.nativeshim.Linux;
import org.agrona.concurrent.ManyToOneConcurrentArrayQueue;

import java.util.ArrayDeque;
import java.util.IdentityHashMap;
import java.util.Map;
import java.util.concurrent.Executor;
import java.util.function.Consumer;

/**
 * OPEN, STAT and LIST off the conductor, as Aeron runs blocking client work on async tasks: each guest has
 * {@link #IN_FLIGHT_PER_GUEST} tasks; a request is submitted to the metadata executor only when one is free, else it
 * stays in its ring (the adapter aborts the read of that slot) until one comes back. A guest whose share hangs thus
 * ties up at most its own tasks and workers; ACQUIREs, and every other guest, keep being answered.
 * Conductor thread only, but for the tasks' {@link MetadataTask#run}.
 */
final class MetadataWork
{
    /** OPEN, STAT and LIST requests a guest may have in flight at once. */
    static final int IN_FLIGHT_PER_GUEST = 4;
    private static final int COMPLETIONS_PER_CYCLE = 64;

    private final Executor executor;
    private final ManyToOneConcurrentArrayQueue<MetadataTask> completions;
    private final Map<GuestControl, ArrayDeque<MetadataTask>> free = new IdentityHashMap<>();
    private final Consumer<MetadataTask> handler;
    // Held in a field: a lambda at the call site would allocate on every drain.
    private final Consumer<MetadataTask> completionHandler = this::onComplete;

    MetadataWork(
        final GuestControl[] guests,
        final Executor executor,
        final Runnable workerBell,
        final Consumer<MetadataTask> handler)
    {
        this.executor = executor;
        this.handler = handler;
        this.completions = new ManyToOneConcurrentArrayQueue<>(Math.max(2, guests.length * IN_FLIGHT_PER_GUEST));
        for (final GuestControl guest : guests)
        {
            final ArrayDeque<MetadataTask> tasks = new ArrayDeque<>(IN_FLIGHT_PER_GUEST);
            for (int i = 0; i < IN_FLIGHT_PER_GUEST; i++)
            {
                tasks.add(new MetadataTask(completions, workerBell));
            }
            free.put(guest, tasks);
        }
    }

    /**
     * @return true when the guest may have one more request in flight.
     */
    boolean hasRoom(final GuestControl guest)
    {
        return !free.get(guest).isEmpty();
    }

    /**
     * Run a request on the executor; the caller checked {@link #hasRoom}.
     */
    void submit(
        final ClientSession session,
        final int type,
        final long correlationId,
        final Share share,
        final String path,
        final long cookie,
        final int maxEntries)
    {
        final MetadataTask task = free.get(session.guest()).poll();
        // Counted in flight, so the version's descriptor stays open while a worker resolves beneath it.
        final TreeVersion tree = session.tree(share);
        tree.requestSubmitted();
        executor.execute(task.request(session, type, correlationId, share, tree, path, cookie, maxEntries));
    }

    /**
     * Hand the finished tasks to the conductor's handler, then take them back: a descriptor an OPEN resolved and the
     * conductor did not take is closed.
     *
     * @return tasks finished.
     */
    int drain()
    {
        return completions.drain(completionHandler, COMPLETIONS_PER_CYCLE);
    }

    private void onComplete(final MetadataTask task)
    {
        try
        {
            handler.accept(task);
        }
        finally
        {
            if (task.fd() >= 0)
            {
                Linux.close(task.takeFd());
            }
            task.share().tree().requestCompleted(task.tree());
            free.get(task.session().guest()).add(task);
        }
    }
}
