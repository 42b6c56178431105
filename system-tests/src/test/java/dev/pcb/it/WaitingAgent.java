package dev.pcb.it;

import dev.pcb.agent.AgentConfig;
import dev.pcb.agent.PcbAgent;
import dev.pcb.agent.PcbFile;
import dev.pcb.agent.WindowView;
import dev.pcb.testsupport.TestShare;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;

/**
 * A host agent process that waits for one answer as long as the test wants: it reads window 0 of a file, says
 * "ready", and on a line from stdin asks for window 1, which the test's paused broker answers only when resumed.
 * <p>
 * Arguments: run dir, guest, path, "block" or "poll" (how it waits for answers). Prints the window's SHA-256.
 */
public final class WaitingAgent
{
    private WaitingAgent()
    {
    }

    /**
     * Run once.
     *
     * @param args run dir, guest, path, wait mode.
     * @throws Exception on failure.
     */
    public static void main(final String[] args) throws Exception
    {
        try (PcbAgent agent = PcbAgent.attach(new AgentConfig().runDir(Path.of(args[0])).guest(args[1])
            .retainedWindows(0).connectTimeout(Duration.ofSeconds(30)).requestTimeout(Duration.ofSeconds(90))
            .blockingWait("block".equals(args[3])));
            PcbFile file = agent.open(args[2]))
        {
            file.acquire(0).close();
            System.out.println("ready");
            System.out.flush();
            final BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
            if (null == in.readLine())
            {
                return;
            }
            try (WindowView view = file.acquire(1))
            {
                final byte[] bytes = new byte[view.length()];
                view.buffer().getBytes(0, bytes);
                System.out.println("window 1 " + TestShare.sha256(bytes));
                System.out.flush();
            }
        }
    }
}
