package dev.pcb.fs;

import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.function.Consumer;

/**
 * Open handles by number: the {@code fh} the kernel gives back with each READ and RELEASE. Getting a handle takes
 * no lock and allocates nothing; adding and removing take the table's lock.
 *
 * @param <T> what a handle is.
 */
public final class HandleTable<T>
{
    private final AtomicReferenceArray<T> slots;
    private final int[] free;
    private int freeCount;

    /**
     * A table.
     *
     * @param capacity most handles open at once.
     */
    public HandleTable(final int capacity)
    {
        slots = new AtomicReferenceArray<>(capacity);
        free = new int[capacity];
        for (int i = 0; i < capacity; i++)
        {
            free[i] = capacity - 1 - i;
        }
        freeCount = capacity;
    }

    /**
     * Add a handle.
     *
     * @param value the handle.
     * @return its number, or -1 when the table is full.
     */
    public synchronized long add(final T value)
    {
        if (0 == freeCount)
        {
            return -1;
        }
        final int index = free[--freeCount];
        slots.set(index, value);
        return index;
    }

    /**
     * A handle by number.
     *
     * @param fh its number.
     * @return the handle, or null.
     */
    public T get(final long fh)
    {
        return fh < 0 || fh >= slots.length() ? null : slots.get((int)fh);
    }

    /**
     * Remove a handle.
     *
     * @param fh its number.
     * @return the handle, or null when there was none.
     */
    public synchronized T remove(final long fh)
    {
        if (fh < 0 || fh >= slots.length())
        {
            return null;
        }
        final T value = slots.getAndSet((int)fh, null);
        if (null != value)
        {
            free[freeCount++] = (int)fh;
        }
        return value;
    }

    /** @return handles open now. */
    public synchronized int size()
    {
        return slots.length() - freeCount;
    }

    /**
     * Remove every handle, passing each to a consumer.
     *
     * @param each receives each handle removed.
     */
    public void drain(final Consumer<T> each)
    {
        for (int i = 0; i < slots.length(); i++)
        {
            final T value = remove(i);
            if (null != value)
            {
                each.accept(value);
            }
        }
    }
}
