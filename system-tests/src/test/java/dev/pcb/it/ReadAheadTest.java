package dev.pcb.it;

import dev.pcb.agent.PcbAgent;
import dev.pcb.agent.PcbFile;
import dev.pcb.agent.StaleFileException;
import dev.pcb.agent.WindowView;
import dev.pcb.layout.CountersSnapshot;
import dev.pcb.testsupport.BrokerProcess;
import dev.pcb.testsupport.PcbCommand;
import dev.pcb.testsupport.PcbExtension;
import dev.pcb.testsupport.TestShare;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.SplittableRandom;

import static dev.pcb.layout.CounterType.ERRORS;
import static dev.pcb.layout.CounterType.FILLS;
import static dev.pcb.layout.CounterType.HITS;
import static dev.pcb.layout.CounterType.READ_AHEAD_FILLS;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Read-ahead: a reader going through a file in order finds the next windows filled or filling; windows filled ahead
 * hold the version the reader opened, so a change on the host makes later windows STALE and never mixes versions.
 */
@Timeout(120)
class ReadAheadTest
{
    private static final int WINDOW = TestShare.WINDOW;

    @RegisterExtension
    final PcbExtension pcb = new PcbExtension("read-ahead");

    private TestShare share;
    private BrokerProcess broker;
    private PcbAgent agent;

    @BeforeEach
    void setUp() throws Exception
    {
        share = TestShare.create(pcb.shareDir());
        broker = pcb.startBroker("--read-ahead", "3");
        agent = pcb.agent("vm1");
    }

    @Test
    void aSequentialReaderFindsWindowsFilledAheadAndARandomOneStartsNone() throws Exception
    {
        // 33 windows through a region of 15, while the agent retains what it read: read-ahead must make do with
        // the room there is and never make the reader's own ACQUIRE fail.
        final byte[] big = Files.readAllBytes(share.files().get("larger-than-region"));
        try (PcbFile file = agent.open("data/larger-than-region"))
        {
            for (long w = 0; w < file.windowCount(); w++)
            {
                try (WindowView view = file.acquire(w))
                {
                    TestShare.assertView(big, view);
                }
            }
        }
        CountersSnapshot s = PcbCommand.awaitCounters(broker.runDir(), (c) -> c.value(READ_AHEAD_FILLS) > 0);
        assertTrue(s.value(HITS) > 0, "the reader found windows filled ahead: " + s.counters());
        assertEquals(0, s.value(ERRORS), s.counters().toString());
        final long readAhead = s.value(READ_AHEAD_FILLS);

        final byte[] other = Files.readAllBytes(share.files().get("sparse.img"));
        try (PcbFile file = agent.open("data/sparse.img"))
        {
            for (final long w : new long[]{5, 2, 7, 4})
            {
                try (WindowView view = file.acquire(w))
                {
                    TestShare.assertView(other, view);
                }
            }
        }
        s = PcbCommand.awaitCounters(broker.runDir(), (c) -> c.value(FILLS) >= 33 + 4);
        assertEquals(readAhead, s.value(READ_AHEAD_FILLS), "windows read out of order start no read-ahead");
    }

    @Test
    void windowsFilledAheadBeforeAChangeServeTheOpenedVersion() throws Exception
    {
        final Path path = pcb.shareDir().resolve("ten.bin");
        final byte[] original = bytes(10 * WINDOW, 1);
        Files.write(path, original);
        try (PcbFile reader = agent.open("data/ten.bin"))
        {
            reader.acquire(0).close();
            PcbCommand.awaitCounters(broker.runDir(), (c) -> 3 == c.value(READ_AHEAD_FILLS) && 4 == c.value(FILLS));

            try (FileChannel channel = FileChannel.open(path, StandardOpenOption.WRITE))
            {
                channel.write(ByteBuffer.wrap(bytes(10 * WINDOW, 2)), 0);
            }
            for (long w = 1; w <= 3; w++)
            {
                try (WindowView view = reader.acquire(w))
                {
                    TestShare.assertView(original, view);
                }
            }
            assertThrows(StaleFileException.class, () -> reader.acquire(4),
                "a window not filled before the change is STALE, read ahead or not");
        }
    }

    private static byte[] bytes(final int size, final long seed)
    {
        final byte[] bytes = new byte[size];
        new SplittableRandom(seed).nextBytes(bytes);
        return bytes;
    }
}
