package dev.pcb.nativeshim;

/**
 * Linux errno values and their symbolic names.
 * <p>
 * The numbers are the asm-generic ones, which x86_64 and aarch64 share. Descriptions are glibc's
 * {@code strerror} text in the C locale, kept here so messages do not depend on the host locale.
 */
public final class Errno
{
    /** Operation not permitted. */
    public static final int EPERM = 1;
    /** No such file or directory. */
    public static final int ENOENT = 2;
    /** No such process. */
    public static final int ESRCH = 3;
    /** Interrupted system call. */
    public static final int EINTR = 4;
    /** Input/output error. */
    public static final int EIO = 5;
    /** Bad file descriptor. */
    public static final int EBADF = 9;
    /** No child processes (waitpid of a process that is not, or no longer, a child). */
    public static final int ECHILD = 10;
    /** Resource temporarily unavailable. */
    public static final int EAGAIN = 11;
    /** Cannot allocate memory. */
    public static final int ENOMEM = 12;
    /** Permission denied. */
    public static final int EACCES = 13;
    /** Bad address. */
    public static final int EFAULT = 14;
    /** Device or resource busy. */
    public static final int EBUSY = 16;
    /** File exists. */
    public static final int EEXIST = 17;
    /** Invalid cross-device link: also what {@code RESOLVE_BENEATH} answers for an escaping path. */
    public static final int EXDEV = 18;
    /** No such device. */
    public static final int ENODEV = 19;
    /** Not a directory. */
    public static final int ENOTDIR = 20;
    /** Is a directory. */
    public static final int EISDIR = 21;
    /** Invalid argument. */
    public static final int EINVAL = 22;
    /** Too many open files. */
    public static final int EMFILE = 24;
    /** File too large. */
    public static final int EFBIG = 27;
    /** No space left on device. */
    public static final int ENOSPC = 28;
    /** Illegal seek. */
    public static final int ESPIPE = 29;
    /** File name too long. */
    public static final int ENAMETOOLONG = 36;
    /** Function not implemented: the kernel lacks the system call. */
    public static final int ENOSYS = 38;
    /** Too many levels of symbolic links: also what {@code O_NOFOLLOW} answers for a symlink. */
    public static final int ELOOP = 40;
    /** Operation not supported (also spelled {@code ENOTSUP}). */
    public static final int EOPNOTSUPP = 95;
    /** No such device or address. */
    public static final int ENXIO = 6;
    /** Too many open files in the system. */
    public static final int ENFILE = 23;
    /** Read-only file system. */
    public static final int EROFS = 30;
    /** Range error (a reply buffer too small). */
    public static final int ERANGE = 34;
    /** No data available (no such extended attribute). */
    public static final int ENODATA = 61;
    /** Protocol error. */
    public static final int EPROTO = 71;
    /** Bad message: a message lacked what it must carry (e.g. no descriptor in an SCM_RIGHTS message). */
    public static final int EBADMSG = 74;
    /** Stale file handle. */
    public static final int ESTALE = 116;

    // Pairs of (symbol, description) indexed by errno; null where Linux defines no errno.
    private static final String[] TABLE =
    {
        null, null,
        "EPERM", "Operation not permitted",
        "ENOENT", "No such file or directory",
        "ESRCH", "No such process",
        "EINTR", "Interrupted system call",
        "EIO", "Input/output error",
        "ENXIO", "No such device or address",
        "E2BIG", "Argument list too long",
        "ENOEXEC", "Exec format error",
        "EBADF", "Bad file descriptor",
        "ECHILD", "No child processes",
        "EAGAIN", "Resource temporarily unavailable",
        "ENOMEM", "Cannot allocate memory",
        "EACCES", "Permission denied",
        "EFAULT", "Bad address",
        "ENOTBLK", "Block device required",
        "EBUSY", "Device or resource busy",
        "EEXIST", "File exists",
        "EXDEV", "Invalid cross-device link",
        "ENODEV", "No such device",
        "ENOTDIR", "Not a directory",
        "EISDIR", "Is a directory",
        "EINVAL", "Invalid argument",
        "ENFILE", "Too many open files in system",
        "EMFILE", "Too many open files",
        "ENOTTY", "Inappropriate ioctl for device",
        "ETXTBSY", "Text file busy",
        "EFBIG", "File too large",
        "ENOSPC", "No space left on device",
        "ESPIPE", "Illegal seek",
        "EROFS", "Read-only file system",
        "EMLINK", "Too many links",
        "EPIPE", "Broken pipe",
        "EDOM", "Numerical argument out of domain",
        "ERANGE", "Numerical result out of range",
        "EDEADLK", "Resource deadlock avoided",
        "ENAMETOOLONG", "File name too long",
        "ENOLCK", "No locks available",
        "ENOSYS", "Function not implemented",
        "ENOTEMPTY", "Directory not empty",
        "ELOOP", "Too many levels of symbolic links",
        null, null,
        "ENOMSG", "No message of desired type",
        "EIDRM", "Identifier removed",
        "ECHRNG", "Channel number out of range",
        "EL2NSYNC", "Level 2 not synchronized",
        "EL3HLT", "Level 3 halted",
        "EL3RST", "Level 3 reset",
        "ELNRNG", "Link number out of range",
        "EUNATCH", "Protocol driver not attached",
        "ENOCSI", "No CSI structure available",
        "EL2HLT", "Level 2 halted",
        "EBADE", "Invalid exchange",
        "EBADR", "Invalid request descriptor",
        "EXFULL", "Exchange full",
        "ENOANO", "No anode",
        "EBADRQC", "Invalid request code",
        "EBADSLT", "Invalid slot",
        null, null,
        "EBFONT", "Bad font file format",
        "ENOSTR", "Device not a stream",
        "ENODATA", "No data available",
        "ETIME", "Timer expired",
        "ENOSR", "Out of streams resources",
        "ENONET", "Machine is not on the network",
        "ENOPKG", "Package not installed",
        "EREMOTE", "Object is remote",
        "ENOLINK", "Link has been severed",
        "EADV", "Advertise error",
        "ESRMNT", "Srmount error",
        "ECOMM", "Communication error on send",
        "EPROTO", "Protocol error",
        "EMULTIHOP", "Multihop attempted",
        "EDOTDOT", "RFS specific error",
        "EBADMSG", "Bad message",
        "EOVERFLOW", "Value too large for defined data type",
        "ENOTUNIQ", "Name not unique on network",
        "EBADFD", "File descriptor in bad state",
        "EREMCHG", "Remote address changed",
        "ELIBACC", "Can not access a needed shared library",
        "ELIBBAD", "Accessing a corrupted shared library",
        "ELIBSCN", ".lib section in a.out corrupted",
        "ELIBMAX", "Attempting to link in too many shared libraries",
        "ELIBEXEC", "Cannot exec a shared library directly",
        "EILSEQ", "Invalid or incomplete multibyte or wide character",
        "ERESTART", "Interrupted system call should be restarted",
        "ESTRPIPE", "Streams pipe error",
        "EUSERS", "Too many users",
        "ENOTSOCK", "Socket operation on non-socket",
        "EDESTADDRREQ", "Destination address required",
        "EMSGSIZE", "Message too long",
        "EPROTOTYPE", "Protocol wrong type for socket",
        "ENOPROTOOPT", "Protocol not available",
        "EPROTONOSUPPORT", "Protocol not supported",
        "ESOCKTNOSUPPORT", "Socket type not supported",
        "EOPNOTSUPP", "Operation not supported",
        "EPFNOSUPPORT", "Protocol family not supported",
        "EAFNOSUPPORT", "Address family not supported by protocol",
        "EADDRINUSE", "Address already in use",
        "EADDRNOTAVAIL", "Cannot assign requested address",
        "ENETDOWN", "Network is down",
        "ENETUNREACH", "Network is unreachable",
        "ENETRESET", "Network dropped connection on reset",
        "ECONNABORTED", "Software caused connection abort",
        "ECONNRESET", "Connection reset by peer",
        "ENOBUFS", "No buffer space available",
        "EISCONN", "Transport endpoint is already connected",
        "ENOTCONN", "Transport endpoint is not connected",
        "ESHUTDOWN", "Cannot send after transport endpoint shutdown",
        "ETOOMANYREFS", "Too many references: cannot splice",
        "ETIMEDOUT", "Connection timed out",
        "ECONNREFUSED", "Connection refused",
        "EHOSTDOWN", "Host is down",
        "EHOSTUNREACH", "No route to host",
        "EALREADY", "Operation already in progress",
        "EINPROGRESS", "Operation now in progress",
        "ESTALE", "Stale file handle",
        "EUCLEAN", "Structure needs cleaning",
        "ENOTNAM", "Not a XENIX named type file",
        "ENAVAIL", "No XENIX semaphores available",
        "EISNAM", "Is a named type file",
        "EREMOTEIO", "Remote I/O error",
        "EDQUOT", "Disk quota exceeded",
        "ENOMEDIUM", "No medium found",
        "EMEDIUMTYPE", "Wrong medium type",
        "ECANCELED", "Operation canceled",
        "ENOKEY", "Required key not available",
        "EKEYEXPIRED", "Key has expired",
        "EKEYREVOKED", "Key has been revoked",
        "EKEYREJECTED", "Key was rejected by service",
        "EOWNERDEAD", "Owner died",
        "ENOTRECOVERABLE", "State not recoverable",
        "ERFKILL", "Operation not possible due to RF-kill",
        "EHWPOISON", "Memory page has hardware error",
    };

    private Errno()
    {
    }

    /**
     * Symbolic name of an errno value, such as {@code "EXDEV"} for 18.
     *
     * @param errno the errno value.
     * @return the symbol, or {@code "errno N"} when Linux defines none for {@code N}.
     */
    public static String name(final int errno)
    {
        final String symbol = errno > 0 && errno * 2 < TABLE.length ? TABLE[errno * 2] : null;
        return null != symbol ? symbol : "errno " + errno;
    }

    /**
     * Human-readable description of an errno value, as glibc's {@code strerror} gives it in the C locale.
     *
     * @param errno the errno value.
     * @return the description, or {@code "Unknown error N"} when Linux defines none for {@code N}.
     */
    public static String description(final int errno)
    {
        final String text = errno > 0 && errno * 2 < TABLE.length ? TABLE[errno * 2 + 1] : null;
        return null != text ? text : "Unknown error " + errno;
    }
}
