package dev.pcb.testsupport;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A child process a test talks to in lines: commands written to its stdin, its stdout and stderr (merged) read on a
 * daemon thread, so it never blocks on a full pipe, and waited for line by line with a bound. Closing kills it.
 */
public final class LineProcess implements AutoCloseable
{
    private final String name;
    private final Process process;
    private final LinkedBlockingQueue<String> lines = new LinkedBlockingQueue<>();
    private final StringBuffer output = new StringBuffer();

    private LineProcess(final String name, final Process process)
    {
        this.name = name;
        this.process = process;
    }

    /**
     * Start a main class in a JVM like this one ({@link JavaProcess#javaCommand}).
     *
     * @param name      for messages.
     * @param mainClass class with a main method.
     * @param args      its arguments.
     * @return the running process.
     * @throws IOException when it cannot start.
     */
    public static LineProcess start(final String name, final String mainClass, final String... args)
        throws IOException
    {
        return start(name, JavaProcess.javaCommand(mainClass, args));
    }

    /**
     * Start any command.
     *
     * @param name    for messages.
     * @param command the command line.
     * @return the running process.
     * @throws IOException when it cannot start.
     */
    public static LineProcess start(final String name, final List<String> command) throws IOException
    {
        final LineProcess child = new LineProcess(name, new ProcessBuilder(command).redirectErrorStream(true).start());
        final Thread reader = new Thread(child::read, name + "-output");
        reader.setDaemon(true);
        reader.start();
        return child;
    }

    private void read()
    {
        try (BufferedReader in = new BufferedReader(
            new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8)))
        {
            String line;
            while (null != (line = in.readLine()))
            {
                output.append(line).append('\n');
                lines.add(line);
            }
        }
        catch (final IOException ignore)
        {
            // The process is gone: what it printed is kept.
        }
    }

    /**
     * Write one line to its stdin.
     *
     * @param line the command, without the newline.
     * @throws IOException when it has exited.
     */
    public void send(final String line) throws IOException
    {
        final OutputStream in = process.getOutputStream();
        in.write((line + "\n").getBytes(StandardCharsets.UTF_8));
        in.flush();
    }

    /**
     * The next line that starts with {@code prefix}, skipping the others (they stay in {@link #output()}).
     *
     * @param prefix    what the line starts with.
     * @param timeoutMs how long to wait at most.
     * @return the line, or null when none came in time.
     * @throws InterruptedException if interrupted.
     */
    public String awaitLine(final String prefix, final long timeoutMs) throws InterruptedException
    {
        final long deadlineNs = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
        while (true)
        {
            final long leftNs = deadlineNs - System.nanoTime();
            final String line = leftNs > 0 ? lines.poll(leftNs, TimeUnit.NANOSECONDS) : null;
            if (null == line || line.startsWith(prefix))
            {
                return line;
            }
        }
    }

    /**
     * Like {@link #awaitLine}, but the line must come.
     *
     * @param prefix    what the line starts with.
     * @param timeoutMs how long to wait at most.
     * @return the line.
     * @throws IOException when it did not come in time; the message carries everything the process printed.
     * @throws InterruptedException if interrupted.
     */
    public String requireLine(final String prefix, final long timeoutMs) throws IOException, InterruptedException
    {
        final String line = awaitLine(prefix, timeoutMs);
        if (null == line)
        {
            throw new IOException(name + " printed no \"" + prefix + "\" line in " + timeoutMs + " ms" +
                (process.isAlive() ? "" : " (exit " + process.exitValue() + ")") + ":\n" + output);
        }
        return line;
    }

    /** @return everything it printed so far. */
    public String output()
    {
        return output.toString();
    }

    /** @return the process. */
    public Process process()
    {
        return process;
    }

    /**
     * Wait for it to exit by itself.
     *
     * @param timeoutMs how long at most.
     * @return its exit code.
     * @throws IOException when it is still running then (it is killed).
     * @throws InterruptedException if interrupted.
     */
    public int awaitExit(final long timeoutMs) throws IOException, InterruptedException
    {
        if (!process.waitFor(timeoutMs, TimeUnit.MILLISECONDS))
        {
            close();
            throw new IOException(name + " still running after " + timeoutMs + " ms:\n" + output);
        }
        return process.exitValue();
    }

    /** Kill it, if running, and wait (bounded). */
    public void close()
    {
        process.destroyForcibly();
        try
        {
            process.waitFor(10, TimeUnit.SECONDS);
        }
        catch (final InterruptedException ex)
        {
            Thread.currentThread().interrupt();
        }
    }
}
