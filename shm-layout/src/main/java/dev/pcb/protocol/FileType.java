package dev.pcb.protocol;

/**
 * File types as they travel in STAT and LIST answers.
 */
public final class FileType
{
    /** A regular file. */
    public static final int REGULAR = 1;
    /** A directory. */
    public static final int DIRECTORY = 2;
    /** A symbolic link (listed, never followed out of the share). */
    public static final int SYMLINK = 3;
    /** Anything else: device, fifo, socket. */
    public static final int OTHER = 4;

    private FileType()
    {
    }

    /**
     * Type from a POSIX st_mode.
     *
     * @param mode st_mode bits.
     * @return a type constant.
     */
    public static int fromMode(final int mode)
    {
        switch (mode & 0xF000)
        {
            case 0x8000: return REGULAR;
            case 0x4000: return DIRECTORY;
            case 0xA000: return SYMLINK;
            default: return OTHER;
        }
    }

    /**
     * One-letter tag for listings, like ls -l.
     *
     * @param type a type constant.
     * @return "-", "d", "l" or "?".
     */
    public static String tag(final int type)
    {
        switch (type)
        {
            case REGULAR: return "-";
            case DIRECTORY: return "d";
            case SYMLINK: return "l";
            default: return "?";
        }
    }
}
