package dev.pcb.bench;

import dev.pcb.agent.AgentConfig;
import dev.pcb.agent.PcbAgent;
import dev.pcb.agent.PcbFile;
import dev.pcb.agent.ShareRegion;
import dev.pcb.agent.WindowView;
import dev.pcb.layout.DataRegionDescriptor;
import dev.pcb.nativeshim.MappedRegion;
import dev.pcb.testsupport.BrokerProcess;
import org.agrona.CloseHelper;
import org.agrona.concurrent.UnsafeBuffer;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * A broker in its own process serving one file, this process attached as an agent with the file open and every
 * window of it filled: the warm state every read benchmark starts from.
 * <p>
 * Optionally this process also holds every window (so acquiring one is the local fast path, and the broker can
 * never evict one), and maps the share's data region a second time, read-only, for the raw ceiling.
 */
public final class ShareFixture implements AutoCloseable
{
    /** Share name the benchmarks use. */
    public static final String SHARE = "bench";
    /** Guest name the benchmarks attach as. */
    public static final String GUEST = "bench";

    private final Path source;
    private BrokerProcess broker;
    private PcbAgent agent;
    private PcbFile file;
    private WindowView[] held;
    private MappedRegion raw;
    private UnsafeBuffer[] rawWindows;
    private long checksum;

    private ShareFixture(final Path source)
    {
        this.source = source;
    }

    /**
     * Make the file if needed, start the broker, attach, open the file and fill all of its windows.
     *
     * @param fileName   file in the data directory.
     * @param fileSize   its size, a multiple of 8.
     * @param regionSize data region size: big enough for every window of the file.
     * @param windowSize window size.
     * @param hold       keep every window acquired until {@link #close()}.
     * @param mapRaw     also map the region read-only and point an {@link UnsafeBuffer} at each window; needs hold.
     * @param retain     windows the agent retains after their last close ({@link AgentConfig#retainedWindows(int)});
     *                   0 makes every acquire of a window not held a round trip to the broker.
     * @return the fixture, its checksums verified against the source file.
     * @throws IOException when any step fails.
     */
    public static ShareFixture start(
        final String fileName,
        final long fileSize,
        final long regionSize,
        final int windowSize,
        final boolean hold,
        final boolean mapRaw,
        final int retain) throws IOException
    {
        final ShareFixture fixture = new ShareFixture(BenchData.ensureFile(fileName, fileSize));
        try
        {
            fixture.broker = startBroker(regionSize, windowSize);
            fixture.attachTo(fixture.broker, fileName, hold, mapRaw, retain);
            return fixture;
        }
        catch (final IOException | RuntimeException ex)
        {
            fixture.close();
            throw ex;
        }
    }

    /**
     * A broker in its own process serving the benchmark share (the data directory) to guest {@value #GUEST}, for
     * several fixtures to {@link #attach(BrokerProcess, String, long, boolean, boolean, int) attach} to.
     *
     * @param regionSize data region size.
     * @param windowSize window size.
     * @return the running broker; the caller stops it.
     * @throws IOException when it does not start.
     */
    public static BrokerProcess startBroker(final long regionSize, final int windowSize) throws IOException
    {
        return BrokerProcess.start(BenchData.newRunDir(), "--share", SHARE + "=" + BenchData.dataDir(),
            "--guest", GUEST, "--region-size", Long.toString(regionSize),
            "--window-size", Integer.toString(windowSize));
    }

    /**
     * As {@link #start}, but a new agent attached to a broker that is already running, so several agents of one
     * process (retaining, not retaining, holding) read the same windows of the same region. Closing the fixture
     * leaves the broker running.
     *
     * @param broker   a broker from {@link #startBroker(long, int)}.
     * @param fileName file in the data directory.
     * @param fileSize its size, a multiple of 8.
     * @param hold     keep every window acquired until {@link #close()}.
     * @param mapRaw   also map the region read-only; needs hold.
     * @param retain   windows the agent retains after their last close.
     * @return the fixture, its checksums verified against the source file.
     * @throws IOException when any step fails.
     */
    public static ShareFixture attach(
        final BrokerProcess broker,
        final String fileName,
        final long fileSize,
        final boolean hold,
        final boolean mapRaw,
        final int retain) throws IOException
    {
        final ShareFixture fixture = new ShareFixture(BenchData.ensureFile(fileName, fileSize));
        try
        {
            fixture.attachTo(broker, fileName, hold, mapRaw, retain);
            return fixture;
        }
        catch (final IOException | RuntimeException ex)
        {
            fixture.close();
            throw ex;
        }
    }

    private void attachTo(
        final BrokerProcess to, final String fileName, final boolean hold, final boolean mapRaw, final int retain)
        throws IOException
    {
        if (mapRaw && !hold)
        {
            throw new IllegalArgumentException("the raw mapping reads windows in place, so they must be held");
        }
        agent = PcbAgent.attach(new AgentConfig().runDir(to.runDir()).guest(GUEST).retainedWindows(retain));
        file = agent.open(SHARE + "/" + fileName);
        fill(hold);
        verify();
        if (mapRaw)
        {
            mapRaw();
        }
    }

    private void fill(final boolean hold) throws IOException
    {
        final int windows = (int)file.windowCount();
        held = hold ? new WindowView[windows] : null;
        for (int w = 0; w < windows; w++)
        {
            // A miss: the broker fills the window and answers once it is READY; closing leaves it cached.
            final WindowView view = file.acquire(w);
            if (hold)
            {
                held[w] = view;
            }
            else
            {
                view.close();
            }
        }
    }

    private void verify() throws IOException
    {
        long viaViews = 0;
        for (long w = 0, n = file.windowCount(); w < n; w++)
        {
            try (WindowView view = file.acquire(w))
            {
                viaViews += Consumer.sum(view.buffer(), 0, view.length());
            }
        }
        final long viaFile = fileChecksum(source);
        if (viaViews != viaFile)
        {
            throw new IllegalStateException(
                "views of " + file.path() + " disagree with " + source + ": " + viaViews + " != " + viaFile);
        }
        checksum = viaViews;
    }

    private void mapRaw() throws IOException
    {
        final ShareRegion share = agent.shares().get(0);
        raw = MappedRegion.map(share.path(), false);
        final UnsafeBuffer superblock = new UnsafeBuffer(raw.address(), DataRegionDescriptor.SUPERBLOCK_LENGTH);
        final long windowsOffset = superblock.getLong(DataRegionDescriptor.WINDOWS_OFFSET_OFFSET);
        final int windowSize = superblock.getInt(DataRegionDescriptor.WINDOW_SIZE_OFFSET);
        rawWindows = new UnsafeBuffer[held.length];
        long viaRaw = 0;
        for (int w = 0; w < held.length; w++)
        {
            final long address = raw.address() + windowsOffset + (long)held[w].regionWindow() * windowSize;
            rawWindows[w] = new UnsafeBuffer(address, held[w].length());
            viaRaw += Consumer.sum(rawWindows[w], 0, rawWindows[w].capacity());
        }
        if (viaRaw != checksum)
        {
            throw new IllegalStateException("raw mapping of " + raw.path() + " disagrees with the views");
        }
    }

    /**
     * Checksum of a file read with {@link FileChannel}, in {@link Consumer#sum} terms.
     *
     * @param path file.
     * @return the sum of its longs.
     * @throws IOException when it cannot be read.
     */
    public static long fileChecksum(final Path path) throws IOException
    {
        final ByteBuffer buffer = ByteBuffer.allocateDirect(1 << 20);
        final UnsafeBuffer view = new UnsafeBuffer(buffer);
        long sum = 0;
        try (FileChannel channel = FileChannel.open(path, StandardOpenOption.READ))
        {
            long position = 0;
            int n;
            buffer.clear();
            while ((n = channel.read(buffer, position)) > 0)
            {
                sum += Consumer.sum(view, 0, n);
                position += n;
                buffer.clear();
            }
        }
        return sum;
    }

    /** @return the open file. */
    public PcbFile file()
    {
        return file;
    }

    /** @return the source file on the host. */
    public Path source()
    {
        return source;
    }

    /** @return views of every window, held, or null when not holding. */
    public WindowView[] held()
    {
        return held;
    }

    /** @return one buffer per file window over the second, raw mapping; null unless mapped. */
    public UnsafeBuffer[] rawWindows()
    {
        return rawWindows;
    }

    /** @return the file's checksum in {@link Consumer#sum} terms, verified at start. */
    public long checksum()
    {
        return checksum;
    }

    /** @return the broker process this fixture started; null when it attached to one started elsewhere. */
    public BrokerProcess broker()
    {
        return broker;
    }

    /** Release everything, detach, stop the broker and delete its run directory. */
    public void close()
    {
        if (null != held)
        {
            for (final WindowView view : held)
            {
                if (null != view)
                {
                    CloseHelper.quietClose(view);
                }
            }
            held = null;
        }
        CloseHelper.quietClose(raw);
        CloseHelper.quietClose(file);
        CloseHelper.quietClose(agent);
        CloseHelper.quietClose(broker);
    }
}
