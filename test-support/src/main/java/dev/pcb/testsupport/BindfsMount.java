package dev.pcb.testsupport;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * A FUSE filesystem the test controls: {@code bindfs} (a passthrough, scripts/install-deps.sh installs it) over a
 * local directory, run in the foreground so this is its process. {@link #pause()} stops that process with SIGSTOP: every
 * request that reaches the filesystem then waits in the kernel, as on a hung NFS server or a failing disk, until
 * {@link #resume()}. {@link #close()} resumes and unmounts, whatever state the test left it in.
 */
public final class BindfsMount implements AutoCloseable
{
    private static final long MOUNT_TIMEOUT_MS = 30_000;

    private final Path source;
    private final Path mountPoint;
    private final Process process;
    private final StringBuffer output = new StringBuffer();

    private BindfsMount(final Path source, final Path mountPoint, final Process process)
    {
        this.source = source;
        this.mountPoint = mountPoint;
        this.process = process;
    }

    /**
     * Mount {@code source} on a fresh directory and wait, at most 30 s, until the mount is there.
     *
     * @param source a local directory.
     * @return the mount.
     * @throws IOException when bindfs exits or the mount does not appear in time; the message carries its output.
     */
    public static BindfsMount start(final Path source) throws IOException
    {
        final Path mountPoint = Files.createTempDirectory("pcb-bindfs-");
        final Process process = new ProcessBuilder("bindfs", "-f", source.toString(), mountPoint.toString())
            .redirectErrorStream(true).start();
        final BindfsMount mount = new BindfsMount(source, mountPoint, process);
        final Thread reader = new Thread(mount::readOutput, "bindfs-output");
        reader.setDaemon(true);
        reader.start();
        final long deadline = System.currentTimeMillis() + MOUNT_TIMEOUT_MS;
        try
        {
            while (!mount.isMounted())
            {
                if (!process.isAlive() || System.currentTimeMillis() > deadline)
                {
                    throw new IOException("bindfs " + source + " " + mountPoint + " did not mount" +
                        (process.isAlive() ? " in " + MOUNT_TIMEOUT_MS + " ms" : " (exit " + process.exitValue() + ")") +
                        ": " + mount.output);
                }
                Thread.sleep(20);
            }
        }
        catch (final IOException | InterruptedException ex)
        {
            mount.close();
            throw ex instanceof IOException io ? io : new IOException(ex);
        }
        return mount;
    }

    private void readOutput()
    {
        try
        {
            output.append(new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8));
        }
        catch (final IOException ignore)
        {
            // The process is gone: nothing more to keep.
        }
    }

    private boolean isMounted() throws IOException
    {
        // Read from /proc, never by looking at the mount point, which would wait on a paused filesystem.
        for (final String line : Files.readAllLines(Path.of("/proc/self/mountinfo")))
        {
            final String[] fields = line.split(" ");
            if (fields.length > 4 && fields[4].equals(mountPoint.toString()))
            {
                return true;
            }
        }
        return false;
    }

    /** @return the directory the files are seen through. */
    public Path mountPoint()
    {
        return mountPoint;
    }

    /** @return the directory underneath, which the test may change directly even while paused. */
    public Path source()
    {
        return source;
    }

    /** @return the bindfs process id. */
    public long pid()
    {
        return process.pid();
    }

    /**
     * SIGSTOP the filesystem's process: requests that reach it wait until {@link #resume()}.
     *
     * @throws IOException when kill fails.
     * @throws InterruptedException if interrupted.
     */
    public void pause() throws IOException, InterruptedException
    {
        signal("-STOP");
    }

    /**
     * SIGCONT after {@link #pause()}: the waiting requests are served.
     *
     * @throws IOException when kill fails.
     * @throws InterruptedException if interrupted.
     */
    public void resume() throws IOException, InterruptedException
    {
        signal("-CONT");
    }

    private void signal(final String signal) throws IOException, InterruptedException
    {
        ChildProcesses.signal(process.pid(), signal);
    }

    /**
     * Resume, unmount (lazily if something still holds it open) and stop bindfs; bounded. Stop whatever holds files
     * open in the mount (a broker) first, or the unmount is only lazy.
     */
    public void close()
    {
        try
        {
            if (process.isAlive())
            {
                resume();
            }
            if (isMounted() && 0 != run("fusermount", "-u", mountPoint.toString()) && isMounted())
            {
                run("umount", "-l", mountPoint.toString());
            }
            process.destroy();
            if (!process.waitFor(10, TimeUnit.SECONDS))
            {
                process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
            Files.deleteIfExists(mountPoint);
        }
        catch (final IOException ex)
        {
            System.err.println("pcb: could not unmount " + mountPoint + ": " + ex);
        }
        catch (final InterruptedException ex)
        {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
        }
    }

    private static int run(final String... command) throws IOException, InterruptedException
    {
        final Process process = new ProcessBuilder(command).inheritIO().start();
        if (!process.waitFor(30, TimeUnit.SECONDS))
        {
            process.destroyForcibly();
            return -1;
        }
        return process.exitValue();
    }
}
