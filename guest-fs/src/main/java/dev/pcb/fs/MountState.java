package dev.pcb.fs;

import dev.pcb.nativeshim.Linux;

import java.io.IOException;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The state file of a running {@code pcb mount}: how {@code pcb mount --advance MOUNTPOINT} finds the mount process
 * and learns that its advance is done, and where an operator reads which tree version a mount shows. One file per
 * mount point in {@link #directory()}, named after the mount point, rewritten whole (a temporary file renamed over it)
 * by the mount's advancing thread only:
 * <pre>
 * pid 4242
 * started 1764638400123        the process's start time, ms since the epoch: a reused pid is told apart
 * mountpoint /mnt/pcb/usr
 * share usr
 * version 5                    the tree version the mount shows
 * advances 3                   advances done since the mount started (each ADVANCE asked, changed or not)
 * failures 0                   advances that failed (the broker refused or did not answer; logged)
 * state serving                or "advancing" while one runs
 * </pre>
 * Removed when the mount ends cleanly; a file left by a killed mount names a process that is gone.
 */
public final class MountState
{
    private final Path file;
    private final Map<String, String> fixed;

    /**
     * The state of this process's mount.
     *
     * @param mountPoint the mount point.
     * @param share      the share mounted.
     * @throws IOException when the mount point's directory cannot be resolved.
     */
    public MountState(final Path mountPoint, final String share) throws IOException
    {
        final ProcessHandle self = ProcessHandle.current();
        this.file = fileOf(mountPoint);
        this.fixed = new LinkedHashMap<>();
        fixed.put("pid", Long.toString(self.pid()));
        fixed.put("started", Long.toString(self.info().startInstant().map((i) -> i.toEpochMilli()).orElse(0L)));
        fixed.put("mountpoint", canonical(mountPoint).toString());
        fixed.put("share", share);
    }

    /** @return the file. */
    public Path file()
    {
        return file;
    }

    /**
     * Write the file anew.
     *
     * @param version   the tree version the mount shows.
     * @param advances  advances done.
     * @param failures  advances failed.
     * @param advancing true while an advance runs.
     * @throws IOException when it cannot be written.
     */
    public void write(final long version, final long advances, final long failures, final boolean advancing)
        throws IOException
    {
        final StringBuilder text = new StringBuilder();
        fixed.forEach((k, v) -> text.append(k).append(' ').append(v).append('\n'));
        text.append("version ").append(version).append('\n')
            .append("advances ").append(advances).append('\n')
            .append("failures ").append(failures).append('\n')
            .append("state ").append(advancing ? "advancing" : "serving").append('\n');
        Files.createDirectories(file.getParent());
        final Path tmp = file.resolveSibling("." + file.getFileName() + "." + fixed.get("pid") + ".tmp");
        Files.writeString(tmp, text);
        try
        {
            Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        }
        catch (final AtomicMoveNotSupportedException ex)
        {
            Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING);
        }
    }

    /** Remove the file, if it is still this process's. */
    public void delete()
    {
        try
        {
            final Snapshot now = read(file);
            if (null != now && Long.toString(now.pid()).equals(fixed.get("pid")))
            {
                Files.deleteIfExists(file);
            }
        }
        catch (final IOException ignore)
        {
            // Best effort: a file left behind names a process that is gone, which readers check.
        }
    }

    /**
     * Where state files live: {@code /run/pcb/mounts} for root, else {@code $XDG_RUNTIME_DIR/pcb/mounts}, else
     * {@code /tmp/pcb-mounts-UID}.
     *
     * @return the directory.
     */
    public static Path directory()
    {
        final int uid = Linux.getuid();
        if (0 == uid)
        {
            return Path.of("/run/pcb/mounts");
        }
        final String runtime = System.getenv("XDG_RUNTIME_DIR");
        return null != runtime && !runtime.isEmpty() ? Path.of(runtime, "pcb", "mounts") :
            Path.of("/tmp", "pcb-mounts-" + uid);
    }

    /**
     * The state file of a mount point: its canonical path, URL-encoded ({@code %2Fmnt%2Fpcb%2Fusr}), or a hash of it
     * when that would be too long a name.
     *
     * @param mountPoint the mount point, as given.
     * @return the file.
     * @throws IOException when the mount point's parent cannot be resolved.
     */
    public static Path fileOf(final Path mountPoint) throws IOException
    {
        final String path = canonical(mountPoint).toString();
        String name = URLEncoder.encode(path, StandardCharsets.UTF_8);
        if (name.length() > 200)
        {
            try
            {
                name = "sha256-" + HexFormat.of().formatHex(
                    MessageDigest.getInstance("SHA-256").digest(path.getBytes(StandardCharsets.UTF_8)));
            }
            catch (final NoSuchAlgorithmException ex)
            {
                throw new IllegalStateException(ex);
            }
        }
        return directory().resolve(name + ".state");
    }

    /**
     * The mount point with its parent resolved (symbolic links, ".."): the mount point itself is not touched, so
     * this works on a mount that no longer answers.
     */
    private static Path canonical(final Path mountPoint) throws IOException
    {
        final Path absolute = mountPoint.toAbsolutePath().normalize();
        final Path parent = absolute.getParent();
        return null == parent ? absolute : parent.toRealPath().resolve(absolute.getFileName());
    }

    /**
     * Read a state file.
     *
     * @param file the file.
     * @return what it says, or null when there is none.
     * @throws IOException when it cannot be read or makes no sense.
     */
    public static Snapshot read(final Path file) throws IOException
    {
        final String text;
        try
        {
            text = Files.readString(file);
        }
        catch (final NoSuchFileException ex)
        {
            return null;
        }
        final Map<String, String> values = new HashMap<>();
        for (final String line : text.split("\n"))
        {
            final int space = line.indexOf(' ');
            if (space > 0)
            {
                values.put(line.substring(0, space), line.substring(space + 1));
            }
        }
        try
        {
            return new Snapshot(Long.parseLong(values.get("pid")), Long.parseLong(values.get("started")),
                values.get("mountpoint"), values.get("share"), Long.parseLong(values.get("version")),
                Long.parseLong(values.get("advances")), Long.parseLong(values.get("failures")),
                "advancing".equals(values.get("state")));
        }
        catch (final RuntimeException ex)
        {
            throw new IOException(file + ": not a pcb mount state file (" + ex + ")", ex);
        }
    }

    /**
     * What a state file says.
     *
     * @param pid        the mount process.
     * @param started    its start time, ms since the epoch (0 when unknown).
     * @param mountPoint the mount point.
     * @param share      the share.
     * @param version    the tree version it shows.
     * @param advances   advances done.
     * @param failures   advances failed.
     * @param advancing  whether one runs now.
     */
    public record Snapshot(long pid, long started, String mountPoint, String share, long version, long advances,
        long failures, boolean advancing)
    {
        /** @return whether the process that wrote it still runs (and is the same process, not a reused pid). */
        public boolean alive()
        {
            return ProcessHandle.of(pid).filter((p) -> 0 == started ||
                p.info().startInstant().map((i) -> i.toEpochMilli() == started).orElse(true)).isPresent();
        }
    }
}
