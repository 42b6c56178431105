package dev.pcb.it;

import dev.pcb.agent.PcbAgent;
import dev.pcb.agent.PcbFile;
import dev.pcb.agent.WindowView;
import dev.pcb.testsupport.BrokerProcess;
import dev.pcb.testsupport.PcbExtension;
import dev.pcb.testsupport.TestShare;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.lang.management.ManagementFactory;
import java.nio.file.Files;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The agent's hot paths allocate nothing: acquiring a window this process holds, acquire + release through the
 * broker of a cached window, and reading through a view. Fails as soon as one of them starts to allocate.
 */
@Timeout(120)
class HotPathAllocationTest
{
    private static final int OPS = 20_000;

    @RegisterExtension
    final PcbExtension pcb = new PcbExtension("alloc");

    private BrokerProcess broker;
    private PcbAgent agent;
    private PcbFile file;

    @BeforeEach
    void setUp() throws Exception
    {
        Files.write(pcb.shareDir().resolve("f.bin"), new byte[4 * TestShare.WINDOW]);
        broker = pcb.startBroker();
        agent = pcb.agent("vm1");
        file = pcb.track(agent.open("data/f.bin"));
    }

    @Test
    void acquiringAHeldWindowAndReadingItAllocateNothing() throws Exception
    {
        try (WindowView held = file.acquire(0))
        {
            final Runnable op = () ->
            {
                try (WindowView view = file.acquire(0))
                {
                    long sum = 0;
                    for (int i = 0; i < view.length(); i += 4096)
                    {
                        sum += view.buffer().getLong(i);
                    }
                    if (sum == 42)
                    {
                        throw new IllegalStateException("unreachable: the file is zeros");
                    }
                }
                catch (final Exception ex)
                {
                    throw new IllegalStateException(ex);
                }
            };
            assertAllocatesNothing("held acquire + read + close", op);
            assertTrue(held.length() > 0);
        }
    }

    @Test
    void acquireAndReleaseThroughTheBrokerAllocateNothing() throws Exception
    {
        final Runnable op = () ->
        {
            try (WindowView view = file.acquire(1))
            {
                if (view.length() != TestShare.WINDOW)
                {
                    throw new IllegalStateException("wrong window");
                }
            }
            catch (final Exception ex)
            {
                throw new IllegalStateException(ex);
            }
        };
        assertAllocatesNothing("ACQUIRE + RELEASE round trip", op);
    }

    private static void assertAllocatesNothing(final String what, final Runnable op)
    {
        final com.sun.management.ThreadMXBean threads =
            (com.sun.management.ThreadMXBean)ManagementFactory.getThreadMXBean();
        final long thread = Thread.currentThread().getId();
        for (int i = 0; i < OPS; i++)
        {
            op.run();
        }
        // Measure twice and keep the lower: the first window may still include JIT and class-loading noise.
        long best = Long.MAX_VALUE;
        for (int round = 0; round < 3; round++)
        {
            final long before = threads.getThreadAllocatedBytes(thread);
            for (int i = 0; i < OPS; i++)
            {
                op.run();
            }
            best = Math.min(best, threads.getThreadAllocatedBytes(thread) - before);
        }
        assertTrue(best < OPS / 10, what + " allocated " + best + " bytes over " + OPS + " operations");
    }
}
