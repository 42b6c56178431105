package dev.pcb.it;

import dev.pcb.agent.AgentConfig;
import dev.pcb.agent.PcbAgent;
import dev.pcb.agent.PcbFile;
import dev.pcb.agent.WindowView;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * An honest guest on its own thread: reads whole files through an in-process agent over and over and checks every
 * byte against what the host holds. Wrong bytes are never acceptable; errors (a broker restarting, a share full of
 * another guest's pins) are counted and the first is kept, for the test to judge.
 */
final class VerifyingReader implements AutoCloseable
{
    private final PcbAgent agent;
    private final List<Map.Entry<String, byte[]>> files;
    private final Thread thread;
    private final AtomicLong reads = new AtomicLong();
    private final AtomicLong errors = new AtomicLong();
    private final AtomicLong wrongBytes = new AtomicLong();
    private final AtomicReference<String> firstError = new AtomicReference<>();
    private volatile boolean running = true;

    private VerifyingReader(final PcbAgent agent, final Map<String, byte[]> files)
    {
        this.agent = agent;
        this.files = new ArrayList<>(files.entrySet());
        this.thread = new Thread(this::run, "verifying-reader");
        this.thread.setDaemon(true);
    }

    /**
     * Attach as a guest and start reading.
     *
     * @param runDir the broker's run directory.
     * @param guest  the honest guest's name.
     * @param files  agent path (share/relative) to the bytes it must read.
     * @return the running reader.
     * @throws IOException when the agent cannot attach.
     */
    static VerifyingReader start(final Path runDir, final String guest, final Map<String, byte[]> files)
        throws IOException
    {
        final VerifyingReader reader = new VerifyingReader(PcbAgent.attach(new AgentConfig().runDir(runDir)
            .guest(guest).connectTimeout(Duration.ofSeconds(20)).requestTimeout(Duration.ofSeconds(5))), files);
        reader.thread.start();
        return reader;
    }

    /**
     * Read one file whole through an agent and compare it with the host's bytes.
     *
     * @param agent    an attached agent.
     * @param path     agent path.
     * @param expected the host's bytes.
     * @return true when every byte is equal.
     * @throws Exception when the agent reports an error.
     */
    static boolean readsRight(final PcbAgent agent, final String path, final byte[] expected) throws Exception
    {
        try (PcbFile f = agent.open(path))
        {
            if (f.size() != expected.length)
            {
                return false;
            }
            final byte[] got = new byte[expected.length];
            int at = 0;
            for (long w = 0; w < f.windowCount(); w++)
            {
                try (WindowView view = f.acquire(w))
                {
                    view.buffer().getBytes(0, got, at, view.length());
                    at += view.length();
                }
            }
            return at == expected.length && Arrays.equals(expected, got);
        }
    }

    /** Whole files read and verified. */
    long reads()
    {
        return reads.get();
    }

    /** Reads that ended in an error. */
    long errors()
    {
        return errors.get();
    }

    /** Reads that returned bytes different from the host's: must stay 0. */
    long wrongBytes()
    {
        return wrongBytes.get();
    }

    /** The first error, or null. */
    String firstError()
    {
        return firstError.get();
    }

    private void run()
    {
        int next = 0;
        while (running)
        {
            final Map.Entry<String, byte[]> file = files.get(next++ % files.size());
            try
            {
                if (readsRight(agent, file.getKey(), file.getValue()))
                {
                    reads.incrementAndGet();
                }
                else
                {
                    wrongBytes.incrementAndGet();
                }
            }
            catch (final Exception ex)
            {
                errors.incrementAndGet();
                firstError.compareAndSet(null, file.getKey() + ": " + ex);
            }
        }
    }

    /** {@inheritDoc} */
    public void close() throws InterruptedException
    {
        running = false;
        thread.join(30_000);
        agent.close();
    }
}
