package dev.pcb.it;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;

/**
 * The torture writer's file format: a body, then a trailer naming the version and the SHA-256 of the body. Any mix of
 * two versions, or a cut one, fails the check with overwhelming probability.
 * <pre>
 *  body | magic "PCBTORT1" (8) | version id (8) | body length (8) | SHA-256 of body (32)
 * </pre>
 */
final class TortureFormat
{
    static final long MAGIC = 0x3154524f54424350L;
    static final int TRAILER = 56;

    private TortureFormat()
    {
    }

    static byte[] trailer(final long versionId, final byte[] body, final int bodyLength)
    {
        final ByteBuffer trailer = ByteBuffer.allocate(TRAILER).order(ByteOrder.LITTLE_ENDIAN);
        trailer.putLong(MAGIC).putLong(versionId).putLong(bodyLength).put(sha256(body, bodyLength));
        return trailer.array();
    }

    /**
     * @return the version id of a complete version, or -1 when the bytes are not one.
     */
    static long verify(final byte[] content)
    {
        if (content.length < TRAILER)
        {
            return -1;
        }
        final ByteBuffer trailer = ByteBuffer.wrap(content, content.length - TRAILER, TRAILER)
            .order(ByteOrder.LITTLE_ENDIAN);
        if (trailer.getLong() != MAGIC)
        {
            return -1;
        }
        final long versionId = trailer.getLong();
        final long bodyLength = trailer.getLong();
        if (bodyLength != content.length - TRAILER)
        {
            return -1;
        }
        final byte[] hash = new byte[32];
        trailer.get(hash);
        return Arrays.equals(hash, sha256(content, (int)bodyLength)) ? versionId : -1;
    }

    static byte[] sha256(final byte[] bytes, final int length)
    {
        try
        {
            final MessageDigest digest = MessageDigest.getInstance("SHA-256");
            digest.update(bytes, 0, length);
            return digest.digest();
        }
        catch (final NoSuchAlgorithmException ex)
        {
            throw new IllegalStateException(ex);
        }
    }
}
