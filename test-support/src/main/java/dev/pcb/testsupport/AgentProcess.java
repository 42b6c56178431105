package dev.pcb.testsupport;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * One {@code pcb agent} command run to completion in its own JVM, with stdout kept as bytes.
 *
 * @param exitCode exit code.
 * @param stdout   standard output, raw.
 * @param stderr   standard error, as text.
 */
public record AgentProcess(int exitCode, byte[] stdout, String stderr)
{
    /**
     * Run {@code pcb agent --run-dir DIR --guest GUEST ARGS} and wait up to 120 s.
     *
     * @param broker the broker.
     * @param guest  guest name.
     * @param args   subcommand and its arguments.
     * @return what it did.
     * @throws Exception on timeout or I/O failure.
     */
    public static AgentProcess run(final BrokerProcess broker, final String guest, final String... args)
        throws Exception
    {
        return await(start(broker, guest, args));
    }

    /**
     * Start one without waiting.
     *
     * @param broker the broker.
     * @param guest  guest name.
     * @param args   subcommand and its arguments.
     * @return the process.
     * @throws IOException when it cannot start.
     */
    public static Process start(final BrokerProcess broker, final String guest, final String... args)
        throws IOException
    {
        final List<String> all = new ArrayList<>(
            List.of("agent", "--run-dir", broker.runDir().toString(), "--guest", guest, "--timeout", "20"));
        all.addAll(List.of(args));
        return JavaProcess.pcb(all.toArray(new String[0])).start();
    }

    /**
     * Wait for a started agent and collect its output.
     *
     * @param process a started agent.
     * @return what it did.
     * @throws Exception on timeout or I/O failure.
     */
    public static AgentProcess await(final Process process) throws Exception
    {
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
        final String err = new String(process.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!process.waitFor(120, TimeUnit.SECONDS))
        {
            process.destroyForcibly();
            throw new IllegalStateException("agent did not finish in 120 s; stderr: " + err);
        }
        pump.join(10_000);
        return new AgentProcess(process.exitValue(), out.toByteArray(), err);
    }

    /** @return stdout as UTF-8 text. */
    public String stdoutText()
    {
        return new String(stdout, StandardCharsets.UTF_8);
    }
}
