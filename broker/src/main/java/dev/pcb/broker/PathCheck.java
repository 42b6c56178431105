package dev.pcb.broker;

import dev.pcb.nativeshim.Errno;
import dev.pcb.nativeshim.ErrnoException;
import dev.pcb.protocol.ErrorCode;

/**
 * First line of path confinement: reject what can never be inside a share before the kernel is asked. The second
 * line is {@code openat2(RESOLVE_BENEATH)}, which also refuses symlinks that lead out.
 */
final class PathCheck
{
    private PathCheck()
    {
    }

    /**
     * Reject absolute paths, ".." components and NUL bytes.
     */
    static void validate(final String path, final String shown) throws RequestException
    {
        if (path.indexOf('\0') >= 0)
        {
            throw new RequestException(ErrorCode.MALFORMED, "path contains a NUL byte");
        }
        if (path.startsWith("/"))
        {
            throw new RequestException(ErrorCode.PATH_OUTSIDE_SHARE, shown + ": absolute paths leave the share");
        }
        int start = 0;
        while (start <= path.length())
        {
            int end = path.indexOf('/', start);
            if (end < 0)
            {
                end = path.length();
            }
            if (end - start == 2 && path.charAt(start) == '.' && path.charAt(start + 1) == '.')
            {
                throw new RequestException(ErrorCode.PATH_OUTSIDE_SHARE, shown + ": \"..\" leaves the share");
            }
            start = end + 1;
        }
    }

    /**
     * Path of a directory to open beneath the share root: "" and "/"-only paths mean the root itself.
     */
    static String directoryPath(final String path)
    {
        String p = path;
        while (p.endsWith("/"))
        {
            p = p.substring(0, p.length() - 1);
        }
        return p.isEmpty() ? "." : p;
    }

    /**
     * Map a failed confined open to the answer a guest understands.
     */
    static RequestException toRequestException(final String path, final ErrnoException ex)
    {
        switch (ex.errno())
        {
            case Errno.ENOENT:
                return new RequestException(ErrorCode.NO_SUCH_FILE, path + ": no such file or directory");
            case Errno.EXDEV:
            case Errno.ELOOP:
                return new RequestException(ErrorCode.PATH_OUTSIDE_SHARE,
                    path + ": leads outside the share (a symlink on the way points out, or is absolute)");
            case Errno.ENOTDIR:
                return new RequestException(ErrorCode.NOT_A_DIRECTORY, path + ": a component is not a directory");
            case Errno.EACCES:
            case Errno.EPERM:
                return new RequestException(ErrorCode.ACCESS_DENIED, path + ": permission denied on the host");
            case Errno.ENAMETOOLONG:
                return new RequestException(ErrorCode.MALFORMED, path + ": name too long");
            default:
                return new RequestException(ErrorCode.IO_ERROR, path + ": " + ex.getMessage());
        }
    }
}
