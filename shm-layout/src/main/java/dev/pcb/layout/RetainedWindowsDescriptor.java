package dev.pcb.layout;

/**
 * Layout of a client slot's table of retained windows: windows the process has stopped reading but keeps pinned,
 * so reading them again costs no round trip, and which the broker may take back at any moment.
 * <p>
 * Each entry is owned by one word, {@code state}: the kind in its low two bits, a tag unique to one retention in the
 * rest. Whoever wins a compare-and-set away from {@code RETAINED | tag} owns the pin: the process to read the window
 * again or to release it with a RELEASE message, the broker to drop it as if it had received that RELEASE. The broker
 * reads the handle and window <em>before</em> its compare-and-set, so a successful swap proves they belonged to that
 * tag; it never trusts them beyond what a RELEASE from the same client could do.
 * <pre>
 *   entry (32 bytes):
 *   0                   1                   2                   3
 *   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |        State: tag << 2 | kind (EMPTY, RETAINED, RECLAIMED, BUSY) |
 *  |                                                               |
 *  +---------------------------------------------------------------+
 *  |                  Handle Id (as in ACQUIRE)                    |
 *  |                                                               |
 *  +---------------------------------------------------------------+
 *  |                  File Window (as in ACQUIRE)                  |
 *  |                                                               |
 *  +---------------------------------------------------------------+
 *  |                  Reserved                                     |
 *  |                                                               |
 *  +---------------------------------------------------------------+
 * </pre>
 * Transitions: process {@code EMPTY/RECLAIMED -> BUSY -> RETAINED|tag} (writes handle and window while BUSY);
 * process {@code RETAINED|tag -> BUSY|tag} (reads the window again; the entry stays its own) and back
 * {@code BUSY|tag -> RETAINED|tag} (closes it again); process {@code RETAINED|tag -> BUSY -> EMPTY} (releases it);
 * broker {@code RETAINED|tag -> RECLAIMED|tag} (drops the pin). The broker ignores every other state.
 */
public final class RetainedWindowsDescriptor
{
    /** Entries in one slot's table. */
    public static final int ENTRY_COUNT = 256;

    /** Bytes per entry. */
    public static final int ENTRY_LENGTH = 32;

    /** Bytes of the whole table. */
    public static final int LENGTH = ENTRY_COUNT * ENTRY_LENGTH;

    /** Offset of the state word within an entry. */
    public static final int STATE_OFFSET = 0;
    /** Offset of the handle id within an entry. */
    public static final int HANDLE_ID_OFFSET = 8;
    /** Offset of the file window within an entry. */
    public static final int FILE_WINDOW_OFFSET = 16;

    /** Kind bits of the state word. */
    public static final long KIND_MASK = 0b11;
    /** Nothing here. */
    public static final long EMPTY = 0;
    /** Pinned for the process, not read now: process or broker may take it. */
    public static final long RETAINED = 1;
    /** The broker dropped the pin; the process clears the entry. */
    public static final long RECLAIMED = 2;
    /** The process owns the entry: it reads the window, or writes or clears the entry; the broker keeps off. */
    public static final long BUSY = 3;

    private RetainedWindowsDescriptor()
    {
    }

    /**
     * Offset of an entry within the table.
     *
     * @param index 0 to {@link #ENTRY_COUNT} - 1.
     * @return byte offset from the table start.
     */
    public static int entryOffset(final int index)
    {
        return index * ENTRY_LENGTH;
    }

    /**
     * State word of a retention.
     *
     * @param tag  unique per retention in the process; 62 bits are kept.
     * @param kind {@link #RETAINED} or {@link #RECLAIMED}.
     * @return the state word.
     */
    public static long state(final long tag, final long kind)
    {
        return (tag << 2) | kind;
    }

    /**
     * Kind of a state word.
     *
     * @param state the word.
     * @return one of {@link #EMPTY}, {@link #RETAINED}, {@link #RECLAIMED}, {@link #BUSY}.
     */
    public static long kind(final long state)
    {
        return state & KIND_MASK;
    }
}
