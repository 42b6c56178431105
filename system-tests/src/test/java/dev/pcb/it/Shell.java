package dev.pcb.it;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * An unmodified program run through {@code bash -c}, as a user of a mount runs it, with a bounded wait.
 *
 * @param exitCode exit code.
 * @param stdout   standard output.
 * @param stderr   standard error.
 */
public record Shell(int exitCode, String stdout, String stderr)
{
    /**
     * Run a script in a directory and wait for it.
     *
     * @param directory      working directory.
     * @param timeoutSeconds bound; the script is killed after it.
     * @param script         bash script.
     * @return what it did.
     * @throws Exception on timeout or I/O failure.
     */
    public static Shell run(final Path directory, final long timeoutSeconds, final String script) throws Exception
    {
        final Process process = new ProcessBuilder("bash", "-c", script).directory(directory.toFile()).start();
        final ByteArrayOutputStream out = new ByteArrayOutputStream();
        final Thread pump = new Thread(() ->
        {
            try
            {
                process.getInputStream().transferTo(out);
            }
            catch (final IOException ignore)
            {
                // Process gone.
            }
        });
        pump.start();
        final ByteArrayOutputStream err = new ByteArrayOutputStream();
        final Thread errPump = new Thread(() ->
        {
            try
            {
                process.getErrorStream().transferTo(err);
            }
            catch (final IOException ignore)
            {
                // Process gone.
            }
        });
        errPump.start();
        if (!process.waitFor(timeoutSeconds, TimeUnit.SECONDS))
        {
            process.descendants().forEach(ProcessHandle::destroyForcibly);
            process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            throw new AssertionError("script did not finish in " + timeoutSeconds + " s: " + script);
        }
        pump.join(10_000);
        errPump.join(10_000);
        return new Shell(process.exitValue(), out.toString(StandardCharsets.UTF_8),
            err.toString(StandardCharsets.UTF_8));
    }

    /**
     * Fail unless the script succeeded.
     *
     * @return this.
     */
    public Shell assertSuccess()
    {
        if (0 != exitCode)
        {
            throw new AssertionError("exit " + exitCode + "\nstdout: " + tail(stdout) + "\nstderr: " + tail(stderr));
        }
        return this;
    }

    private static String tail(final String s)
    {
        return s.length() > 4000 ? "..." + s.substring(s.length() - 4000) : s;
    }
}
