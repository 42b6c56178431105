package dev.pcb.it;

import dev.pcb.testsupport.BrokerProcess;
import dev.pcb.testsupport.JavaProcess;
import dev.pcb.testsupport.Unprivileged;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * A real {@code pcb mount} in its own JVM over the kernel's FUSE, for end-to-end tests: started with a bounded wait
 * for its "mounted" line, stopped with SIGTERM, and on close killed and lazily unmounted if it is still there, so
 * no mount outlives a test.
 */
public final class MountProcess implements AutoCloseable
{
    private final Process process;
    private final Path mountPoint;
    private final StringBuffer stderr = new StringBuffer();

    private MountProcess(final Process process, final Path mountPoint)
    {
        this.process = process;
        this.mountPoint = mountPoint;
    }

    /**
     * Start {@code pcb mount --run-dir DIR --guest GUEST ARGS... SHARE MOUNTPOINT} and wait until it serves.
     *
     * @param broker     the broker.
     * @param guest      guest name.
     * @param source     SHARE or SHARE/SUBDIR.
     * @param mountPoint an existing directory.
     * @param args       options before the positional arguments.
     * @return the serving mount.
     * @throws IOException when it exits or stays silent for 30 s; the message has its stderr.
     */
    public static MountProcess start(final BrokerProcess broker, final String guest, final String source,
        final Path mountPoint, final String... args) throws IOException
    {
        return start(JavaProcess.pcb(arguments(broker, guest, source, mountPoint, args)), source, mountPoint);
    }

    /**
     * Start it as an ordinary user ({@link Unprivileged}), so it mounts through fusermount3, and wait until it serves.
     *
     * @param broker     the broker, started with {@code --run-group} {@link Unprivileged#GROUP}.
     * @param guest      guest name.
     * @param source     SHARE or SHARE/SUBDIR.
     * @param mountPoint an existing directory the user owns.
     * @param args       options before the positional arguments.
     * @return the serving mount.
     * @throws IOException when it exits or stays silent for 30 s; the message has its stderr.
     */
    public static MountProcess startUnprivileged(final BrokerProcess broker, final String guest, final String source,
        final Path mountPoint, final String... args) throws IOException
    {
        return start(Unprivileged.pcb(arguments(broker, guest, source, mountPoint, args)), source, mountPoint);
    }

    private static String[] arguments(final BrokerProcess broker, final String guest, final String source,
        final Path mountPoint, final String... args)
    {
        final List<String> all = new ArrayList<>(
            List.of("mount", "--run-dir", broker.runDir().toString(), "--guest", guest));
        all.addAll(List.of(args));
        all.add(source);
        all.add(mountPoint.toString());
        return all.toArray(new String[0]);
    }

    private static MountProcess start(final ProcessBuilder builder, final String source, final Path mountPoint)
        throws IOException
    {
        final MountProcess mount = new MountProcess(builder.start(), mountPoint);
        final Thread errPump = new Thread(() ->
        {
            try (BufferedReader reader = new BufferedReader(
                new InputStreamReader(mount.process.getErrorStream(), StandardCharsets.UTF_8)))
            {
                String line;
                while (null != (line = reader.readLine()))
                {
                    mount.stderr.append(line).append('\n');
                }
            }
            catch (final IOException ignore)
            {
                // Process gone.
            }
        });
        errPump.setDaemon(true);
        errPump.start();
        final CompletableFuture<String> first = CompletableFuture.supplyAsync(() ->
        {
            try
            {
                return new BufferedReader(new InputStreamReader(mount.process.getInputStream(),
                    StandardCharsets.UTF_8)).readLine();
            }
            catch (final IOException ex)
            {
                return null;
            }
        });
        try
        {
            final String line = first.get(30, TimeUnit.SECONDS);
            final String expected = "mounted " + source.split("/")[0] + " at " + mountPoint;
            if (!expected.equals(line))
            {
                throw new IOException("pcb mount printed '" + line + "', not '" + expected + "':\n" + mount.stderr);
            }
        }
        catch (final IOException ex)
        {
            mount.close();
            throw ex;
        }
        catch (final Exception ex)
        {
            mount.close();
            throw new IOException("pcb mount did not become ready (" + ex + "):\n" + mount.stderr, ex);
        }
        return mount;
    }

    /** @return the mount process. */
    public Process process()
    {
        return process;
    }

    /** @return what it logged. */
    public String stderr()
    {
        return stderr.toString();
    }

    /**
     * Wait for the mount process to exit by itself (after an unmount).
     *
     * @param seconds bound.
     * @return its exit code.
     * @throws Exception when it is still running after the bound.
     */
    public int awaitExit(final long seconds) throws Exception
    {
        if (!process.waitFor(seconds, TimeUnit.SECONDS))
        {
            throw new AssertionError("pcb mount still running " + seconds + " s later:\n" + stderr);
        }
        return process.exitValue();
    }

    /**
     * Whether the mount point is mounted now.
     *
     * @return true when /proc/self/mountinfo lists it.
     * @throws IOException when mountinfo cannot be read.
     */
    public boolean isMounted() throws IOException
    {
        return Files.readString(Path.of("/proc/self/mountinfo")).contains(" " + mountPoint + " ");
    }

    /** Kill if still running and detach the mount if it is still there. */
    public void close()
    {
        if (process.isAlive())
        {
            process.destroy();
            try
            {
                if (!process.waitFor(15, TimeUnit.SECONDS))
                {
                    process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
                }
            }
            catch (final InterruptedException ex)
            {
                Thread.currentThread().interrupt();
            }
        }
        try
        {
            if (isMounted())
            {
                new ProcessBuilder("umount", "-l", mountPoint.toString()).start().waitFor(10, TimeUnit.SECONDS);
            }
        }
        catch (final IOException | InterruptedException ignore)
        {
            // Best effort: a test must not leave a mount behind, but its own failure matters more.
        }
    }
}
