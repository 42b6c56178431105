package dev.pcb.it;

import dev.pcb.agent.AgentConfig;
import dev.pcb.agent.DirEntry;
import dev.pcb.agent.PcbAgent;
import dev.pcb.agent.PcbFile;
import dev.pcb.protocol.FileType;
import dev.pcb.testsupport.VersionedTree;

import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.TreeSet;

/**
 * A reader process for {@link TreeVersionsTest}: walks a whole share (list recursively, open and read every file)
 * again and again for a while, advancing its session between walks, and prints one summary line:
 * {@code walks W mixed M files F versions V advances A}; each mixed walk also prints a {@code mixed} line.
 * Args: run dir, guest, share, milliseconds to walk for, fewest walks (walks on past the time until there are that
 * many: on a loaded machine a walk may take seconds).
 */
public final class TreeWalker
{
    private TreeWalker()
    {
    }

    public static void main(final String[] args) throws Exception
    {
        final String share = args[2];
        final long endNs = System.nanoTime() + Duration.ofMillis(Long.parseLong(args[3])).toNanos();
        final long minWalks = Long.parseLong(args[4]);
        try (PcbAgent agent = PcbAgent.attach(new AgentConfig().runDir(Path.of(args[0])).guest(args[1])
            .connectTimeout(Duration.ofSeconds(30))))
        {
            System.out.println("started");
            System.out.flush();
            final TreeSet<Integer> allVersions = new TreeSet<>();
            final ByteBuffer buffer = ByteBuffer.allocate(1 << 20);
            long walks = 0;
            long mixed = 0;
            long files = 0;
            long advances = 0;
            while (System.nanoTime() < endNs || walks < minWalks)
            {
                if (agent.newestTreeVersion(share) != agent.treeVersion(share))
                {
                    agent.advance(share);
                    advances++;
                }
                final TreeSet<Integer> seen = new TreeSet<>();
                files += walk(agent, share, buffer, seen);
                walks++;
                allVersions.addAll(seen);
                if (seen.size() != 1)
                {
                    mixed++;
                    System.out.println("mixed walk at tree version " + agent.treeVersion(share) + ": " + seen);
                }
            }
            System.out.println("walks " + walks + " mixed " + mixed + " files " + files + " versions " +
                allVersions.size() + " advances " + advances);
        }
    }

    private static long walk(final PcbAgent agent, final String dir, final ByteBuffer buffer,
        final TreeSet<Integer> seen) throws Exception
    {
        long files = 0;
        for (final DirEntry entry : agent.list(dir))
        {
            final String path = dir + "/" + entry.name();
            if (FileType.DIRECTORY == entry.type())
            {
                files += walk(agent, path, buffer, seen);
                continue;
            }
            try (PcbFile file = agent.open(path))
            {
                buffer.clear();
                long position = 0;
                int n;
                while (buffer.hasRemaining() && (n = file.read(position, buffer)) > 0)
                {
                    position += n;
                }
                if (position != file.size())
                {
                    throw new IllegalStateException(path + ": read " + position + " of " + file.size() + " bytes");
                }
                seen.add(VersionedTree.versionOf(buffer.array(), buffer.position()));
            }
            files++;
        }
        return files;
    }
}
