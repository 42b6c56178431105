package dev.pcb.it;

import dev.pcb.agent.AgentConfig;
import dev.pcb.agent.PcbAgent;
import dev.pcb.agent.PcbFile;
import dev.pcb.agent.WindowView;

import java.nio.file.Path;
import java.time.Duration;
import java.util.SplittableRandom;

/**
 * An agent process that pins windows and keeps reading them until it is killed: the victim of the kill -9 tests.
 * <p>
 * Arguments: run dir, guest, path, windows to hold. Prints "held" once it holds them.
 */
public final class PinHolder
{
    private PinHolder()
    {
    }

    private static long checksum(final WindowView view)
    {
        long sum = 0;
        for (int i = 0; i + 8 <= view.length(); i += 8)
        {
            sum = sum * 31 + view.buffer().getLong(i);
        }
        return sum;
    }

    /**
     * Run until killed.
     *
     * @param args run dir, guest, path, windows to hold.
     * @throws Exception on failure.
     */
    public static void main(final String[] args) throws Exception
    {
        final PcbAgent agent = PcbAgent.attach(new AgentConfig().runDir(Path.of(args[0])).guest(args[1])
            .connectTimeout(Duration.ofSeconds(30)));
        final PcbFile file = agent.open(args[2]);
        final int hold = Integer.parseInt(args[3]);
        final WindowView[] held = new WindowView[hold];
        final long[] sums = new long[hold];
        for (int w = 0; w < hold; w++)
        {
            held[w] = file.acquire(w);
            sums[w] = checksum(held[w]);
        }
        System.out.println("held");
        System.out.flush();
        final SplittableRandom random = new SplittableRandom();
        long sum = 0;
        while (true)
        {
            // Only windows it already holds: local reference counts, so its broker pins stay exactly `hold`.
            final int w = random.nextInt(hold);
            try (WindowView view = file.acquire(w))
            {
                sum += view.buffer().getByte(random.nextInt(view.length()));
                // Bytes held must never change, whatever the broker does, restarts included.
                if (random.nextInt(64) == 0 && checksum(view) != sums[w])
                {
                    System.out.println("CORRUPT window " + w);
                    System.out.flush();
                    System.exit(3);
                }
            }
            if (sum == Long.MIN_VALUE)
            {
                System.out.println(sum);
            }
        }
    }
}
