package dev.pcb.protocol;

import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class FlyweightsTest
{
    private final UnsafeBuffer buffer = new UnsafeBuffer(ByteBuffer.allocateDirect(64 * 1024));

    @Test
    void aPathLengthIsReadOnceSoAGuestChangingItAfterTheCheckChangesNothing()
    {
        final PathRequest request = new PathRequest();
        request.wrap(buffer, 0);
        final int length = request.path("a/b");
        final int checked = PathRequest.checkedPathLength(buffer, 0, length);
        assertEquals(3, checked);
        // The guest rewrites the field after the check: the decoder uses the length it checked, not the field.
        buffer.putInt(PathRequest.PATH_LENGTH_OFFSET, Integer.MAX_VALUE);
        assertEquals("a/b", request.path(new byte[PathRequest.MAX_PATH_LENGTH], checked));
        assertEquals(-1, PathRequest.checkedPathLength(buffer, 0, length));
    }

    @Test
    void pathRequestsRoundTripAndRejectLiesAboutTheirLength()
    {
        final PathRequest request = new PathRequest();
        request.wrap(buffer, 16);
        request.correlationId(42);
        request.shareId(3).maxEntries(100).cookie(7);
        final int length = request.path("dir/ünïcode.txt");
        assertTrue(PathRequest.isWellFormed(buffer, 16, length));
        assertEquals("dir/ünïcode.txt", request.path(new byte[PathRequest.MAX_PATH_LENGTH],
            PathRequest.checkedPathLength(buffer, 16, length)));
        assertEquals(42, request.correlationId());
        assertEquals(3, request.shareId());

        assertFalse(PathRequest.isWellFormed(buffer, 16, length - 1), "path runs past the record");
        assertFalse(PathRequest.isWellFormed(buffer, 16, PathRequest.PATH_OFFSET - 1), "no room for the header");
        buffer.putInt(16 + PathRequest.PATH_LENGTH_OFFSET, -5);
        assertFalse(PathRequest.isWellFormed(buffer, 16, length), "negative length");
        assertThrows(IllegalArgumentException.class, () -> request.path("x".repeat(PathRequest.MAX_PATH_LENGTH + 1)));
    }

    @Test
    void attachedAndListEntriesStayInsideTheirRecord()
    {
        final AttachedResponse attached = new AttachedResponse();
        attached.wrap(buffer, 0);
        final int first = attached.putShare(AttachedResponse.SHARES_OFFSET, 1, 1 << 21, 1L << 28, 99, 1, "data");
        final int at = attached.putShare(first, 2, 1 << 21, 1L << 28, 100, 7, "usr");
        attached.shareCount(2);
        final AttachedResponse.ShareInfo info = new AttachedResponse.ShareInfo();
        final int next = attached.getShare(AttachedResponse.SHARES_OFFSET, at, info);
        assertEquals("data", info.name());
        attached.getShare(next, at, info);
        assertEquals("usr", info.name());
        assertEquals(100, info.regionId());
        assertThrows(IllegalStateException.class, () -> attached.getShare(next, at - 1, info));

        final ListResponse list = new ListResponse();
        list.wrap(buffer, 0);
        final FileAttributes listed = new FileAttributes().set(FileType.REGULAR, 0100644, 5, 7, 8, 9, 10, 2);
        final int end = list.putEntry(ListResponse.ENTRIES_OFFSET, listed, "a".getBytes());
        final ListResponse.Entry entry = new ListResponse.Entry();
        list.getEntry(ListResponse.ENTRIES_OFFSET, end, entry);
        assertEquals("a", entry.name());
        assertEquals(FileType.REGULAR, entry.type());
        assertEquals(5, entry.size());
        assertTrue(entry.hasAttributes());
        assertTrue(entry.attributes().sameVersionAs(listed));
        assertEquals(9, entry.attributes().inode());
        assertEquals(2, entry.attributes().linkCount());
        assertThrows(IllegalStateException.class, () -> list.getEntry(ListResponse.ENTRIES_OFFSET, end - 1, entry));
    }

    @Test
    void errorCodesSurviveTheWireAndUnknownOnesAreNamed()
    {
        final ErrorResponse error = new ErrorResponse();
        error.wrap(buffer, 0);
        error.code(ErrorCode.STALE).requestType(MessageType.ACQUIRE);
        final int length = error.message("data/x: changed");
        assertEquals(ErrorCode.STALE, error.code());
        assertEquals("data/x: changed", error.message(length));
        assertEquals(ErrorCode.UNKNOWN, ErrorCode.of(12345));
        assertEquals("data/x", error.message(length - 9), "a message is cut at the record's end");
    }

    @Test
    void heldWindowKeysCarryShareAndWindow()
    {
        final long key = WindowRequest.heldWindow(3, 77);
        assertEquals(3, (int)(key >>> 32));
        assertEquals(77, (int)key);
    }

    @Test
    void treeIdentitiesFollowTheAttachedEntriesAndTheAdvancedRecord()
    {
        final AttachedResponse attached = new AttachedResponse();
        attached.wrap(buffer, 8);
        attached.shareCount(2);
        int at = attached.putShare(AttachedResponse.SHARES_OFFSET, 1, 4096, 65536, 7, 3, "usr");
        at = attached.putShare(at, 2, 4096, 65536, 9, 1, "plain");
        final int entriesEnd = at;
        final TreeIdentity usr = new TreeIdentity(0x801, 1234, "releases/41");
        at = attached.putIdentity(at, usr);
        final int length = attached.putIdentity(at, TreeIdentity.NONE);

        final AttachedResponse.ShareInfo first = new AttachedResponse.ShareInfo();
        final AttachedResponse.ShareInfo second = new AttachedResponse.ShareInfo();
        int read = attached.getShare(AttachedResponse.SHARES_OFFSET, length, first);
        read = attached.getShare(read, length, second);
        read = attached.getIdentity(read, length, first);
        assertEquals(length, attached.getIdentity(read, length, second));
        assertEquals(usr, first.identity());
        assertFalse(second.identity().isPresent());

        // A broker of layout 3.1 ends the record after the entries: no identity, nothing to resume.
        final AttachedResponse.ShareInfo old = new AttachedResponse.ShareInfo();
        attached.getShare(AttachedResponse.SHARES_OFFSET, entriesEnd, old);
        assertEquals(entriesEnd, attached.getIdentity(entriesEnd, entriesEnd, old));
        assertEquals(TreeIdentity.NONE, old.identity());
        assertThrows(IllegalArgumentException.class, () ->
            attached.getIdentity(entriesEnd, entriesEnd + TreeIdentity.PATH_OFFSET + 5, old));

        final AdvanceMessage advanced = new AdvanceMessage();
        advanced.wrap(buffer, 16);
        advanced.shareId(1).treeVersion(2);
        final int advancedLength = advanced.identity(usr);
        assertEquals(AdvanceMessage.IDENTITY_OFFSET + TreeIdentity.PATH_OFFSET + 11, advancedLength);
        assertEquals(usr, advanced.identity(advancedLength));
        assertEquals(TreeIdentity.NONE, advanced.identity(AdvanceMessage.LENGTH));
        assertThrows(IllegalArgumentException.class, () -> advanced.identity(advancedLength - 1));
        assertEquals(TreeIdentity.NONE, TreeIdentity.of(1, 2, "x".repeat(TreeIdentity.MAX_PATH_LENGTH + 1)));
    }
}
