package dev.pcb.it;

import dev.pcb.agent.AgentConfig;
import dev.pcb.agent.PcbAgent;
import dev.pcb.agent.PcbFile;
import dev.pcb.agent.WindowView;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * A reader process for {@link StuckShareTest}: on the test's command {@code run PHASE MS} it opens and reads files of
 * one share for that long, each OPEN followed by one ACQUIRE, alternating a small file always in the region (hits)
 * with random windows of files larger than the region (mostly misses, so fills), checks the bytes against the host
 * files, and prints {@code stats PHASE ops N max MS wrong W} and the p50/p99/max of each kind. {@code quit} ends it.
 * <p>
 * Args: run dir, guest, share name, host directory of the share, request timeout in seconds.
 */
public final class ShareLatencyReader
{
    static final String HOT = "hot.bin";
    static final String COLD = "cold-";
    static final int COLD_FILES = 4;

    private ShareLatencyReader()
    {
    }

    /**
     * Latencies of one kind of request in one phase, in microseconds.
     */
    private static final class Latencies
    {
        private long[] us = new long[1024];
        private int count;

        void add(final long nanos)
        {
            if (count == us.length)
            {
                us = Arrays.copyOf(us, count * 2);
            }
            us[count++] = nanos / 1_000;
        }

        long max()
        {
            long max = 0;
            for (int i = 0; i < count; i++)
            {
                max = Math.max(max, us[i]);
            }
            return max;
        }

        String summary(final String name)
        {
            if (0 == count)
            {
                return name + " n=0";
            }
            final long[] sorted = Arrays.copyOf(us, count);
            Arrays.sort(sorted);
            return String.format("%s n=%d p50=%.2fms p99=%.2fms max=%.2fms", name, count,
                sorted[count / 2] / 1000.0, sorted[Math.min(count - 1, (int)(count * 0.99))] / 1000.0,
                sorted[count - 1] / 1000.0);
        }
    }

    public static void main(final String[] args) throws Exception
    {
        final String share = args[2];
        final Path hostDir = Path.of(args[3]);
        final byte[] hot = Files.readAllBytes(hostDir.resolve(HOT));
        final byte[][] cold = new byte[COLD_FILES][];
        for (int i = 0; i < COLD_FILES; i++)
        {
            cold[i] = Files.readAllBytes(hostDir.resolve(COLD + i + ".bin"));
        }
        final SplittableRandom random = new SplittableRandom(args[1].hashCode());
        final BufferedReader commands = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        try (PcbAgent agent = PcbAgent.attach(new AgentConfig().runDir(Path.of(args[0])).guest(args[1])
            .connectTimeout(Duration.ofSeconds(30)).requestTimeout(Duration.ofSeconds(Long.parseLong(args[4])))))
        {
            System.out.println("ready");
            System.out.flush();
            String line;
            while (null != (line = commands.readLine()) && !line.equals("quit"))
            {
                final String[] command = line.split(" ");
                final String phase = command[1];
                final long endNs = System.nanoTime() + Duration.ofMillis(Long.parseLong(command[2])).toNanos();
                final Latencies opens = new Latencies();
                final Latencies hits = new Latencies();
                final Latencies misses = new Latencies();
                long wrong = 0;
                for (long i = 0; System.nanoTime() < endNs; i++)
                {
                    final boolean isHot = 0 == (i & 1);
                    final int file = random.nextInt(COLD_FILES);
                    final byte[] bytes = isHot ? hot : cold[file];
                    final String path = share + "/" + (isHot ? HOT : COLD + file + ".bin");
                    final long startNs = System.nanoTime();
                    try (PcbFile f = agent.open(path))
                    {
                        final long openedNs = System.nanoTime();
                        opens.add(openedNs - startNs);
                        final long window = random.nextLong(f.windowCount());
                        try (WindowView view = f.acquire(window))
                        {
                            (isHot ? hits : misses).add(System.nanoTime() - openedNs);
                            final long offset = window * f.windowSize();
                            for (int at = 0; at < view.length(); at += 4093)
                            {
                                if (view.buffer().getByte(at) != bytes[(int)(offset + at)])
                                {
                                    wrong++;
                                }
                            }
                        }
                    }
                }
                final long max = Math.max(opens.max(), Math.max(hits.max(), misses.max())) / 1000;
                System.out.println("stats " + phase + " ops " + opens.count + " max " + max + " wrong " + wrong +
                    " | " + opens.summary("open") + " | " + hits.summary("acquire-hot") + " | " +
                    misses.summary("acquire-cold"));
                System.out.flush();
            }
        }
    }
}
