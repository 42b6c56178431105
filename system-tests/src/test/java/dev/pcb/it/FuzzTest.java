package dev.pcb.it;

import dev.pcb.layout.ClientSlotDescriptor;
import dev.pcb.layout.ControlRegionDescriptor;
import dev.pcb.layout.RunDirectory;
import dev.pcb.nativeshim.MappedRegion;
import dev.pcb.protocol.AttachRequest;
import dev.pcb.protocol.HoldRequest;
import dev.pcb.protocol.MessageType;
import dev.pcb.protocol.PathRequest;
import dev.pcb.protocol.WindowRequest;
import dev.pcb.testsupport.AgentProcess;
import dev.pcb.testsupport.BrokerProcess;
import dev.pcb.testsupport.JavaProcess;
import dev.pcb.testsupport.PcbExtension;
import dev.pcb.testsupport.TestShare;
import org.agrona.concurrent.UnsafeBuffer;
import org.agrona.concurrent.ringbuffer.ManyToOneRingBuffer;
import org.agrona.concurrent.ringbuffer.OneToOneRingBuffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A hostile guest: random and mutated ring records, then random bytes over its whole control region, while another
 * guest's agents read and verify files. The broker stays up, every read of the other guest verifies, and the
 * hostile guest is answered with errors or detached.
 */
@Timeout(180)
class FuzzTest
{
    private static final int FILES = 6;
    private static final int SECONDS = Integer.getInteger("pcb.fuzz.seconds", 15);

    @RegisterExtension
    final PcbExtension pcb = new PcbExtension("fuzz");

    @TempDir
    Path shareDir;

    private BrokerProcess broker;

    @Test
    void aHostileGuestCannotHurtTheBrokerOrAnotherGuest() throws Exception
    {
        final SplittableRandom files = new SplittableRandom(21);
        for (int i = 0; i < FILES; i++)
        {
            final byte[] body = new byte[1 + files.nextInt(200_000)];
            files.nextBytes(body);
            try (FileChannel out = FileChannel.open(shareDir.resolve("t" + i + ".bin"), StandardOpenOption.CREATE,
                StandardOpenOption.WRITE))
            {
                out.write(ByteBuffer.wrap(body));
                out.write(ByteBuffer.wrap(TortureFormat.trailer(i, body, body.length)));
            }
        }
        broker = pcb.startBrokerWith("--share", "data=" + shareDir,
            "--guest", "good", "--guest", "evil", "--region-size", "4m", "--window-size", "64k",
            "--client-lease", "1000");

        final List<Process> readers = new ArrayList<>();
        for (int i = 0; i < 2; i++)
        {
            final Process reader = new ProcessBuilder(JavaProcess.javaCommand(TortureReader.class.getName(),
                broker.runDir().toString(), "good", Integer.toString(FILES), Integer.toString(SECONDS))).start();
            pcb.track(reader);
            readers.add(reader);
        }

        final long seed = System.nanoTime();
        System.out.println("fuzz seed " + seed);
        final Fuzzer fuzzer = new Fuzzer(RunDirectory.controlRegionFile(broker.runDir(), "evil"), seed);
        final long structuredEndNs = System.nanoTime() + TimeUnit.SECONDS.toNanos(SECONDS / 2);
        final long endNs = System.nanoTime() + TimeUnit.SECONDS.toNanos(SECONDS);
        try
        {
            while (System.nanoTime() < structuredEndNs)
            {
                fuzzer.records();
                assertTrue(broker.process().isAlive(), "broker died:\n" + broker.output());
            }
            while (System.nanoTime() < endNs)
            {
                fuzzer.scribble();
                Thread.sleep(1);
                assertTrue(broker.process().isAlive(), "broker died:\n" + broker.output());
            }
        }
        finally
        {
            fuzzer.close();
        }

        final Pattern counts = Pattern.compile("reader ok=(\\d+) stale=(\\d+) missing=(\\d+) empty=(\\d+) torn=(\\d+)");
        for (final Process reader : readers)
        {
            final String out = new String(reader.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            final String err = new String(reader.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
            assertTrue(reader.waitFor(60, TimeUnit.SECONDS));
            assertEquals(0, reader.exitValue(), out + err);
            final Matcher m = counts.matcher(out);
            assertTrue(m.find(), out + err);
            assertTrue(Long.parseLong(m.group(1)) > 50, "the good guest was starved: " + out);
            assertEquals("0", m.group(2), "nothing changed on the host: no read may be stale\n" + out);
            assertEquals("0", m.group(5), out);
        }
        System.out.println("fuzzer sent " + fuzzer.sent + " records, " + fuzzer.answers + " answers (" +
            fuzzer.errors + " errors), " + fuzzer.scribbles + " scribbles");
        assertTrue(broker.process().isAlive(), broker.output());
        assertTrue(!broker.output().contains("conductor error"), "an exception escaped a request:\n" + broker.output());
        assertTrue(fuzzer.errors > 0 || broker.output().contains("guest evil"),
            "the hostile guest was neither answered with errors nor detached:\n" + broker.output());

        // Still serving, to both guests.
        final AgentProcess good = AgentProcess.run(broker, "good", "sha256", "data/t0.bin");
        assertEquals(0, good.exitCode(), good.stderr());
        assertEquals(TestShare.sha256(shareDir.resolve("t0.bin")) + "  data/t0.bin\n", good.stdoutText());
    }

    /**
     * Plays the hostile guest on its own control region file, mapped read-write as QEMU would give it.
     */
    private static final class Fuzzer implements AutoCloseable
    {
        private final MappedRegion region;
        private final UnsafeBuffer whole;
        private final SplittableRandom random;
        private final UnsafeBuffer record = new UnsafeBuffer(ByteBuffer.allocateDirect(8192));
        private final int slotLength;
        private final int requestRingLength;
        private final int responseRingLength;
        private long sent;
        private long answers;
        private long errors;
        private long scribbles;
        private long ownerId;

        Fuzzer(final Path file, final long seed) throws Exception
        {
            region = MappedRegion.map(file, true);
            whole = new UnsafeBuffer(region.address(), (int)region.length());
            random = new SplittableRandom(seed);
            slotLength = whole.getInt(ControlRegionDescriptor.SLOT_LENGTH_OFFSET);
            requestRingLength = whole.getInt(ControlRegionDescriptor.REQUEST_RING_LENGTH_OFFSET);
            responseRingLength = whole.getInt(ControlRegionDescriptor.RESPONSE_RING_LENGTH_OFFSET);
        }

        /**
         * Claim slot 0 as a guest would, then send random and mutated records, reading whatever comes back.
         */
        void records() throws Exception
        {
            final int at = ControlRegionDescriptor.slotOffset(slotLength, 0);
            final UnsafeBuffer slot = new UnsafeBuffer(whole, at, slotLength);
            ownerId = (ProcessHandle.current().pid() << 32) | (1 + random.nextInt(1 << 30));
            slot.putLongVolatile(ClientSlotDescriptor.OWNER_ID_OFFSET, ownerId);
            final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(2);
            while (slot.getLongVolatile(ClientSlotDescriptor.ACCEPTED_OWNER_ID_OFFSET) != ownerId)
            {
                if (System.nanoTime() > deadline)
                {
                    return;
                }
                Thread.sleep(1);
            }
            final ManyToOneRingBuffer requests = new ManyToOneRingBuffer(
                new UnsafeBuffer(slot, ClientSlotDescriptor.requestRingOffset(), requestRingLength));
            final OneToOneRingBuffer responses = new OneToOneRingBuffer(new UnsafeBuffer(
                slot, ClientSlotDescriptor.responseRingOffset(requestRingLength), responseRingLength));

            final AttachRequest attach = new AttachRequest();
            attach.wrap(record, 0);
            attach.correlationId(1);
            attach.layoutVersion(random.nextInt(4) == 0 ? random.nextInt() : 1 << 16).pid(random.nextInt());
            requests.write(MessageType.ATTACH, record, 0, AttachRequest.LENGTH);

            for (int i = 0; i < 200; i++)
            {
                final int length = encode();
                final int type = random.nextInt(8) == 0 ? random.nextInt(1, 300) : 1 + random.nextInt(9);
                if (requests.write(type, record, 0, length))
                {
                    sent++;
                }
                slot.getAndAddLong(ClientSlotDescriptor.OWNER_HEARTBEAT_OFFSET, 1);
                responses.read((msgType, buffer, index, len) ->
                {
                    answers++;
                    if (MessageType.ERROR == msgType)
                    {
                        errors++;
                    }
                }, 100);
            }
            Thread.sleep(2);
        }

        private int encode()
        {
            final int kind = random.nextInt(5);
            final int length;
            switch (kind)
            {
                case 0:
                {
                    final PathRequest path = new PathRequest();
                    path.wrap(record, 0);
                    path.correlationId(random.nextLong());
                    path.shareId(random.nextInt(3)).maxEntries(random.nextInt()).cookie(random.nextLong() >> 40);
                    final String[] paths = {"t0.bin", "../etc/passwd", "/etc/passwd", "", "t1.bin/x", "nope",
                        "a/../../b", "t2.bin\0x", "."};
                    length = path.path(paths[random.nextInt(paths.length)]);
                    break;
                }
                case 1:
                {
                    final WindowRequest window = new WindowRequest();
                    window.wrap(record, 0);
                    window.correlationId(random.nextLong());
                    window.handleId(random.nextInt(4)).fileWindow(random.nextInt(8) - 2);
                    length = WindowRequest.LENGTH;
                    break;
                }
                case 2:
                {
                    final HoldRequest hold = new HoldRequest();
                    hold.wrap(record, 0);
                    hold.correlationId(random.nextLong());
                    hold.shareId(random.nextInt(3)).regionWindow(random.nextInt(100) - 10).generation(random.nextLong());
                    length = HoldRequest.LENGTH;
                    break;
                }
                default:
                {
                    length = random.nextInt(1, 2048);
                    for (int i = 0; i < length; i++)
                    {
                        record.putByte(i, (byte)random.nextInt());
                    }
                    break;
                }
            }
            // Mutate: truncate or flip bytes of an otherwise valid record.
            if (random.nextInt(3) == 0)
            {
                for (int i = 0, n = random.nextInt(1, 8); i < n; i++)
                {
                    record.putByte(random.nextInt(Math.max(1, length)), (byte)random.nextInt());
                }
            }
            return random.nextInt(4) == 0 ? random.nextInt(0, length + 1) : length;
        }

        /**
         * Random bytes over random places of the whole region: header, slot headers, ring data and trailers.
         */
        void scribble()
        {
            for (int i = 0, n = random.nextInt(1, 16); i < n; i++)
            {
                final int length = random.nextInt(1, 64);
                final int at = random.nextInt((int)region.length() - length);
                for (int b = 0; b < length; b++)
                {
                    whole.putByte(at + b, (byte)random.nextInt());
                }
                scribbles++;
            }
        }

        public void close()
        {
            region.close();
        }
    }
}
