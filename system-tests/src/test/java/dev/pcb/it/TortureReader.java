package dev.pcb.it;

import dev.pcb.agent.AgentConfig;
import dev.pcb.agent.PcbAgent;
import dev.pcb.agent.PcbException;
import dev.pcb.agent.PcbFile;
import dev.pcb.agent.StaleFileException;
import dev.pcb.agent.WindowView;
import dev.pcb.protocol.ErrorCode;

import java.nio.file.Path;
import java.time.Duration;
import java.util.SplittableRandom;

/**
 * A reader of the torture test, a process of its own: opens random files, sometimes waits while holding them,
 * reads their windows in random order through zero-copy views, and checks each read is exactly one version the
 * writer produced. Prints its counts; exits 1 if any read was torn or wrong.
 * <p>
 * Arguments: run dir, guest, file count, seconds.
 */
public final class TortureReader
{
    private TortureReader()
    {
    }

    /**
     * Run the reader.
     *
     * @param args run dir, guest, file count, seconds.
     * @throws Exception on an unexpected failure.
     */
    public static void main(final String[] args) throws Exception
    {
        final int files = Integer.parseInt(args[2]);
        final long endNs = System.nanoTime() + Long.parseLong(args[3]) * 1_000_000_000L;
        final SplittableRandom random = new SplittableRandom(System.nanoTime());
        long ok = 0;
        long stale = 0;
        long missing = 0;
        long empty = 0;
        long torn = 0;
        try (PcbAgent agent = PcbAgent.attach(new AgentConfig().runDir(Path.of(args[0])).guest(args[1])
            .connectTimeout(Duration.ofSeconds(20))))
        {
            while (System.nanoTime() < endNs)
            {
                final String path = "data/t" + random.nextInt(files) + ".bin";
                try (PcbFile file = agent.open(path))
                {
                    if (random.nextInt(3) == 0)
                    {
                        Thread.sleep(random.nextInt(5));
                    }
                    final byte[] content = read(file, random);
                    if (content.length == 0)
                    {
                        empty++;
                    }
                    else if (TortureFormat.verify(content) < 0)
                    {
                        torn++;
                        System.out.println("TORN " + path + " size=" + content.length + " version=" + file.versionId());
                    }
                    else
                    {
                        ok++;
                    }
                }
                catch (final StaleFileException ex)
                {
                    stale++;
                }
                catch (final PcbException ex)
                {
                    if (ErrorCode.NO_SUCH_FILE != ex.code())
                    {
                        throw ex;
                    }
                    missing++;
                }
            }
        }
        System.out.println("reader ok=" + ok + " stale=" + stale + " missing=" + missing + " empty=" + empty +
            " torn=" + torn);
        System.exit(torn == 0 ? 0 : 1);
    }

    private static byte[] read(final PcbFile file, final SplittableRandom random) throws Exception
    {
        final byte[] content = new byte[(int)file.size()];
        final int windows = (int)file.windowCount();
        final int start = windows == 0 ? 0 : random.nextInt(windows);
        for (int i = 0; i < windows; i++)
        {
            final int w = (start + i) % windows;
            try (WindowView view = file.acquire(w))
            {
                view.buffer().getBytes(0, content, (int)view.fileOffset(), view.length());
            }
        }
        return content;
    }
}
