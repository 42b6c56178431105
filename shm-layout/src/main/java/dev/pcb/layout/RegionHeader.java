package dev.pcb.layout;

import org.agrona.concurrent.AtomicBuffer;

import java.nio.charset.StandardCharsets;

/**
 * What every pcb region header shares: a magic at offset 0 written last with release semantics (a reader that sees
 * it sees the whole header, as Aeron signals a CnC file ready), the layout version at offset 8, and bounded UTF-8
 * names.
 */
public final class RegionHeader
{
    /** Offset of the magic in every region. */
    public static final int MAGIC_OFFSET = 0;
    /** Offset of the layout version in every region. */
    public static final int LAYOUT_VERSION_OFFSET = 8;

    private RegionHeader()
    {
    }

    /**
     * Publish a region as ready.
     *
     * @param buffer over the header.
     * @param magic  the region kind's magic.
     */
    public static void signalReady(final AtomicBuffer buffer, final long magic)
    {
        buffer.putLongRelease(MAGIC_OFFSET, magic);
    }

    /**
     * Is a region of this kind ready, and of a layout this code reads?
     *
     * @param buffer over the header.
     * @param magic  the region kind's magic.
     * @return true when the magic is present and the major version matches.
     */
    public static boolean isReady(final AtomicBuffer buffer, final long magic)
    {
        return buffer.getLongAcquire(MAGIC_OFFSET) == magic &&
            LayoutVersion.isCompatible(buffer.getInt(LAYOUT_VERSION_OFFSET));
    }

    /**
     * Write a length-prefixed UTF-8 name.
     *
     * @param buffer       over the header.
     * @param lengthOffset offset of the int length.
     * @param nameOffset   offset of the bytes.
     * @param maxLength    most bytes allowed.
     * @param what         what the name is, for the error.
     * @param name         the name.
     * @throws IllegalArgumentException when the name is too long.
     */
    public static void putName(
        final AtomicBuffer buffer, final int lengthOffset, final int nameOffset, final int maxLength,
        final String what, final String name)
    {
        final byte[] bytes = name.getBytes(StandardCharsets.UTF_8);
        if (bytes.length > maxLength)
        {
            throw new IllegalArgumentException(what + " name longer than " + maxLength + " bytes: " + name);
        }
        buffer.putInt(lengthOffset, bytes.length);
        buffer.putBytes(nameOffset, bytes);
    }

    /**
     * Read a length-prefixed UTF-8 name, bounded so a corrupt length cannot read past the field.
     *
     * @param buffer       over the header.
     * @param lengthOffset offset of the int length.
     * @param nameOffset   offset of the bytes.
     * @param maxLength    most bytes allowed.
     * @return the name.
     */
    public static String getName(
        final AtomicBuffer buffer, final int lengthOffset, final int nameOffset, final int maxLength)
    {
        final int length = Math.max(0, Math.min(maxLength, buffer.getInt(lengthOffset)));
        final byte[] bytes = new byte[length];
        buffer.getBytes(nameOffset, bytes);
        return new String(bytes, StandardCharsets.UTF_8);
    }
}
