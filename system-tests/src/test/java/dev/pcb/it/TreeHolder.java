package dev.pcb.it;

import dev.pcb.agent.AgentConfig;
import dev.pcb.agent.PcbAgent;
import dev.pcb.agent.PcbFile;

import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;

/**
 * A reader process for {@link TreeVersionsTest} that stays on one tree version: it opens a file, reads it, prints
 * {@code holding VERSION}, and keeps the session and the file until a line arrives on stdin (or it is killed).
 * Args: run dir, guest, path.
 */
public final class TreeHolder
{
    private TreeHolder()
    {
    }

    public static void main(final String[] args) throws Exception
    {
        try (PcbAgent agent = PcbAgent.attach(new AgentConfig().runDir(Path.of(args[0])).guest(args[1])
            .connectTimeout(Duration.ofSeconds(30)));
            PcbFile file = agent.open(args[2]))
        {
            file.read(0, ByteBuffer.allocate(4096));
            System.out.println("holding " + agent.treeVersion(args[2].substring(0, args[2].indexOf('/'))));
            System.out.flush();
            System.in.read();
        }
        System.out.println("left");
    }
}
