package dev.pcb.protocol;

import java.nio.charset.StandardCharsets;

/**
 * ERROR: a request failed.
 * <pre>
 *  0: correlation id (long) | 8: {@link ErrorCode} value (int) | 12: request type id (int)
 *  16: message length (int) | 20: message (UTF-8, at most 1024 bytes)
 * </pre>
 */
public final class ErrorResponse extends Flyweight
{
    /** Offset of the code. */
    public static final int CODE_OFFSET = 8;
    /** Offset of the type id of the failed request. */
    public static final int REQUEST_TYPE_OFFSET = 12;
    /** Offset of the message length. */
    public static final int MESSAGE_LENGTH_OFFSET = 16;
    /** Offset of the message. */
    public static final int MESSAGE_OFFSET = 20;
    /** Longest message in bytes. */
    public static final int MAX_MESSAGE_LENGTH = 1024;

    /** @return the error code. */
    public ErrorCode code()
    {
        return ErrorCode.of(buffer.getInt(offset + CODE_OFFSET));
    }

    /**
     * Set the code.
     *
     * @param code the error.
     * @return this.
     */
    public ErrorResponse code(final ErrorCode code)
    {
        buffer.putInt(offset + CODE_OFFSET, code.value());
        return this;
    }

    /** @return the type id of the failed request. */
    public int requestType()
    {
        return buffer.getInt(offset + REQUEST_TYPE_OFFSET);
    }

    /**
     * Set the type id of the failed request.
     *
     * @param typeId a {@link MessageType}.
     * @return this.
     */
    public ErrorResponse requestType(final int typeId)
    {
        buffer.putInt(offset + REQUEST_TYPE_OFFSET, typeId);
        return this;
    }

    /**
     * Set the message, truncated to {@link #MAX_MESSAGE_LENGTH} bytes.
     *
     * @param message text for a person.
     * @return record length.
     */
    public int message(final String message)
    {
        byte[] bytes = message.getBytes(StandardCharsets.UTF_8);
        if (bytes.length > MAX_MESSAGE_LENGTH)
        {
            bytes = java.util.Arrays.copyOf(bytes, MAX_MESSAGE_LENGTH);
        }
        buffer.putInt(offset + MESSAGE_LENGTH_OFFSET, bytes.length);
        buffer.putBytes(offset + MESSAGE_OFFSET, bytes);
        return MESSAGE_OFFSET + bytes.length;
    }

    /**
     * Message, bounded by the record length.
     *
     * @param limit record length.
     * @return the message.
     */
    public String message(final int limit)
    {
        final int length = Math.max(0, Math.min(buffer.getInt(offset + MESSAGE_LENGTH_OFFSET), limit - MESSAGE_OFFSET));
        final byte[] bytes = new byte[length];
        buffer.getBytes(offset + MESSAGE_OFFSET, bytes);
        return new String(bytes, StandardCharsets.UTF_8);
    }
}
