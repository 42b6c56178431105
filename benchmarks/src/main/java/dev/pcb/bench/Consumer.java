package dev.pcb.bench;

import org.agrona.DirectBuffer;

/**
 * The one read loop every throughput variant runs, so the variants differ only in how they get to the bytes: a
 * realistic consumer that touches every byte, summing one {@code long} per 8 bytes.
 */
public final class Consumer
{
    private Consumer()
    {
    }

    /**
     * Sum the longs of a range.
     *
     * @param buffer bytes to read; every variant passes an {@code UnsafeBuffer}, so the call site stays monomorphic.
     * @param offset first byte.
     * @param length bytes; a tail shorter than 8 is ignored.
     * @return the sum, to be consumed by the caller so the JIT cannot drop the loop.
     */
    public static long sum(final DirectBuffer buffer, final int offset, final int length)
    {
        long sum = 0;
        for (int i = offset, end = offset + (length & ~7); i < end; i += 8)
        {
            sum += buffer.getLong(i);
        }
        return sum;
    }
}
