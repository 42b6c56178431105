package dev.pcb.broker;

import dev.pcb.broker.ConductorHarness.Answer;
import dev.pcb.broker.ConductorHarness.Client;
import dev.pcb.layout.CounterType;
import dev.pcb.layout.CountersSnapshot;
import dev.pcb.layout.DataRegionDescriptor;
import dev.pcb.layout.RunDirectory;
import dev.pcb.protocol.AcquiredResponse;
import dev.pcb.protocol.AttachedResponse;
import dev.pcb.protocol.ErrorCode;
import dev.pcb.protocol.FileAttributes;
import dev.pcb.protocol.MessageType;
import dev.pcb.protocol.StatResponse;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static dev.pcb.broker.ConductorHarness.WINDOW;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Tree versions (docs/versions.md) in the conductor, driven through its real rings: the share is the link
 * {@code current} to {@code releases/N}, flipped by rename as a publisher does, read by the real watcher code.
 */
class BrokerConductorTreeVersionsTest
{
    private ConductorHarness harness;

    @AfterEach
    void tearDown()
    {
        if (null != harness)
        {
            harness.close();
        }
    }

    private ConductorHarness start() throws IOException
    {
        harness = new ConductorHarness((c) -> { }, true);
        return harness;
    }

    private static long size(final Client client, final String path)
    {
        final Answer stat = client.request(MessageType.STAT, path);
        assertEquals(MessageType.STAT_RESULT, stat.type(), stat::toString);
        final StatResponse response = new StatResponse();
        response.wrap(stat.buffer(), 0);
        return response.getAttributes(new FileAttributes()).size();
    }

    private long newest()
    {
        return DataRegionDescriptor.newestTreeVersion(harness.share().region().header());
    }

    private String versionsFile() throws IOException
    {
        harness.publishVersions();
        return Files.readString(RunDirectory.versionsFile(harness.config().runDir(), "data"));
    }

    @Test
    void aFlipIsPublishedAndOnlyNewSessionsOrAnAdvanceSeeIt() throws IOException
    {
        start();
        harness.file("f", 10);
        final Client old = harness.attachedClient(0, 0);
        assertEquals(1, newest());

        harness.versionDir("2");
        harness.file("f", 20);
        harness.file("g", 5);
        harness.flip("releases/2");
        assertEquals(2, newest(), "newest version published in the superblock");

        assertEquals(10, size(old, "f"), "a session keeps resolving beneath its version");
        assertEquals(ErrorCode.NO_SUCH_FILE, old.request(MessageType.STAT, "g").error().code());
        final Client fresh = harness.attachedClient(1, 0);
        assertEquals(20, size(fresh, "f"), "a new session starts on the newest version");

        assertEquals(2, old.advance());
        assertEquals(20, size(old, "f"));
        assertEquals(5, size(old, "g"));
    }

    @Test
    void attachedAnswersTheVersionTheSessionStartsOn() throws IOException
    {
        start();
        harness.versionDir("2");
        harness.flip("releases/2");
        final Client client = harness.new Client(0, 0, 0x77);
        client.claim();
        final Answer answer = client.attach();
        assertEquals(MessageType.ATTACHED, answer.type(), answer::toString);
        final AttachedResponse attached = new AttachedResponse();
        attached.wrap(answer.buffer(), 0);
        final AttachedResponse.ShareInfo info = new AttachedResponse.ShareInfo();
        attached.getShare(AttachedResponse.SHARES_OFFSET, answer.length(), info);
        assertEquals(2, info.treeVersion());
    }

    @Test
    void aFileOpenedBeforeAnAdvanceKeepsItsVersion() throws IOException
    {
        start();
        harness.file("f", 10);
        final Client client = harness.attachedClient(0, 0);
        final long handle = client.open("f");
        harness.versionDir("2");
        harness.file("f", 3 * WINDOW);
        harness.flip("releases/2");
        assertEquals(2, client.advance());

        client.acquire(handle, 0);
        harness.runFills();
        final Answer answer = client.answer();
        assertEquals(MessageType.ACQUIRED, answer.type(), answer::toString);
        final AcquiredResponse acquired = new AcquiredResponse();
        acquired.wrap(answer.buffer(), 0);
        assertEquals(10, acquired.length(), "the old handle reads the old file");
        assertEquals(3L * WINDOW, size(client, "f"));
    }

    @Test
    void badFlipsKeepTheVersionAndAreCounted() throws IOException
    {
        start();
        harness.file("f", 10);
        final Client client = harness.attachedClient(0, 0);
        final Path outside = Files.createDirectories(harness.dir().getParent().resolve(
            harness.dir().getFileName() + "-outside"));
        try
        {
            harness.flip(outside.toString());
            harness.flip("releases/missing");
            Files.writeString(harness.dir().resolve("releases").resolve("plain"), "x");
            harness.flip("releases/plain");
        }
        finally
        {
            Files.delete(outside);
        }
        assertEquals(1, newest());
        assertEquals(1, harness.share().tree().current().number());
        assertEquals(3, harness.share().tree().badFlips());
        assertEquals(10, size(client, "f"));
        assertEquals(10, size(harness.attachedClient(1, 0), "f"), "new sessions get the version still current");
        assertTrue(versionsFile().contains("bad-flips 3\n"));
        final CountersSnapshot counters = CountersSnapshot.read(harness.config().runDir());
        assertEquals(3, counters.value(CounterType.TREE_BAD_FLIPS, "data"));
        assertEquals(1, counters.value(CounterType.TREE_VERSIONS_IN_USE, "data"));
    }

    @Test
    void aVersionIsUnusedOnceItsLastSessionAndHandleGo() throws IOException
    {
        start();
        harness.file("f", 10);
        final Client client = harness.attachedClient(0, 0);
        final long handle = client.open("f");
        harness.versionDir("2");
        harness.flip("releases/2");
        final TreeVersion first = harness.share().tree().version(1);

        String report = versionsFile();
        assertTrue(report.contains("version 1 sessions 1 handles 1 used "), report);
        assertTrue(report.contains("user 1 guest g1 slot 0 pid 4242 session yes handles 1"), report);

        client.advance();
        report = versionsFile();
        final CountersSnapshot counters = CountersSnapshot.read(harness.config().runDir());
        assertEquals(1, counters.value(CounterType.TREE_ADVANCES, "data"));
        assertEquals(2, counters.value(CounterType.TREE_VERSIONS_IN_USE, "data"), "current, and one still read");
        assertTrue(report.contains("version 1 sessions 0 handles 1 used "), report);
        assertTrue(report.contains("user 1 guest g1 slot 0 pid 4242 session no handles 1"), report);
        assertTrue(first.rootFd() >= 0);

        client.close(handle);
        report = versionsFile();
        assertTrue(report.contains("version 1 sessions 0 handles 0 unused "), report);
        assertTrue(report.contains("version 2 sessions 1 handles 0 current "), report);
        assertEquals(-1, first.rootFd(), "an unused old version's descriptor is closed");

        client.leave();
        assertTrue(versionsFile().contains("version 2 sessions 0 handles 0 current "));
    }

    @Test
    void aVersionRemovedOnTheHostStaysReadableToItsSessions() throws IOException
    {
        start();
        harness.file("f", 10);
        final Client client = harness.attachedClient(0, 0);
        harness.versionDir("2");
        harness.file("f", 20);
        harness.flip("releases/2");
        Files.move(harness.dir().resolve("releases").resolve("1"), harness.dir().resolve("gone"));
        assertEquals(10, size(client, "f"));
        final long handle = client.open("f");
        client.acquire(handle, 0);
        harness.runFills();
        assertEquals(MessageType.ACQUIRED, client.answer().type());
        assertEquals(20, size(harness.attachedClient(1, 0), "f"));
    }
}
