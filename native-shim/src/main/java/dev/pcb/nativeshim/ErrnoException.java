package dev.pcb.nativeshim;

import java.io.IOException;

/**
 * A Linux call failed: carries the errno and the name of the call.
 * <p>
 * The message names the errno symbolically, e.g.
 * {@code openat2(share/../etc/passwd): EXDEV (Invalid cross-device link)}.
 */
public final class ErrnoException extends IOException
{
    private static final long serialVersionUID = 1L;

    private final int errno;
    private final String call;

    /**
     * Create an exception for a failed call.
     *
     * @param call     name of the system call or libc function, e.g. {@code "openat2"}.
     * @param argument what the call was applied to, shown in parentheses after the call name.
     * @param errno    the errno the call reported.
     */
    public ErrnoException(final String call, final String argument, final int errno)
    {
        super(call + '(' + argument + "): " + Errno.name(errno) + " (" + Errno.description(errno) + ')');
        this.errno = errno;
        this.call = call;
    }

    /**
     * The errno the call reported.
     *
     * @return the errno value, see {@link Errno}.
     */
    public int errno()
    {
        return errno;
    }

    /**
     * Name of the call that failed.
     *
     * @return the call name, e.g. {@code "openat2"}.
     */
    public String call()
    {
        return call;
    }
}
