package dev.pcb.it;

import dev.pcb.agent.DirEntry;
import dev.pcb.agent.PcbAgent;
import dev.pcb.agent.PcbFile;
import dev.pcb.agent.WindowView;
import dev.pcb.protocol.FileAttributes;
import dev.pcb.protocol.FileType;
import dev.pcb.testsupport.AgentProcess;
import dev.pcb.testsupport.BrokerProcess;
import dev.pcb.testsupport.PcbExtension;
import dev.pcb.testsupport.TestShare;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.SeekableByteChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every byte read through the agent, by every route, equals the source: a broker in its own process, the agent
 * here and in other processes, files of the sizes windowed readers get wrong.
 */
@Timeout(180)
class CoreDataPathTest
{
    @RegisterExtension
    final PcbExtension pcb = new PcbExtension("core");

    private Path shareDir;
    private TestShare share;
    private BrokerProcess broker;
    private PcbAgent agent;

    @BeforeEach
    void setUp() throws Exception
    {
        shareDir = pcb.shareDir();
        share = TestShare.create(shareDir);
        broker = pcb.startBroker();
        agent = pcb.agent("vm1");
    }

    @Test
    void viewsReturnEveryByteOfEveryFile() throws Exception
    {
        for (final Map.Entry<String, Path> entry : share.files().entrySet())
        {
            final byte[] expected = Files.readAllBytes(entry.getValue());
            try (PcbFile file = agent.open("data/" + entry.getKey()))
            {
                assertEquals(expected.length, file.size(), entry.getKey());
                final ByteArrayOutputStream viaBuffer = new ByteArrayOutputStream();
                final ByteArrayOutputStream viaByteBuffer = new ByteArrayOutputStream();
                final ByteArrayOutputStream viaBytesStore = new ByteArrayOutputStream();
                for (long w = 0; w < file.windowCount(); w++)
                {
                    try (WindowView view = file.acquire(w))
                    {
                        assertEquals(w * TestShare.WINDOW, view.fileOffset());
                        final byte[] chunk = new byte[view.length()];
                        view.buffer().getBytes(0, chunk);
                        viaBuffer.write(chunk);

                        final ByteBuffer bb = view.byteBuffer();
                        assertTrue(bb.isReadOnly() && bb.isDirect());
                        final byte[] chunk2 = new byte[bb.remaining()];
                        bb.get(chunk2);
                        viaByteBuffer.write(chunk2);

                        final byte[] chunk3 = new byte[(int)view.bytesStore().readRemaining()];
                        view.bytesStore().read(0, chunk3, 0, chunk3.length);
                        viaBytesStore.write(chunk3);
                    }
                }
                assertArrayEquals(expected, viaBuffer.toByteArray(), entry.getKey() + " via DirectBuffer");
                assertArrayEquals(expected, viaByteBuffer.toByteArray(), entry.getKey() + " via ByteBuffer");
                assertArrayEquals(expected, viaBytesStore.toByteArray(), entry.getKey() + " via BytesStore");
            }
        }
    }

    @Test
    void channelAndStreamCrossWindows() throws Exception
    {
        for (final Map.Entry<String, Path> entry : share.files().entrySet())
        {
            final byte[] expected = Files.readAllBytes(entry.getValue());
            try (PcbFile file = agent.open("data/" + entry.getKey()))
            {
                try (InputStream in = file.newInputStream())
                {
                    assertArrayEquals(expected, in.readAllBytes(), entry.getKey() + " via InputStream");
                }

                // Odd-sized reads so every read straddles window boundaries somewhere.
                try (SeekableByteChannel channel = file.newChannel())
                {
                    final ByteArrayOutputStream got = new ByteArrayOutputStream();
                    final ByteBuffer buffer = ByteBuffer.allocate(7919);
                    while (channel.read(buffer.clear()) > 0)
                    {
                        got.write(buffer.array(), 0, buffer.position());
                    }
                    assertArrayEquals(expected, got.toByteArray(), entry.getKey() + " via channel");

                    if (expected.length > 10)
                    {
                        final long position = expected.length / 2 + 3;
                        channel.position(position);
                        final ByteBuffer tail = ByteBuffer.allocate(expected.length);
                        while (channel.read(tail) > 0)
                        {
                            // Read to the end from the middle.
                        }
                        tail.flip();
                        final byte[] rest = new byte[tail.remaining()];
                        tail.get(rest);
                        assertArrayEquals(java.util.Arrays.copyOfRange(expected, (int)position, expected.length), rest);
                    }
                }
            }
        }
    }

    @Test
    void listsAndStatsTheTree() throws Exception
    {
        final List<String> names = new ArrayList<>();
        for (final DirEntry entry : agent.list("data/tree/a"))
        {
            names.add(entry.name() + ":" + FileType.tag(entry.type()));
        }
        assertEquals(List.of("b:d", "small.txt:-"), names);

        final List<DirEntry> root = agent.list("data");
        assertEquals(9, root.size(), root.toString());

        final FileAttributes deep = agent.stat("data/tree/a/b/deep.bin");
        assertEquals(5000, deep.size());
        assertTrue(deep.isRegularFile());
        assertTrue(agent.stat("data/tree").isDirectory());
        assertTrue(agent.stat("data").isDirectory());
    }

    @Test
    void listPagesAreBoundedAndComplete() throws Exception
    {
        final Path big = shareDir.resolve("many");
        Files.createDirectories(big);
        for (int i = 0; i < 2500; i++)
        {
            Files.writeString(big.resolve("entry-with-a-longish-name-" + i), "x");
        }
        final List<DirEntry> all = new ArrayList<>();
        long cookie = 0;
        int pages = 0;
        do
        {
            final var page = agent.list("data/many", cookie, 100);
            assertTrue(page.entries().size() <= 100);
            all.addAll(page.entries());
            cookie = page.nextCookie();
            pages++;
        }
        while (cookie >= 0);
        assertEquals(2500, all.size());
        assertEquals(2500, all.stream().map(DirEntry::name).distinct().count());
        assertTrue(pages >= 25, "pages: " + pages);
    }

    @Test
    void cliCatAndSha256MatchTheSource() throws Exception
    {
        for (final Map.Entry<String, Path> entry : share.files().entrySet())
        {
            final AgentProcess cat = AgentProcess.run(broker, "vm2", "cat", "data/" + entry.getKey());
            assertEquals(0, cat.exitCode(), cat.stderr());
            assertArrayEquals(Files.readAllBytes(entry.getValue()), cat.stdout(), entry.getKey() + " via cat");
        }

        final List<String> args = new ArrayList<>(List.of("sha256"));
        share.files().keySet().forEach((name) -> args.add("data/" + name));
        final AgentProcess sums = AgentProcess.run(broker, "vm2", args.toArray(new String[0]));
        assertEquals(0, sums.exitCode(), sums.stderr());
        final StringBuilder expected = new StringBuilder();
        for (final Map.Entry<String, Path> entry : share.files().entrySet())
        {
            expected.append(TestShare.sha256(entry.getValue())).append("  data/").append(entry.getKey()).append('\n');
        }
        assertEquals(expected.toString(), sums.stdoutText());
    }

    @Test
    void fourAgentProcessesReadTheSameFilesAtOnce() throws Exception
    {
        final List<String> args = new ArrayList<>(List.of("sha256"));
        share.files().keySet().forEach((name) -> args.add("data/" + name));
        final List<Process> agents = new ArrayList<>();
        for (int i = 0; i < 4; i++)
        {
            agents.add(AgentProcess.start(broker, i % 2 == 0 ? "vm1" : "vm2", args.toArray(new String[0])));
        }
        final StringBuilder expected = new StringBuilder();
        for (final Map.Entry<String, Path> entry : share.files().entrySet())
        {
            expected.append(TestShare.sha256(entry.getValue())).append("  data/").append(entry.getKey()).append('\n');
        }
        for (final Process process : agents)
        {
            final AgentProcess result = AgentProcess.await(process);
            assertEquals(0, result.exitCode(), result.stderr());
            assertEquals(expected.toString(), result.stdoutText());
        }
    }

    @Test
    void cliCopiesAFileLargerThanTheRegion() throws Exception
    {
        final Path dest = shareDir.resolve("copy.bin");
        final AgentProcess cp = AgentProcess.run(broker, "vm1", "cp", "data/larger-than-region", dest.toString());
        assertEquals(0, cp.exitCode(), cp.stderr());
        assertArrayEquals(Files.readAllBytes(share.files().get("larger-than-region")), Files.readAllBytes(dest));
    }
}
