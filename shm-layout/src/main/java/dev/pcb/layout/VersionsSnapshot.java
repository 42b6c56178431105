package dev.pcb.layout;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A share's tree versions as the broker last published them in {@code versions-SHARE} (docs/versions.md): what
 * {@code pcb versions} and a host's publish script read, without talking to the broker.
 *
 * @param epoch      epoch of the broker that wrote it.
 * @param share      share name.
 * @param link       the configured link; null for a plain directory share.
 * @param current    number of the version new sessions start on.
 * @param advances   ADVANCE requests answered.
 * @param badFlips   flips refused (link outside its directory, to a non-directory, or nowhere).
 * @param inUse      versions current or still used.
 * @param versions   every version served since the broker started, oldest first.
 */
public record VersionsSnapshot(
    long epoch, String share, String link, long current, long advances, long badFlips, long inUse,
    List<Version> versions)
{
    /**
     * One version directory.
     *
     * @param number   version number.
     * @param sessions client sessions on it.
     * @param handles  files open under it.
     * @param state    {@code current}, {@code used} or {@code unused}.
     * @param path     the directory's real path.
     * @param users    the clients on it.
     */
    public record Version(long number, int sessions, int handles, String state, String path, List<User> users)
    {
        /** @return true when no session and no handle is on it and it is not current. */
        public boolean isUnused()
        {
            return "unused".equals(state);
        }
    }

    /**
     * A client on a version.
     *
     * @param guest   guest name.
     * @param slot    client slot.
     * @param pid     process id as the client gave it (in its guest).
     * @param session true when its session is on the version (else only its handles).
     * @param handles files it has open under the version.
     */
    public record User(String guest, int slot, int pid, boolean session, int handles)
    {
    }

    /**
     * Read the file of one share.
     *
     * @param runDir the broker's run directory.
     * @param share  share name.
     * @return the snapshot.
     * @throws IOException when the file is missing (the share is not served, or the broker has not written it yet)
     *                     or malformed.
     */
    public static VersionsSnapshot read(final Path runDir, final String share) throws IOException
    {
        return parse(Files.readString(RunDirectory.versionsFile(runDir, share), StandardCharsets.UTF_8));
    }

    /**
     * The shares that have a versions file in the run directory, sorted.
     *
     * @param runDir the broker's run directory.
     * @return share names.
     * @throws IOException when the directory cannot be read.
     */
    public static List<String> shares(final Path runDir) throws IOException
    {
        final List<String> names = new ArrayList<>();
        try (var files = Files.list(runDir))
        {
            files.map((p) -> p.getFileName().toString())
                .filter((n) -> n.startsWith("versions-") && !n.endsWith(".tmp"))
                .map((n) -> n.substring("versions-".length()))
                .sorted()
                .forEach(names::add);
        }
        return names;
    }

    static VersionsSnapshot parse(final String text) throws IOException
    {
        long epoch = 0;
        String share = null;
        String link = null;
        long current = 0;
        long advances = 0;
        long badFlips = 0;
        long inUse = 0;
        final List<Version> versions = new ArrayList<>();
        List<User> users = null;
        for (final String line : text.split("\n"))
        {
            final String[] f = line.split(" ", 2);
            if (f.length < 2)
            {
                continue;
            }
            try
            {
                switch (f[0])
                {
                    case "epoch" -> epoch = Long.parseLong(f[1]);
                    case "share" -> share = f[1];
                    case "link" -> link = f[1];
                    case "current" -> current = Long.parseLong(f[1]);
                    case "advances" -> advances = Long.parseLong(f[1]);
                    case "bad-flips" -> badFlips = Long.parseLong(f[1]);
                    case "in-use" -> inUse = Long.parseLong(f[1]);
                    case "version" ->
                    {
                        // version N sessions S handles H STATE PATH
                        final String[] v = line.split(" ", 8);
                        users = new ArrayList<>();
                        versions.add(new Version(Long.parseLong(v[1]), Integer.parseInt(v[3]), Integer.parseInt(v[5]),
                            v[6], v[7], users));
                    }
                    case "user" ->
                    {
                        // user N guest G slot S pid P session yes|no handles H
                        final String[] u = line.split(" ");
                        if (null == users)
                        {
                            throw new IOException("user line before any version line");
                        }
                        users.add(new User(u[3], Integer.parseInt(u[5]), Integer.parseInt(u[7]), "yes".equals(u[9]),
                            Integer.parseInt(u[11])));
                    }
                    default ->
                    {
                        // A field a newer broker added: skipped.
                    }
                }
            }
            catch (final RuntimeException ex)
            {
                throw new IOException("malformed versions file line \"" + line + "\": " + ex);
            }
        }
        if (null == share)
        {
            throw new IOException("malformed versions file: no share line");
        }
        return new VersionsSnapshot(epoch, share, link, current, advances, badFlips, inUse, versions);
    }
}
