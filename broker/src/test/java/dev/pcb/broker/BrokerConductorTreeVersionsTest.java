package dev.pcb.broker;

import dev.pcb.broker.ConductorHarness.Answer;
import dev.pcb.broker.ConductorHarness.Client;
import dev.pcb.layout.CounterType;
import dev.pcb.layout.CountersSnapshot;
import dev.pcb.layout.DataRegionDescriptor;
import dev.pcb.layout.RunDirectory;
import dev.pcb.nativeshim.Linux;
import dev.pcb.nativeshim.StatxResult;
import dev.pcb.protocol.AcquiredResponse;
import dev.pcb.protocol.AdvanceMessage;
import dev.pcb.protocol.AttachedResponse;
import dev.pcb.protocol.ErrorCode;
import dev.pcb.protocol.FileAttributes;
import dev.pcb.protocol.MessageType;
import dev.pcb.protocol.StatResponse;
import dev.pcb.protocol.TreeIdentity;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static dev.pcb.broker.ConductorHarness.WINDOW;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
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

    /**
     * A session attached to releases/1, which holds f of 10 bytes, and a releases/2 made beside it, not yet current.
     */
    private Session sessionOnFirstVersion() throws IOException
    {
        start();
        harness.file("f", 10);
        final Client client = harness.new Client(0, 0, 0x77);
        client.claim();
        final TreeIdentity held = attachedIdentity(client.attach());
        harness.versionDir("2");
        return new Session(client, held);
    }

    private record Session(Client client, TreeIdentity held)
    {
    }

    private static TreeIdentity attachedIdentity(final Answer answer)
    {
        assertEquals(MessageType.ATTACHED, answer.type(), answer::toString);
        final AttachedResponse attached = new AttachedResponse();
        attached.wrap(answer.buffer(), 0);
        final AttachedResponse.ShareInfo info = new AttachedResponse.ShareInfo();
        final int end = attached.getShare(AttachedResponse.SHARES_OFFSET, answer.length(), info);
        assertEquals(answer.length(), attached.getIdentity(end, answer.length(), info));
        return info.identity();
    }

    /** @return the version number and identity an ADVANCED answers. */
    private static TreeIdentity advanced(final Answer answer, final long expectedNumber)
    {
        assertEquals(MessageType.ADVANCED, answer.type(), answer::toString);
        final AdvanceMessage advanced = new AdvanceMessage();
        advanced.wrap(answer.buffer(), 0);
        assertEquals(expectedNumber, advanced.treeVersion(), "version number");
        return advanced.identity(answer.length());
    }

    /** @return the identity the broker would give that directory: statx's device and inode. */
    private static TreeIdentity identityOf(final Path dir, final String path) throws IOException
    {
        final StatxResult stat = new StatxResult();
        final int fd = Linux.openDirectory(dir.toString());
        try
        {
            Linux.fstat(fd, stat);
        }
        finally
        {
            Linux.close(fd);
        }
        return new TreeIdentity(stat.device(), stat.inode(), path);
    }

    private static long inode(final Path path) throws IOException
    {
        return ((Number)Files.getAttribute(path, "unix:ino")).longValue();
    }

    @Test
    void attachedAndAdvancedNameTheVersionDirectoryByPathAndInode() throws IOException
    {
        start();
        final Client client = harness.new Client(0, 0, 0x77);
        client.claim();
        final TreeIdentity first = attachedIdentity(client.attach());
        assertEquals("releases/1", first.path());
        assertEquals(inode(harness.dir().resolve("releases/1")), first.inode());
        harness.versionDir("2");
        harness.flip("releases/2");
        final AdvanceMessage advance = new AdvanceMessage();
        advance.wrap(client.record(), 0);
        advance.shareId(harness.share().id());
        client.send(MessageType.ADVANCE, AdvanceMessage.LENGTH);
        final TreeIdentity second = advanced(client.answer(), 2);
        assertEquals("releases/2", second.path());
        assertEquals(inode(harness.dir().resolve("releases/2")), second.inode());
        assertEquals(first.device(), second.device());
    }

    @Test
    void aRestartedBrokerPutsAResumingSessionBackOnTheVersionItHeld() throws IOException
    {
        final Session session = sessionOnFirstVersion();
        final Client client = session.client();
        final TreeIdentity held = session.held();
        harness.file("f", 20);
        harness.flip("releases/2");

        harness.restart();
        client.heartbeat();
        client.rebind();
        assertEquals("releases/2", attachedIdentity(client.attach()).path(), "attached to the current version");
        assertEquals(held, advanced(client.resume(held), 2), "back on releases/1, numbered after the current 1");
        assertEquals(10, size(client, "f"), "resolves beneath releases/1 again");
        assertEquals(1, newest(), "the newest version is still the current one");

        final Client other = harness.new Client(0, 1, 0x78);
        other.claim();
        other.attach();
        assertEquals(held, advanced(other.resume(held), 2), "a second session shares the version served again");
        assertEquals(2, harness.share().tree().versions().size());

        final String report = versionsFile();
        assertTrue(report.contains("version 2 sessions 2 handles 0 used "), report);
        assertTrue(report.contains(harness.dir().resolve("releases/1").toRealPath().toString()), report);
    }

    @Test
    void aResumeOfARemovedVersionLeavesTheSessionOnTheCurrentOne() throws IOException
    {
        final Session session = sessionOnFirstVersion();
        final Client client = session.client();
        final TreeIdentity held = session.held();
        harness.file("f", 20);
        harness.flip("releases/2");
        harness.restart();
        Files.delete(harness.dir().resolve("releases/1/f"));
        Files.delete(harness.dir().resolve("releases/1"));

        client.heartbeat();
        client.rebind();
        final TreeIdentity current = attachedIdentity(client.attach());
        assertEquals(current, advanced(client.resume(held), 1));
        assertEquals(20, size(client, "f"));
        assertEquals(1, harness.share().tree().versions().size(), "nothing served for the removed directory");
    }

    @Test
    void aDirectoryMadeAgainUnderTheSameNameIsNotTheVersionHeld() throws IOException
    {
        final Session session = sessionOnFirstVersion();
        final Client client = session.client();
        final TreeIdentity held = session.held();
        harness.flip("releases/2");
        harness.restart();
        final Path first = harness.dir().resolve("releases/1");
        Files.delete(first.resolve("f"));
        final Path moved = Files.move(first, harness.dir().resolve("old-1"));
        Files.createDirectory(first);
        Files.writeString(first.resolve("f"), "another tree");
        assertFalse(inode(first) == held.inode(), "the test needs a new inode");

        client.heartbeat();
        client.rebind();
        client.attach();
        assertEquals("releases/2", advanced(client.resume(held), 1).path());
        assertEquals(ErrorCode.NO_SUCH_FILE, client.request(MessageType.STAT, "f").error().code());
        Files.delete(moved);
    }

    @Test
    void aResumeNamingADirectoryOutsideTheLinksDirectoryIsRefused() throws IOException
    {
        start();
        harness.file("f", 10);
        final Client client = harness.attachedClient(0, 0);
        final String name = harness.dir().getFileName() + "-outside";
        final Path outside = Files.createDirectories(harness.dir().getParent().resolve(name));
        try
        {
            final TreeIdentity climbing = identityOf(outside, "../" + name);
            final TreeIdentity absolute = identityOf(outside, outside.toString());
            final TreeIdentity parent = identityOf(harness.dir(), ".");
            assertEquals("releases/1", advanced(client.resume(climbing), 1).path());
            assertEquals("releases/1", advanced(client.resume(absolute), 1).path());
            assertEquals("releases/1", advanced(client.resume(parent), 1).path());
        }
        finally
        {
            Files.delete(outside);
        }
        assertEquals(10, size(client, "f"));
        assertEquals(1, harness.share().tree().versions().size());
    }

    @Test
    void aResumeWithAPathPastItsRecordIsMalformed() throws IOException
    {
        start();
        final Client client = harness.attachedClient(0, 0);
        final AdvanceMessage resume = new AdvanceMessage();
        resume.wrap(client.record(), 0);
        resume.shareId(harness.share().id());
        final int length = resume.identity(new TreeIdentity(1, 2, "releases/1"));
        client.send(MessageType.RESUME, length - 1);
        assertEquals(ErrorCode.MALFORMED, client.answer().error().code());
    }
}
