package dev.pcb.layout;

/**
 * One entry of a data region's window descriptor table: what a window holds right now.
 * <p>
 * Written only by the broker. The generation works as a sequence lock: it is odd while the broker fills the window
 * and even once the contents are complete. An agent trusts a window only after the broker answered its ACQUIRE
 * (with the generation), so it never reads a half-filled window; the table is there for operators and tools
 * ({@code pcb inspect}, tests) and for a restarted broker, which quarantines the windows it finds READY or PACKED.
 * <pre>
 *   0                   1                   2                   3
 *   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |               Generation (odd while filling)                  |
 *  |                                                               |
 *  +---------------------------------------------------------------+
 *  |                     File Version Id                           |
 *  |                                                               |
 *  +---------------------------------------------------------------+
 *  |                 File Offset of byte 0                         |
 *  |                                                               |
 *  +---------------------------------------------------------------+
 *  |                 Valid Length (bytes)                          |
 *  +---------------------------------------------------------------+
 *  |                 State (FREE, FILLING, READY, PACKED)          |
 *  +---------------------------------------------------------------+
 *  |                 Reserved to 64 bytes                         ...
 *  +---------------------------------------------------------------+
 * </pre>
 */
public final class WindowDescriptor
{
    /** Length of one descriptor: a cache line, so fills of neighbours do not share lines. */
    public static final int LENGTH = 64;

    /** Offset of the generation. */
    public static final int GENERATION_OFFSET = 0;
    /** Offset of the file version id. */
    public static final int FILE_VERSION_ID_OFFSET = 8;
    /** Offset of the file offset of the first byte. */
    public static final int FILE_OFFSET_OFFSET = 16;
    /** Offset of the valid length. */
    public static final int LENGTH_OFFSET = 24;
    /** Offset of the state. */
    public static final int STATE_OFFSET = 28;

    /** Window holds nothing. */
    public static final int STATE_FREE = 0;
    /** Window is being filled. */
    public static final int STATE_FILLING = 1;
    /** Window holds one file chunk. */
    public static final int STATE_READY = 2;
    /** Window holds several small files packed at their own offsets. */
    public static final int STATE_PACKED = 3;

    private WindowDescriptor()
    {
    }

    /**
     * Name of a state, for tools.
     *
     * @param state a state value.
     * @return its name.
     */
    public static String stateName(final int state)
    {
        switch (state)
        {
            case STATE_FREE: return "FREE";
            case STATE_FILLING: return "FILLING";
            case STATE_READY: return "READY";
            case STATE_PACKED: return "PACKED";
            default: return "UNKNOWN(" + state + ")";
        }
    }
}
