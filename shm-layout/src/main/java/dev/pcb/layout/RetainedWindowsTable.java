package dev.pcb.layout;

import org.agrona.concurrent.AtomicBuffer;
import org.agrona.concurrent.UnsafeBuffer;

import static dev.pcb.layout.RetainedWindowsDescriptor.BUSY;
import static dev.pcb.layout.RetainedWindowsDescriptor.EMPTY;
import static dev.pcb.layout.RetainedWindowsDescriptor.ENTRY_COUNT;
import static dev.pcb.layout.RetainedWindowsDescriptor.FILE_WINDOW_OFFSET;
import static dev.pcb.layout.RetainedWindowsDescriptor.HANDLE_ID_OFFSET;
import static dev.pcb.layout.RetainedWindowsDescriptor.LENGTH;
import static dev.pcb.layout.RetainedWindowsDescriptor.RECLAIMED;
import static dev.pcb.layout.RetainedWindowsDescriptor.RETAINED;
import static dev.pcb.layout.RetainedWindowsDescriptor.STATE_OFFSET;
import static dev.pcb.layout.RetainedWindowsDescriptor.kind;

/**
 * Both sides of the retained-windows protocol over one client slot's table ({@link RetainedWindowsDescriptor}): the
 * process parks, revives and frees entries, the broker reclaims them. Every transition of the state word is made
 * here and nowhere else, so the encoding ({@code kind | tag << 2}) and the ownership rule live in one class:
 * whoever swaps the word away from {@code RETAINED | tag} owns that retention's pin.
 * <pre>
 *   process: EMPTY, RECLAIMED|tag, RETAINED|tag --claim--> BUSY --park--> RETAINED|tag'
 *   process: RETAINED|tag --revive--> BUSY|tag --repark--> RETAINED|tag
 *   process: BUSY --free--> EMPTY
 *   broker:  RETAINED|tag --reclaim--> RECLAIMED|tag
 * </pre>
 * A flyweight: wrap it once over the table; it allocates nothing and holds no lock. Entries hold guest-written
 * values: the broker reads {@link #handleId(int)} and {@link #fileWindow(int)} before {@link #reclaim(int, long)},
 * and a successful reclaim proves they were written for the state it saw.
 */
public final class RetainedWindowsTable
{
    private final UnsafeBuffer table = new UnsafeBuffer(0, 0);

    /**
     * Wrap the table of a client slot.
     *
     * @param slot   the client slot, or any buffer holding a table.
     * @param offset where the table starts, {@link ClientSlotDescriptor#RETAINED_WINDOWS_OFFSET} in a slot.
     * @return this.
     */
    public RetainedWindowsTable wrap(final AtomicBuffer slot, final int offset)
    {
        table.wrap(slot, offset, LENGTH);
        return this;
    }

    /** @return entries in the table. */
    public int capacity()
    {
        return ENTRY_COUNT;
    }

    /**
     * The state word of an entry, read with acquire semantics.
     *
     * @param index entry, 0 to {@link #capacity()} - 1.
     * @return the word; see {@link RetainedWindowsDescriptor#kind(long)} and {@link #tag(long)}.
     */
    public long state(final int index)
    {
        return table.getLongVolatile(stateAt(index));
    }

    /**
     * Process: take an entry for writing, from the state just read. From {@code RETAINED | tag} this also takes that
     * retention's pin away from the broker; from {@code RECLAIMED | tag} it takes the bookkeeping of a pin the
     * broker dropped.
     *
     * @param index entry.
     * @param seen  the state read just before; must not be {@code BUSY}.
     * @return true when the entry is now {@code BUSY} and the caller's.
     */
    public boolean claim(final int index, final long seen)
    {
        return BUSY != kind(seen) && table.compareAndSetLong(stateAt(index), seen, BUSY);
    }

    /**
     * Process: park a claimed entry for a new retention: record what is pinned, then publish it to the broker.
     *
     * @param index      entry, claimed with {@link #claim(int, long)}.
     * @param tag        unique per retention in this process; 62 bits are kept.
     * @param handleId   the handle as in ACQUIRE.
     * @param fileWindow the window as in ACQUIRE.
     */
    public void park(final int index, final long tag, final long handleId, final long fileWindow)
    {
        final int at = RetainedWindowsDescriptor.entryOffset(index);
        table.putLong(at + HANDLE_ID_OFFSET, handleId);
        table.putLong(at + FILE_WINDOW_OFFSET, fileWindow);
        // Volatile, not only release: a process that then reads other entries must be ordered after this store.
        table.putLongVolatile(at + STATE_OFFSET, RetainedWindowsDescriptor.state(tag, RETAINED));
    }

    /**
     * Process: take back a parked retention's pin for reading again; the entry stays bound to it.
     *
     * @param index entry.
     * @param tag   the retention.
     * @return true when the pin is the caller's again; false when the broker reclaimed it or the entry moved on.
     */
    public boolean revive(final int index, final long tag)
    {
        return table.compareAndSetLong(
            stateAt(index), RetainedWindowsDescriptor.state(tag, RETAINED), RetainedWindowsDescriptor.state(tag, BUSY));
    }

    /**
     * Process: park a revived retention again, with one store.
     *
     * @param index entry, revived with {@link #revive(int, long)}.
     * @param tag   the retention.
     */
    public void repark(final int index, final long tag)
    {
        table.putLongVolatile(stateAt(index), RetainedWindowsDescriptor.state(tag, RETAINED));
    }

    /**
     * Process: empty an entry it holds {@code BUSY}.
     *
     * @param index entry.
     */
    public void free(final int index)
    {
        table.putLongRelease(stateAt(index), EMPTY);
    }

    /**
     * Process: empty every entry, when its slot was accepted for it (the previous owner's pins are gone).
     */
    public void reset()
    {
        table.setMemory(0, LENGTH, (byte)0);
    }

    /**
     * Broker: the handle a parked entry names; read it before {@link #reclaim(int, long)}.
     *
     * @param index entry.
     * @return a guest-written handle id.
     */
    public long handleId(final int index)
    {
        return table.getLong(RetainedWindowsDescriptor.entryOffset(index) + HANDLE_ID_OFFSET);
    }

    /**
     * Broker: the file window a parked entry names; read it before {@link #reclaim(int, long)}.
     *
     * @param index entry.
     * @return a guest-written window index.
     */
    public long fileWindow(final int index)
    {
        return table.getLong(RetainedWindowsDescriptor.entryOffset(index) + FILE_WINDOW_OFFSET);
    }

    /**
     * Broker: take a parked retention's pin, as if its RELEASE had arrived.
     *
     * @param index entry.
     * @param seen  the state read before the handle and window were read.
     * @return true when the broker now owns the pin and drops it; false when the state was not {@code RETAINED}
     * or changed meanwhile.
     */
    public boolean reclaim(final int index, final long seen)
    {
        return RETAINED == kind(seen) &&
            table.compareAndSetLong(stateAt(index), seen, RetainedWindowsDescriptor.state(tag(seen), RECLAIMED));
    }

    /**
     * The retention a state word belongs to.
     *
     * @param state a state word.
     * @return its tag; 0 for a plain {@code EMPTY} or {@code BUSY}.
     */
    public static long tag(final long state)
    {
        return state >>> 2;
    }

    private static int stateAt(final int index)
    {
        return RetainedWindowsDescriptor.entryOffset(index) + STATE_OFFSET;
    }
}
