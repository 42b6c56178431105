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
        for (int w = 0; w < hold; w++)
        {
            file.acquire(w);
        }
        System.out.println("held");
        System.out.flush();
        final SplittableRandom random = new SplittableRandom();
        long sum = 0;
        while (true)
        {
            // Only windows it already holds: local reference counts, so its broker pins stay exactly `hold`.
            try (WindowView view = file.acquire(random.nextInt(hold)))
            {
                sum += view.buffer().getByte(random.nextInt(view.length()));
            }
            if (sum == Long.MIN_VALUE)
            {
                System.out.println(sum);
            }
        }
    }
}
