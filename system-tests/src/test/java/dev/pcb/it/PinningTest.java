package dev.pcb.it;

import dev.pcb.agent.PcbAgent;
import dev.pcb.agent.PcbException;
import dev.pcb.agent.PcbFile;
import dev.pcb.agent.WindowView;
import dev.pcb.protocol.ErrorCode;
import dev.pcb.testsupport.PcbExtension;
import dev.pcb.testsupport.TestShare;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.nio.file.Files;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Reference counts: a pinned window is never evicted or overwritten, however full the region and whatever else is
 * read; when every window is pinned, the one asking gets NO_SPACE instead of someone's window.
 */
@Timeout(120)
class PinningTest
{
    @RegisterExtension
    final PcbExtension pcb = new PcbExtension("pinning");

    private TestShare share;

    @BeforeEach
    void setUp() throws Exception
    {
        share = TestShare.create(pcb.shareDir());
        pcb.startBroker();
    }

    @Test
    void aHeldWindowSurvivesAFullRegionOfOtherReads() throws Exception
    {
        final PcbAgent holder = agent("vm1");
        final PcbAgent churner = agent("vm2");
        final byte[] source = Files.readAllBytes(share.files().get("three-and-a-half"));
        final PcbFile held = open(holder, "data/three-and-a-half");
        final WindowView view = held.acquire(1);
        pcb.track(view);
        final int regionWindow = view.regionWindow();
        final long generation = view.generation();
        final byte[] expected = Arrays.copyOfRange(source, TestShare.WINDOW, 2 * TestShare.WINDOW);

        // Three passes over a file twice the region: every unpinned window is evicted and refilled many times.
        final byte[] big = Files.readAllBytes(share.files().get("larger-than-region"));
        for (int pass = 0; pass < 3; pass++)
        {
            try (PcbFile file = churner.open("data/larger-than-region"))
            {
                for (long w = 0; w < file.windowCount(); w++)
                {
                    try (WindowView other = file.acquire(w))
                    {
                        assertTrue(other.regionWindow() != regionWindow, "a held window was handed out again");
                        final byte[] got = new byte[other.length()];
                        other.buffer().getBytes(0, got);
                        assertArrayEquals(Arrays.copyOfRange(big, (int)other.fileOffset(),
                            (int)other.fileOffset() + other.length()), got);
                    }
                    final byte[] now = new byte[view.length()];
                    view.buffer().getBytes(0, now);
                    assertArrayEquals(expected, now, "held bytes changed while window " + w + " was read");
                }
            }
        }
        assertEquals(generation, view.generation());
        assertTrue(RegionProbe.usedWindows(pcb.broker().runDir(), "data") >= 1);
    }

    @Test
    void whenEveryWindowIsPinnedTheAskerGetsNoSpace() throws Exception
    {
        final PcbAgent holder = agent("vm1");
        final PcbFile big = open(holder, "data/larger-than-region");
        final List<WindowView> held = new ArrayList<>();
        int windows = 0;
        while (true)
        {
            try
            {
                held.add(big.acquire(windows));
                windows++;
            }
            catch (final PcbException ex)
            {
                assertEquals(ErrorCode.NO_SPACE, ex.code(), ex.getMessage());
                assertTrue(ex.getMessage().contains("pinned"), ex.getMessage());
                break;
            }
        }
        assertEquals(15, windows, "a 1 MiB region of 64 KiB windows holds 15");

        final PcbAgent other = agent("vm2");
        final PcbFile small = open(other, "data/window");
        final PcbException noSpace = assertThrows(PcbException.class, () -> small.acquire(0));
        assertEquals(ErrorCode.NO_SPACE, noSpace.code());

        final byte[] source = Files.readAllBytes(share.files().get("larger-than-region"));
        for (final WindowView view : held)
        {
            final byte[] got = new byte[view.length()];
            view.buffer().getBytes(0, got);
            assertArrayEquals(Arrays.copyOfRange(source, (int)view.fileOffset(), (int)view.fileOffset() + got.length),
                got, "the holder's windows are untouched by the refusals");
        }

        held.remove(held.size() - 1).close();
        try (WindowView now = small.acquire(0))
        {
            assertEquals(TestShare.WINDOW, now.length(), "one release makes room for the next asker");
        }
        held.forEach(WindowView::close);
    }

    private PcbAgent agent(final String guest) throws Exception
    {
        return pcb.agent(guest);
    }

    private PcbFile open(final PcbAgent agent, final String path) throws Exception
    {
        return pcb.track(agent.open(path));
    }
}
