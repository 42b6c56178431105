package dev.pcb.bench;

import dev.pcb.agent.AgentConfig;
import dev.pcb.agent.PcbAgent;
import dev.pcb.agent.PcbFile;
import dev.pcb.agent.WindowView;

import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.HexFormat;

/**
 * Runs inside a guest of {@code benchmarks/memory-compare.sh}: attaches the pcb agent (devices found in sysfs), then
 * prints the guest's {@code Cached} from /proc/meminfo, waits for the host's "go" file, reads a whole file zero-copy
 * window by window (SHA-256 over the views), prints {@code Cached} again and the checksum, and waits for the host's
 * "release" file so the host can sample QEMU's memory while the guest still holds what it read.
 * <p>
 * The two readings are taken inside one JVM, after it started and attached, so the JVM's own jars and libraries (read
 * over the 9p host root) are not counted as the file's cost.
 * <pre>
 * GuestMemoryReader SHARE/PATH GO_FILE RELEASE_FILE
 * </pre>
 */
public final class GuestMemoryReader
{
    private GuestMemoryReader()
    {
    }

    /**
     * Read the file and report.
     *
     * @param args agent path, go file, release file.
     * @throws Exception on any failure: the guest script's status says so.
     */
    public static void main(final String[] args) throws Exception
    {
        final String path = args[0];
        final Path go = Path.of(args[1]);
        final Path release = Path.of(args[2]);
        try (PcbAgent agent = PcbAgent.attach(new AgentConfig().connectTimeout(Duration.ofSeconds(60))))
        {
            // Warm up what the read needs (classes, the digest) without touching the file's data.
            MessageDigest.getInstance("SHA-256").update(new byte[1 << 16]);
            final long size = agent.stat(path).size();
            System.out.println("PCB-MEM ready cached_kb=" + cachedKb() + " size=" + size);
            System.out.flush();
            await(go);

            final long startNs = System.nanoTime();
            final MessageDigest digest = MessageDigest.getInstance("SHA-256");
            try (PcbFile file = agent.open(path))
            {
                for (long w = 0, n = file.windowCount(); w < n; w++)
                {
                    try (WindowView view = file.acquire(w))
                    {
                        digest.update(view.byteBuffer());
                    }
                }
            }
            final long ms = (System.nanoTime() - startNs) / 1_000_000;
            System.out.println("PCB-MEM done cached_kb=" + cachedKb() + " read_ms=" + ms + " sha256=" +
                HexFormat.of().formatHex(digest.digest()));
            System.out.flush();
            await(release);
        }
    }

    static long cachedKb() throws Exception
    {
        for (final String line : Files.readAllLines(Path.of("/proc/meminfo")))
        {
            if (line.startsWith("Cached:"))
            {
                return Long.parseLong(line.substring("Cached:".length()).trim().split("\\s+")[0]);
            }
        }
        return -1;
    }

    private static void await(final Path file) throws InterruptedException
    {
        while (!Files.exists(file))
        {
            Thread.sleep(200);
        }
    }
}
