package dev.pcb.it;

import dev.pcb.agent.PcbAgent;
import dev.pcb.agent.PcbException;
import dev.pcb.agent.PcbFile;
import dev.pcb.agent.WindowView;
import dev.pcb.protocol.ErrorCode;
import dev.pcb.testsupport.PcbExtension;
import dev.pcb.testsupport.TestShare;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Quotas per guest: going over answers a clear error to that guest only; the other guest is served as before.
 */
@Timeout(120)
class QuotaTest
{
    @RegisterExtension
    final PcbExtension pcb = new PcbExtension("quota");

    @TempDir
    Path shareDir;

    @Test
    void openFilesPerGuest() throws Exception
    {
        start("--max-handles", "3");
        final PcbAgent greedy = agent("greedy");
        final PcbAgent second = agent("greedy");
        for (int i = 0; i < 2; i++)
        {
            pcb.track(greedy.open("data/f.bin"));
        }
        pcb.track(second.open("data/f.bin"));
        final PcbException over = assertThrows(PcbException.class, () -> second.open("data/f.bin"));
        assertEquals(ErrorCode.QUOTA_EXCEEDED, over.code());
        assertTrue(over.getMessage().contains("guest greedy") && over.getMessage().contains("3 open files"),
            over.getMessage());
        try (PcbFile other = agent("modest").open("data/f.bin"))
        {
            assertEquals(4 * TestShare.WINDOW, other.size());
        }
    }

    @Test
    void pinnedWindowsPerGuest() throws Exception
    {
        start("--max-pins", "2");
        final PcbFile file = open(agent("greedy"));
        pcb.track(file.acquire(0));
        final WindowView second = file.acquire(1);
        assertEquals(ErrorCode.QUOTA_EXCEEDED, assertThrows(PcbException.class, () -> file.acquire(2)).code());
        try (WindowView again = file.acquire(1))
        {
            assertEquals(TestShare.WINDOW, again.length(), "a window already held locally costs no new pin");
        }
        final PcbFile other = open(agent("modest"));
        try (WindowView a = other.acquire(2); WindowView b = other.acquire(3))
        {
            assertEquals(2 * TestShare.WINDOW, a.length() + b.length(), "the other guest has its own quota");
        }
        second.close();
        try (WindowView freed = file.acquire(2))
        {
            assertEquals(TestShare.WINDOW, freed.length(), "releasing gives the quota back");
        }
    }

    @Test
    void requestRatePerGuest() throws Exception
    {
        start("--max-request-rate", "20");
        final PcbAgent greedy = agent("greedy");
        int refused = 0;
        for (int i = 0; i < 100; i++)
        {
            try
            {
                greedy.stat("data/f.bin");
            }
            catch (final PcbException ex)
            {
                assertEquals(ErrorCode.QUOTA_EXCEEDED, ex.code());
                assertTrue(ex.getMessage().contains("20 requests per second"), ex.getMessage());
                refused++;
            }
        }
        assertTrue(refused >= 50, "refused only " + refused + " of 100 back-to-back requests at 20/s");
        assertEquals(4 * TestShare.WINDOW, agent("modest").stat("data/f.bin").size(), "other guest unaffected");
    }

    private void start(final String... quota) throws Exception
    {
        Files.write(shareDir.resolve("f.bin"), new byte[4 * TestShare.WINDOW]);
        final List<String> args = new ArrayList<>(List.of("--share", "data=" + shareDir, "--guest", "greedy",
            "--guest", "modest", "--region-size", Long.toString(TestShare.REGION),
            "--window-size", Integer.toString(TestShare.WINDOW)));
        args.addAll(List.of(quota));
        pcb.startBrokerWith(args.toArray(new String[0]));
    }

    private PcbAgent agent(final String guest) throws Exception
    {
        return pcb.agent(guest);
    }

    private PcbFile open(final PcbAgent agent) throws Exception
    {
        return pcb.track(agent.open("data/f.bin"));
    }
}
