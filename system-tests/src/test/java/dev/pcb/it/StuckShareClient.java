package dev.pcb.it;

import dev.pcb.agent.AgentConfig;
import dev.pcb.agent.DirEntry;
import dev.pcb.agent.PcbAgent;
import dev.pcb.agent.PcbFile;
import dev.pcb.agent.WindowView;
import dev.pcb.testsupport.TestShare;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;
import java.util.concurrent.Callable;

/**
 * The client of the share that hangs, for {@link StuckShareTest}: it reads both shares, prints {@code ready}, and on
 * the test's {@code go} sends at once, each from its own thread, requests that all need the share's filesystem: an
 * OPEN of a file it never saw, two STATs of such files, a LIST, and ACQUIREs of windows of an open file not filled
 * yet. Before them it closes another file of the share it read before, which needs no answer from the filesystem,
 * and STATs a file of the other share ({@code closed MS}). It prints {@code started}, then
 * {@code done NAME MS RESULT} as each request is answered (RESULT: the
 * SHA-256 of the bytes, a size, or the names listed), then new requests of the same kinds as
 * {@code done after-NAME ...}, and {@code finished}. A failed request prints {@code error NAME: message}.
 * <p>
 * Args: run dir, guest, name of the share that hangs, name of the other share, request timeout in seconds.
 */
public final class StuckShareClient
{
    /** File windows of {@link StuckShareTest#BIG} acquired while the share hangs: not read before, nor read ahead. */
    static final long[] STUCK_WINDOWS = {8, 11, 14};

    private StuckShareClient()
    {
    }

    public static void main(final String[] args) throws Exception
    {
        final String b = args[2];
        final String a = args[3];
        final BufferedReader commands = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        try (PcbAgent agent = PcbAgent.attach(new AgentConfig().runDir(Path.of(args[0])).guest(args[1])
            .connectTimeout(Duration.ofSeconds(30)).requestTimeout(Duration.ofSeconds(Long.parseLong(args[4]))));
             PcbFile big = agent.open(b + "/" + StuckShareTest.BIG))
        {
            System.out.println("read before " + sha(big, 0) + " " + names(agent, b + "/dir") + " " +
                agent.stat(b + "/dir/x0.bin").size());
            final PcbFile closing = agent.open(b + "/dir/x1.bin");
            System.out.println("read closing " + sha(closing, 0));
            try (PcbFile other = agent.open(a + "/" + ShareLatencyReader.HOT))
            {
                System.out.println("read other " + sha(other, 0));
            }
            System.out.println("ready");
            System.out.flush();
            if (!"go".equals(commands.readLine()))
            {
                return;
            }

            // CLOSE needs no answer; the STAT of the other share behind it in this slot's ring shows it was taken.
            final long closeNs = System.nanoTime();
            closing.close();
            agent.stat(a + "/" + ShareLatencyReader.HOT);
            System.out.println("closed " + (System.nanoTime() - closeNs) / 1_000_000);
            System.out.flush();
            final List<Thread> threads = new ArrayList<>();
            threads.add(start("open", () ->
            {
                try (PcbFile f = agent.open(b + "/" + StuckShareTest.NEW))
                {
                    return sha(f, 0);
                }
            }));
            threads.add(start("stat", () -> Long.toString(agent.stat(b + "/" + StuckShareTest.LATE).size())));
            threads.add(start("list", () -> names(agent, b + "/dir")));
            threads.add(start("stat2", () -> Long.toString(agent.stat(b + "/" + StuckShareTest.LATE2).size())));
            for (final long w : STUCK_WINDOWS)
            {
                threads.add(start("acquire-" + w, () -> sha(big, w)));
            }
            System.out.println("started");
            System.out.flush();
            for (final Thread thread : threads)
            {
                thread.join();
            }

            run("after-open", () ->
            {
                try (PcbFile f = agent.open(b + "/" + StuckShareTest.AFTER))
                {
                    return sha(f, 0);
                }
            });
            run("after-acquire-3", () -> sha(big, 3));
            run("after-stat", () -> Long.toString(agent.stat(b + "/" + StuckShareTest.AFTER).size()));
            run("after-list", () -> names(agent, b + "/dir"));
            System.out.println("finished");
            System.out.flush();
        }
    }

    private static Thread start(final String name, final Callable<String> request)
    {
        final Thread thread = new Thread(() -> run(name, request), "request-" + name);
        thread.start();
        return thread;
    }

    private static void run(final String name, final Callable<String> request)
    {
        final long startNs = System.nanoTime();
        try
        {
            final String result = request.call();
            System.out.println("done " + name + " " + (System.nanoTime() - startNs) / 1_000_000 + " " + result);
        }
        catch (final Exception ex)
        {
            System.out.println("error " + name + ": " + ex);
        }
        System.out.flush();
    }

    private static String sha(final PcbFile file, final long window) throws Exception
    {
        try (WindowView view = file.acquire(window))
        {
            final byte[] bytes = new byte[view.length()];
            view.buffer().getBytes(0, bytes);
            return TestShare.sha256(bytes);
        }
    }

    private static String names(final PcbAgent agent, final String dir) throws Exception
    {
        final TreeSet<String> names = new TreeSet<>();
        for (final DirEntry entry : agent.list(dir))
        {
            names.add(entry.name());
        }
        return String.join(",", names);
    }
}
