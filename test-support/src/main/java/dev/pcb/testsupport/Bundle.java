package dev.pcb.testsupport;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The release bundle cli's package phase builds ({@code dist/build-bundle.sh}), unpacked for tests, and its
 * {@code bin/pcb} run the way a machine without a JDK runs it: an empty environment whose PATH holds only the few
 * tools the POSIX launcher uses, so neither a host {@code java} nor {@code JAVA_HOME} can be picked up.
 */
public final class Bundle
{
    /** Tools {@code bin/pcb} may use; nothing else is on the PATH of {@link #command(String...)}. */
    public static final List<String> LAUNCHER_TOOLS = List.of("sh", "cat", "dirname", "readlink");

    private final Path home;
    private final Path toolDir;

    private Bundle(final Path home, final Path toolDir)
    {
        this.home = home;
        this.toolDir = toolDir;
    }

    /**
     * The tarball of this build: {@code pcb-VERSION-linux-x86_64.tar.gz}, from the {@code pcb.bundle} property.
     *
     * @return its path.
     * @throws IllegalStateException when it was not built.
     */
    public static Path tarball()
    {
        final Path tarball = Path.of(System.getProperty("pcb.bundle", "target/dist/pcb-linux-x86_64.tar.gz"));
        if (!Files.isRegularFile(tarball))
        {
            throw new IllegalStateException("no release bundle " + tarball +
                ": run after cli's package phase, without -Dpcb.dist.skip=true");
        }
        return tarball.toAbsolutePath();
    }

    /**
     * Unpack the tarball into a fresh directory.
     *
     * @param into an empty or missing directory, outside /tmp when a QEMU guest over the host root must see it.
     * @return the unpacked bundle.
     * @throws IOException          when tar fails.
     * @throws InterruptedException when interrupted.
     */
    public static Bundle unpack(final Path into) throws IOException, InterruptedException
    {
        return unpack(tarball(), into);
    }

    /**
     * Unpack a release bundle tarball into a fresh directory.
     *
     * @param tarball a {@code pcb-VERSION-linux-x86_64.tar.gz}.
     * @param into    an empty or missing directory, outside /tmp when a QEMU guest over the host root must see it.
     * @return the unpacked bundle.
     * @throws IOException          when tar fails.
     * @throws InterruptedException when interrupted.
     */
    public static Bundle unpack(final Path tarball, final Path into) throws IOException, InterruptedException
    {
        Files.createDirectories(into);
        run(List.of("tar", "-xzf", tarball.toString(), "-C", into.toString()), 60);
        final List<Path> tops;
        try (var list = Files.list(into))
        {
            tops = list.filter((p) -> p.getFileName().toString().startsWith("pcb-")).toList();
        }
        if (tops.size() != 1)
        {
            throw new IllegalStateException("the tarball must hold one pcb-VERSION directory: " + tops);
        }

        final Path toolDir = Files.createDirectories(into.resolve("tools"));
        for (final String tool : LAUNCHER_TOOLS)
        {
            Files.createSymbolicLink(toolDir.resolve(tool), Path.of("/bin", tool).toRealPath());
        }
        return new Bundle(tops.get(0), toolDir);
    }

    /**
     * The unpacked {@code pcb-VERSION} directory.
     *
     * @return its path.
     */
    public Path home()
    {
        return home;
    }

    /**
     * {@code bin/pcb ARGS} with an empty environment and a PATH of {@link #LAUNCHER_TOOLS} only.
     *
     * @param args pcb arguments.
     * @return a builder ready to start.
     */
    public ProcessBuilder command(final String... args)
    {
        final List<String> command = new ArrayList<>();
        command.add(home.resolve("bin/pcb").toString());
        command.addAll(List.of(args));
        final ProcessBuilder builder = new ProcessBuilder(command);
        builder.environment().clear();
        builder.environment().put("PATH", toolDir.toString());
        return builder;
    }

    /**
     * Run a command to its end.
     *
     * @param command     the command.
     * @param timeoutSecs bound.
     * @return its output and error, merged.
     * @throws IOException          when it fails or takes too long.
     * @throws InterruptedException when interrupted.
     */
    public static String run(final List<String> command, final int timeoutSecs) throws IOException, InterruptedException
    {
        return run(new ProcessBuilder(command), timeoutSecs);
    }

    /**
     * Run a process to its end.
     *
     * @param builder     the process.
     * @param timeoutSecs bound.
     * @return its output and error, merged.
     * @throws IOException          when it fails or takes too long.
     * @throws InterruptedException when interrupted.
     */
    public static String run(final ProcessBuilder builder, final int timeoutSecs)
        throws IOException, InterruptedException
    {
        final Path out = Files.createTempFile("pcb-run", ".out");
        try
        {
            final Process process = builder.redirectErrorStream(true).redirectOutput(out.toFile()).start();
            if (!process.waitFor(timeoutSecs, TimeUnit.SECONDS))
            {
                process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
                throw new IOException(builder.command() + " took more than " + timeoutSecs + " s:\n" +
                    Files.readString(out, StandardCharsets.UTF_8));
            }
            final String output = Files.readString(out, StandardCharsets.UTF_8);
            if (0 != process.exitValue())
            {
                throw new IOException(builder.command() + " exited " + process.exitValue() + ":\n" + output);
            }
            return output;
        }
        finally
        {
            Files.deleteIfExists(out);
        }
    }
}
