package dev.pcb.broker;

import dev.pcb.nativeshim.Linux;
import dev.pcb.protocol.MessageType;
import dev.pcb.protocol.TreeIdentity;
import org.agrona.concurrent.ManyToOneConcurrentArrayQueue;

import java.util.ArrayDeque;
import java.util.IdentityHashMap;
import java.util.Map;
import java.util.concurrent.Executor;
import java.util.function.Consumer;

/**
 * OPEN, STAT, LIST, READLINK and RESUME off the conductor, as Aeron runs blocking client work on async tasks: each
 * guest has {@link #IN_FLIGHT_PER_GUEST} tasks, of which one share may take at most {@link #IN_FLIGHT_PER_SHARE}
 * when the guest has more than one share. A request is submitted to the metadata executor only when its guest has a
 * task free for its share, else it stays in its ring (the adapter aborts the read of that slot) until one comes
 * back. A share that hangs thus ties up at most its allowance of each guest's tasks, and the guest's other shares
 * keep a task; ACQUIREs, and every other guest, keep being answered.
 * Conductor thread only, but for the tasks' {@link MetadataTask#run}.
 */
final class MetadataWork
{
    /** OPEN, STAT and LIST requests a guest may have in flight at once. */
    static final int IN_FLIGHT_PER_GUEST = 4;
    /** Of those, how many may touch one share, when the guest has more than one. */
    static final int IN_FLIGHT_PER_SHARE = IN_FLIGHT_PER_GUEST - 1;
    private static final int COMPLETIONS_PER_CYCLE = 64;

    /**
     * One guest's tasks: those free, and those in flight by share id.
     */
    private static final class GuestTasks
    {
        private final ArrayDeque<MetadataTask> free = new ArrayDeque<>(IN_FLIGHT_PER_GUEST);
        private final int[] inFlight;
        private final int perShare;

        GuestTasks(
            final GuestControl guest,
            final ManyToOneConcurrentArrayQueue<MetadataTask> completions,
            final Runnable workerBell)
        {
            int maxId = 0;
            for (final Share share : guest.shares())
            {
                maxId = Math.max(maxId, share.id());
            }
            inFlight = new int[maxId + 1];
            perShare = guest.shares().size() > 1 ? IN_FLIGHT_PER_SHARE : IN_FLIGHT_PER_GUEST;
            for (int i = 0; i < IN_FLIGHT_PER_GUEST; i++)
            {
                free.add(new MetadataTask(completions, workerBell));
            }
        }

        boolean hasRoom(final Share share)
        {
            return !free.isEmpty() && (null == share || inFlight[share.id()] < perShare);
        }
    }

    private final Executor executor;
    private final ManyToOneConcurrentArrayQueue<MetadataTask> completions;
    private final Map<GuestControl, GuestTasks> tasks = new IdentityHashMap<>();
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
            tasks.put(guest, new GuestTasks(guest, completions, workerBell));
        }
    }

    /**
     * @param share the share the request names, or null when it names none the guest was given (it is refused
     *              without a task).
     * @return true when the guest may have one more request on that share in flight.
     */
    boolean hasRoom(final GuestControl guest, final Share share)
    {
        return tasks.get(guest).hasRoom(share);
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
        executor.execute(take(session, type, correlationId, share, path, cookie, maxEntries));
    }

    /**
     * Run a RESUME on the executor: look up the version directory a session held before a broker restart; the
     * caller checked {@link #hasRoom}.
     */
    void submitResume(
        final ClientSession session, final long correlationId, final Share share, final TreeIdentity wanted)
    {
        executor.execute(take(session, MessageType.RESUME, correlationId, share, wanted.path(), 0, 0).wanted(wanted));
    }

    private MetadataTask take(
        final ClientSession session,
        final int type,
        final long correlationId,
        final Share share,
        final String path,
        final long cookie,
        final int maxEntries)
    {
        final GuestTasks guestTasks = tasks.get(session.guest());
        final MetadataTask task = guestTasks.free.poll();
        guestTasks.inFlight[share.id()]++;
        // Counted in flight, so the version's descriptor stays open while a worker resolves beneath it.
        final TreeVersion tree = session.tree(share);
        tree.requestSubmitted();
        return task.request(session, type, correlationId, share, tree, path, cookie, maxEntries);
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
                task.share().closeLater(task.takeFd());
            }
            task.share().tree().requestCompleted(task.tree());
            final GuestTasks guestTasks = tasks.get(task.session().guest());
            guestTasks.inFlight[task.share().id()]--;
            guestTasks.free.add(task);
        }
    }
}
