package dev.pcb.it;

import dev.pcb.agent.AgentConfig;
import dev.pcb.agent.PcbAgent;
import dev.pcb.agent.PcbFile;
import dev.pcb.testsupport.VersionedTree;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;

/**
 * A reader process for {@link TreeVersionsTest} that stays on one tree version: it opens a file, reads it, prints
 * {@code holding VERSION}, and keeps the session and the file until a line other than {@code read} arrives on stdin,
 * or stdin ends (or it is killed). On each {@code read} it reads the whole held file again and a file it opens afresh,
 * and prints {@code read HELD FRESH tree VERSION}: HELD and FRESH the version their bytes name ({@code vN}), or
 * {@code error CLASS: MESSAGE}; VERSION what {@link PcbAgent#treeVersion} says now. Args: run dir, guest, path, path
 * to open afresh.
 */
public final class TreeHolder
{
    private TreeHolder()
    {
    }

    public static void main(final String[] args) throws Exception
    {
        final String share = args[2].substring(0, args[2].indexOf('/'));
        final BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        try (PcbAgent agent = PcbAgent.attach(new AgentConfig().runDir(Path.of(args[0])).guest(args[1])
            .connectTimeout(Duration.ofSeconds(30)));
            PcbFile file = agent.open(args[2]))
        {
            file.read(0, ByteBuffer.allocate(4096));
            System.out.println("holding " + agent.treeVersion(share));
            System.out.flush();
            while ("read".equals(in.readLine()))
            {
                final String held = version(file);
                String fresh;
                try (PcbFile other = agent.open(args[3]))
                {
                    fresh = version(other);
                }
                catch (final IOException ex)
                {
                    fresh = "error " + ex.getClass().getName() + ": " + ex.getMessage();
                }
                System.out.println("read " + held + " " + fresh + " tree " + agent.treeVersion(share));
                System.out.flush();
            }
        }
        System.out.println("left");
    }

    private static String version(final PcbFile file)
    {
        final ByteBuffer bytes = ByteBuffer.allocate((int)file.size());
        try
        {
            while (bytes.hasRemaining() && file.read(bytes.position(), bytes) > 0)
            {
                // read() fills from the position given, window by window.
            }
        }
        catch (final IOException ex)
        {
            return "error " + ex.getClass().getName() + ": " + ex.getMessage();
        }
        return "v" + VersionedTree.versionOf(bytes.array(), bytes.position());
    }
}
