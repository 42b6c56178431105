package dev.pcb.broker;

import dev.pcb.nativeshim.StatxResult;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

/**
 * The catalog over a real share directory: however a guest spells a path, the catalog keeps no more entries than
 * there are live versions.
 */
class CatalogTest
{
    private static final int ALIAS_OPENS = 100_000;
    private static final int SPELLINGS_PER_SIDE = 317;

    @TempDir
    Path shareDir;

    private Path regionFile;
    private Share share;
    private Catalog catalog;
    private final StatxResult stat = new StatxResult();

    @BeforeEach
    void setUp() throws Exception
    {
        Files.createDirectories(shareDir.resolve("d"));
        Files.writeString(shareDir.resolve("d/f"), "alias target\n");
        Files.writeString(shareDir.resolve("other"), "held open\n");
        regionFile = Files.createTempFile(Path.of("/dev/shm"), "pcb-catalog", ".data");
        Files.delete(regionFile);
        final AtomicLong ids = new AtomicLong();
        share = new Share(1, "data", shareDir, new DataRegion(regionFile, 1 << 20, 64 * 1024, 1, 1, "data"),
            ids::incrementAndGet);
        catalog = share.catalog();
    }

    @AfterEach
    void tearDown() throws Exception
    {
        share.close();
        Files.deleteIfExists(regionFile);
    }

    @Test
    void aHundredThousandAliasOpensAndClosesLeaveOnlyTheLiveVersions() throws Exception
    {
        final FileVersion other = open("other");
        // Another reader keeps d/f live through the aliases, as cached windows or a second guest would.
        final FileVersion target = open("d/f");
        for (int i = 0; i < ALIAS_OPENS; i++)
        {
            // Every spelling distinct: i is written as how many "./" come before and after "d/".
            final String path = "./".repeat(i % SPELLINGS_PER_SIDE) + "d/" +
                "./".repeat(i / SPELLINGS_PER_SIDE) + "f";
            final FileVersion version = open(path);
            assertSame(target, version);
            close(version);
        }
        assertEquals(2, catalog.versionCount());
        assertEquals(2, catalog.pathCount(), "one path entry per live version, whatever the spellings");

        close(target);
        assertEquals(1, catalog.versionCount(), "only the version still open is live");
        assertEquals(1, catalog.pathCount(), "no spelling of a forgotten version is left behind");
        assertSame(other, open("./other"), "an alias finds the live version");
        other.removeHandle();
    }

    @Test
    void aliasesOfAVersionThatStaysLiveAddNoEntries() throws Exception
    {
        final FileVersion version = open("d/f");
        for (int i = 1; i < 1_000; i++)
        {
            assertSame(version, open("./".repeat(i) + "d/./f"));
        }
        assertEquals(1, catalog.versionCount());
        assertEquals(1, catalog.pathCount());
    }

    @Test
    void canonicalSpellingDropsDotAndEmptyComponents()
    {
        assertEquals("a/b", Catalog.canonicalPath("./a//b/."));
        assertEquals("a/b", Catalog.canonicalPath("a/b"));
        assertEquals("a/.hidden", Catalog.canonicalPath("a/./.hidden"));
        assertEquals(".", Catalog.canonicalPath("./"));
        assertEquals("", Catalog.canonicalPath(""));
    }

    private FileVersion open(final String path) throws RequestException
    {
        // What an OPEN does: resolved on a metadata worker, registered on the conductor.
        final int fd = Catalog.resolve(share, share.tree().current().rootFd(), path, stat);
        final FileVersion version = catalog.register(path, fd, stat);
        version.addHandle();
        return version;
    }

    private void close(final FileVersion version)
    {
        // What the conductor does when a guest closes the version's last handle.
        catalog.lastHandleClosing(version);
        version.removeHandle();
        catalog.forgetIfUnused(version);
    }
}
