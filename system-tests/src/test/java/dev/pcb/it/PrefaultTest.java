package dev.pcb.it;

import dev.pcb.agent.AgentConfig;
import dev.pcb.agent.PcbAgent;
import dev.pcb.agent.PcbFile;
import dev.pcb.agent.WindowView;
import dev.pcb.layout.RunDirectory;
import dev.pcb.nativeshim.Linux;
import dev.pcb.nativeshim.StatxResult;
import dev.pcb.testsupport.BrokerProcess;
import dev.pcb.testsupport.TestShare;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code --prefault}: the broker allocates its data region in full before it serves, and what it serves is the same.
 */
@Timeout(60)
class PrefaultTest
{
    @TempDir
    Path shareDir;

    private BrokerProcess broker;

    @AfterEach
    void tearDown() throws Exception
    {
        if (null != broker)
        {
            broker.close();
        }
    }

    @Test
    void theRegionIsAllocatedBeforeTheFirstFill() throws Exception
    {
        final TestShare share = TestShare.create(shareDir);
        broker = BrokerProcess.start(BrokerProcess.newRunDir("prefault"), "--share", "data=" + shareDir,
            "--guest", "vm1", "--region-size", Long.toString(TestShare.REGION),
            "--window-size", Integer.toString(TestShare.WINDOW), "--prefault");
        // The first 64 KiB hold the superblock and descriptor table; the 15 windows after it are all allocated.
        final long allocated = allocatedBytes(RunDirectory.dataRegionFile(broker.runDir(), "data"));
        assertTrue(allocated >= TestShare.REGION - TestShare.WINDOW,
            "every window's pages are there before anyone reads: " + allocated + " bytes allocated");

        final byte[] source = Files.readAllBytes(share.files().get("three-and-a-half"));
        try (PcbAgent agent = PcbAgent.attach(new AgentConfig().runDir(broker.runDir()).guest("vm1")
            .connectTimeout(Duration.ofSeconds(20)));
            PcbFile file = agent.open("data/three-and-a-half"))
        {
            for (long w = 0; w < file.windowCount(); w++)
            {
                try (WindowView view = file.acquire(w))
                {
                    TestShare.assertView(source, view);
                }
            }
        }
    }

    private static long allocatedBytes(final Path file) throws Exception
    {
        final int fd = Linux.openFile(file.toString(), Linux.O_RDONLY);
        try
        {
            final StatxResult stat = new StatxResult();
            Linux.fstat(fd, stat);
            return stat.blocks() * 512;
        }
        finally
        {
            Linux.close(fd);
        }
    }
}
