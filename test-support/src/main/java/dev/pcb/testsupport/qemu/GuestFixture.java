package dev.pcb.testsupport.qemu;

import dev.pcb.testsupport.AgentProcess;
import dev.pcb.testsupport.Cleanup;
import dev.pcb.testsupport.FileTrees;
import dev.pcb.testsupport.PcbCommand;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeoutException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The QEMU guests of one test and what they use (a broker, work directories), started through it and closed together,
 * guests first, also when the test failed half-way; and the reading of what the guests print.
 * <pre>{@code
 * private final GuestFixture fixture = new GuestFixture();
 *
 * @AfterEach
 * void tearDown() throws Exception
 * {
 *     fixture.close();
 * }
 *
 * @Test
 * void guestReads() throws Exception
 * {
 *     final BrokerProcess broker = fixture.closeAfter(BrokerProcess.start(fixture.deleteAfter(runDir), ...));
 *     final QemuGuest guest = fixture.start(QemuGuest.builder().name("vm1")...);
 *     guest.awaitLine("PCB-PHASE-1", Duration.ofSeconds(120));
 *     final QemuGuest.Result result = fixture.awaitAll(Duration.ofSeconds(180)).get(0);
 * }
 * }</pre>
 */
public final class GuestFixture implements AutoCloseable
{
    private final List<QemuGuest> guests = new ArrayList<>();
    private final List<AutoCloseable> resources = new ArrayList<>();
    private final List<Path> directories = new ArrayList<>();

    /**
     * Fail, not skip, when QEMU is missing: every QEMU test needs it, and {@code scripts/install-deps.sh} installs it.
     *
     * @throws IllegalStateException when {@link QemuGuest#DEFAULT_QEMU} is not on the PATH.
     */
    public static void requireQemu()
    {
        if (QemuGuest.findOnPath(QemuGuest.DEFAULT_QEMU).isEmpty())
        {
            throw new IllegalStateException(QemuGuest.DEFAULT_QEMU + " is not on the PATH: this test needs QEMU " +
                "(apt-get install qemu-system-x86 busybox-static linux-image-amd64, or scripts/install-deps.sh)");
        }
    }

    /**
     * Where the packaged {@code pcb.jar} and its {@code lib/} are: system property {@code pcb.home}, else "target".
     *
     * @return the absolute directory.
     */
    public static Path pcbHome()
    {
        return Path.of(System.getProperty("pcb.home", "target")).toAbsolutePath();
    }

    /**
     * The line {@code pcb qemu-args --run-dir RUN_DIR --guest GUEST} prints, from its own JVM.
     *
     * @param runDir the broker's run directory.
     * @param guest  the guest's name.
     * @return the QEMU arguments as one shell line; split it with {@link QemuArgs#shellWords(String)}.
     * @throws Exception when the command fails or hangs; the message has its output.
     */
    public static String qemuArgs(final Path runDir, final String guest) throws Exception
    {
        final AgentProcess run = PcbCommand.run("qemu-args", "--run-dir", runDir.toString(), "--guest", guest);
        if (0 != run.exitCode())
        {
            throw new IllegalStateException("pcb qemu-args failed (" + run.exitCode() + "): " + run.stdoutText() +
                run.stderr());
        }
        return run.stdoutText().trim();
    }

    /**
     * The word after the start of the first console line that starts so, as a guest probe prints its values
     * ({@code PREFIX key value} or {@code PREFIX key=value}).
     *
     * @param console the guest's console.
     * @param start   the line's start up to the value: the probe's prefix, the key and its separator.
     * @return the value.
     * @throws IllegalStateException when there is no such line; the message has the console.
     */
    public static String probeValue(final String console, final String start)
    {
        final Matcher m = Pattern.compile("(?m)^" + Pattern.quote(start) + "(\\S+)").matcher(console);
        if (!m.find())
        {
            throw new IllegalStateException("no line '" + start + "' in the console:\n" + console);
        }
        return m.group(1);
    }

    /**
     * Build a guest that echoes its console to stdout with its name in front, and start it; {@link #close()} kills it.
     *
     * @param builder the guest's description.
     * @return the started guest.
     * @throws IOException when QEMU cannot be started.
     */
    public QemuGuest start(final QemuGuest.Builder builder) throws IOException
    {
        final QemuGuest guest = builder.echoConsole().build();
        guests.add(guest);
        guest.start();
        return guest;
    }

    /**
     * Wait for every started guest to finish, all within one deadline.
     *
     * @param timeout how long all may take together, from now.
     * @return their results, in the order they were started.
     * @throws TimeoutException     when one did not finish in time (it is killed); the message has its console tail.
     * @throws InterruptedException when interrupted.
     */
    public List<QemuGuest.Result> awaitAll(final Duration timeout) throws TimeoutException, InterruptedException
    {
        final long deadline = System.nanoTime() + timeout.toNanos();
        final List<QemuGuest.Result> results = new ArrayList<>();
        for (final QemuGuest guest : guests)
        {
            results.add(guest.waitFor(Duration.ofNanos(Math.max(0, deadline - System.nanoTime()))));
        }
        return results;
    }

    /**
     * Close a resource (a broker the guests attach to) when this closes, after the guests, in reverse order.
     *
     * @param resource the resource.
     * @param <T>      its type.
     * @return the resource.
     */
    public <T extends AutoCloseable> T closeAfter(final T resource)
    {
        resources.add(resource);
        return resource;
    }

    /**
     * Delete a directory tree when this closes, after the guests and resources.
     *
     * @param directory the directory; it need not exist yet.
     * @return the directory.
     */
    public Path deleteAfter(final Path directory)
    {
        directories.add(directory);
        return directory;
    }

    /**
     * Kill every guest, close the resources, delete the directories; each step runs even when an earlier one failed.
     * Idempotent.
     *
     * @throws Exception the first failure, the others suppressed in it.
     */
    public void close() throws Exception
    {
        Exception failure = null;
        for (final QemuGuest guest : guests)
        {
            failure = Cleanup.close(guest, failure);
        }
        guests.clear();
        for (int i = resources.size() - 1; i >= 0; i--)
        {
            failure = Cleanup.close(resources.get(i), failure);
        }
        resources.clear();
        for (final Path directory : directories)
        {
            failure = Cleanup.close(() -> FileTrees.delete(directory), failure);
        }
        directories.clear();
        if (null != failure)
        {
            throw failure;
        }
    }
}
