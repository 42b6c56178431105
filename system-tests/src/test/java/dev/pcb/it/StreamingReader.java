package dev.pcb.it;

import dev.pcb.agent.AgentConfig;
import dev.pcb.agent.PcbAgent;
import dev.pcb.agent.PcbFile;

import java.nio.ByteBuffer;
import java.nio.channels.SeekableByteChannel;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.HexFormat;

/**
 * A slow sequential reader through a channel, for the broker restart tests: prints "started", reads the whole file
 * in small steps with pauses (so a restart lands in the middle), then prints the SHA-256 of what it read.
 * <p>
 * Arguments: run dir, guest, path, pause in ms per 64 KiB.
 */
public final class StreamingReader
{
    private StreamingReader()
    {
    }

    /**
     * Read one file slowly.
     *
     * @param args run dir, guest, path, pause.
     * @throws Exception on failure: the test sees the exit code and stack trace.
     */
    public static void main(final String[] args) throws Exception
    {
        final long pauseMs = Long.parseLong(args[3]);
        try (PcbAgent agent = PcbAgent.attach(new AgentConfig().runDir(Path.of(args[0])).guest(args[1])
            .connectTimeout(Duration.ofSeconds(30)));
            PcbFile file = agent.open(args[2]);
            SeekableByteChannel channel = file.newChannel())
        {
            System.out.println("started");
            System.out.flush();
            final MessageDigest digest = MessageDigest.getInstance("SHA-256");
            final ByteBuffer buffer = ByteBuffer.allocate(8192);
            long read = 0;
            int n;
            while ((n = channel.read(buffer.clear())) > 0)
            {
                digest.update(buffer.flip());
                read += n;
                if (read % (64 * 1024) == 0)
                {
                    Thread.sleep(pauseMs);
                }
            }
            System.out.println("sha256 " + HexFormat.of().formatHex(digest.digest()) + " bytes " + read);
        }
    }
}
