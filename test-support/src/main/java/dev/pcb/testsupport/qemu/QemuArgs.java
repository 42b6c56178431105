package dev.pcb.testsupport.qemu;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * QEMU command line pieces for pcb: the ivshmem-plain devices that attach a guest's regions, and the read-only
 * virtio-9p export of the host root the test guests run from.
 * <p>
 * Each region becomes
 * {@code -object memory-backend-file,id=ID,mem-path=PATH,size=SIZE,share=on[,readonly=on]
 * -device ivshmem-plain,id=ID-dev,memdev=ID}. {@code share=on} makes guest and host map the same pages of the file;
 * {@code readonly=on} (QEMU 7.2 and later with ivshmem-plain) keeps a guest's writes away from a data region that
 * every guest of a share maps.
 */
public final class QemuArgs
{
    /** 9p mount tag of the host root export; the guest init mounts this tag. */
    public static final String HOST_ROOT_TAG = "hostroot";

    /** Suffix of the ivshmem-plain device id after its memory backend id. */
    public static final String DEVICE_ID_SUFFIX = "-dev";

    private static final Pattern SHELL_SAFE = Pattern.compile("[A-Za-z0-9_@%+=:,./-]+");

    private QemuArgs()
    {
    }

    /**
     * QEMU arguments that attach regions as ivshmem-plain devices, data regions with {@code readonly=on}; a
     * {@link IvshmemRegion#doorbell} region as {@code -chardev socket} plus {@code ivshmem-doorbell} with one vector.
     * <p>
     * The guest sees the devices in PCI slots that follow this order, but the agent identifies each by its header,
     * so the order does not matter.
     *
     * @param regions regions with distinct ids.
     * @return the arguments, two options per region, ready for a process builder.
     * @throws IllegalArgumentException when two regions share an id.
     */
    public static List<String> forDevices(final List<IvshmemRegion> regions)
    {
        final Set<String> ids = new HashSet<>();
        final List<String> args = new ArrayList<>(regions.size() * 4);
        for (final IvshmemRegion region : regions)
        {
            if (!ids.add(region.id()))
            {
                throw new IllegalArgumentException("two regions with QEMU id " + region.id());
            }

            if (region.doorbell())
            {
                // QEMU connects at start and takes the region's memory and eventfds from the broker's socket.
                args.add("-chardev");
                args.add("socket,id=" + region.id() + ",path=" + optionValue(region.path().toString()));
                args.add("-device");
                args.add("ivshmem-doorbell,id=" + region.id() + DEVICE_ID_SUFFIX + ",chardev=" + region.id() +
                    ",vectors=1");
                continue;
            }
            args.add("-object");
            args.add("memory-backend-file,id=" + region.id() +
                ",mem-path=" + optionValue(region.path().toString()) +
                ",size=" + sizeString(region.size()) +
                ",share=on" +
                (region.readOnly() ? ",readonly=on" : ""));
            args.add("-device");
            args.add("ivshmem-plain,id=" + region.id() + DEVICE_ID_SUFFIX + ",memdev=" + region.id());
        }

        return args;
    }

    /**
     * {@link #forDevices(List)} as one line to paste after a QEMU command, as {@code pcb broker} prints it.
     *
     * @param regions regions with distinct ids.
     * @return the shell-quoted arguments.
     */
    public static String forDevicesAsString(final List<IvshmemRegion> regions)
    {
        return render(forDevices(regions));
    }

    /**
     * QEMU arguments that export a host directory read-only over virtio-9p with mount tag {@link #HOST_ROOT_TAG}.
     * <p>
     * {@code multidevs=remap} keeps inode numbers unique across the host's mounts under the export.
     *
     * @param hostRoot directory to export, usually "/".
     * @return the arguments.
     */
    public static List<String> hostRootVirtfs(final Path hostRoot)
    {
        return List.of(
            "-virtfs",
            "local,path=" + optionValue(hostRoot.toString()) + ",mount_tag=" + HOST_ROOT_TAG +
            ",security_model=none,readonly=on,multidevs=remap");
    }

    /**
     * Escape a value inside a QEMU option list, where a comma separates options and ",," is a literal comma.
     *
     * @param value raw value.
     * @return the escaped value.
     */
    public static String optionValue(final String value)
    {
        return value.replace(",", ",,");
    }

    /**
     * Size in QEMU's notation, with the largest exact binary suffix (K, M, G, T).
     *
     * @param bytes size in bytes.
     * @return for example "4M" or "12345".
     */
    public static String sizeString(final long bytes)
    {
        final String[] suffixes = { "T", "G", "M", "K" };
        for (int i = 0; i < suffixes.length; i++)
        {
            final long unit = 1L << (10 * (suffixes.length - i));
            if (bytes >= unit && bytes % unit == 0)
            {
                return (bytes / unit) + suffixes[i];
            }
        }

        return Long.toString(bytes);
    }

    /**
     * Render arguments as one POSIX shell command line fragment, quoting what needs quoting.
     *
     * @param args arguments.
     * @return the arguments joined by spaces.
     */
    public static String render(final List<String> args)
    {
        final StringBuilder builder = new StringBuilder();
        for (final String arg : args)
        {
            if (builder.length() > 0)
            {
                builder.append(' ');
            }
            builder.append(shellQuote(arg));
        }

        return builder.toString();
    }

    /**
     * Quote one word for a POSIX shell: unchanged when safe, else in single quotes.
     *
     * @param word the word.
     * @return the quoted word.
     */
    public static String shellQuote(final String word)
    {
        if (!word.isEmpty() && SHELL_SAFE.matcher(word).matches())
        {
            return word;
        }

        return "'" + word.replace("'", "'\"'\"'") + "'";
    }

    /**
     * Split a POSIX shell line into words, the inverse of {@link #render(List)}: single quotes, double quotes and
     * backslashes, as the broker and {@code pcb qemu-args} quote the arguments they print.
     *
     * @param line the line.
     * @return its words.
     * @throws IllegalArgumentException when a quote is not closed.
     */
    public static List<String> shellWords(final String line)
    {
        final List<String> words = new ArrayList<>();
        final StringBuilder word = new StringBuilder();
        boolean inWord = false;
        for (int i = 0; i < line.length(); i++)
        {
            final char c = line.charAt(i);
            if (c == '\'')
            {
                final int end = line.indexOf('\'', i + 1);
                if (end < 0)
                {
                    throw new IllegalArgumentException("unbalanced quote in " + line);
                }
                word.append(line, i + 1, end);
                i = end;
                inWord = true;
            }
            else if (c == '"')
            {
                int j = i + 1;
                for (; j < line.length() && line.charAt(j) != '"'; j++)
                {
                    if (line.charAt(j) == '\\' && j + 1 < line.length())
                    {
                        j++;
                    }
                    word.append(line.charAt(j));
                }
                if (j >= line.length())
                {
                    throw new IllegalArgumentException("unbalanced quote in " + line);
                }
                i = j;
                inWord = true;
            }
            else if (c == '\\' && i + 1 < line.length())
            {
                word.append(line.charAt(++i));
                inWord = true;
            }
            else if (Character.isWhitespace(c))
            {
                if (inWord)
                {
                    words.add(word.toString());
                    word.setLength(0);
                    inWord = false;
                }
            }
            else
            {
                word.append(c);
                inWord = true;
            }
        }
        if (inWord)
        {
            words.add(word.toString());
        }
        return words;
    }
}
