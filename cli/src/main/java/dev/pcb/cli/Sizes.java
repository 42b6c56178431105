package dev.pcb.cli;

import picocli.CommandLine;

import java.util.Locale;

/**
 * Sizes as people write them: {@code 4096}, {@code 64k}, {@code 2m}, {@code 1g} (powers of 1024, case ignored,
 * an optional trailing "b" or "ib").
 */
public final class Sizes implements CommandLine.ITypeConverter<Long>
{
    /**
     * Parse a size.
     *
     * @param text for example "256m".
     * @return bytes.
     * @throws IllegalArgumentException naming the text when it is not a size.
     */
    public static long parse(final String text)
    {
        String s = text.trim().toLowerCase(Locale.ROOT);
        if (s.endsWith("ib"))
        {
            s = s.substring(0, s.length() - 2);
        }
        else if (s.endsWith("b"))
        {
            s = s.substring(0, s.length() - 1);
        }
        long unit = 1;
        if (!s.isEmpty())
        {
            switch (s.charAt(s.length() - 1))
            {
                case 'k': unit = 1L << 10; break;
                case 'm': unit = 1L << 20; break;
                case 'g': unit = 1L << 30; break;
                case 't': unit = 1L << 40; break;
                default: break;
            }
        }
        if (unit != 1)
        {
            s = s.substring(0, s.length() - 1);
        }
        try
        {
            final long value = Long.parseLong(s);
            if (value < 0 || value > Long.MAX_VALUE / unit)
            {
                throw new IllegalArgumentException("size out of range: " + text);
            }
            return value * unit;
        }
        catch (final NumberFormatException ex)
        {
            throw new IllegalArgumentException("not a size: \"" + text + "\" (examples: 4096, 64k, 2m, 1g)");
        }
    }

    /**
     * Render bytes for people, in the largest unit that keeps one decimal.
     *
     * @param bytes a size.
     * @return for example "1.5 GiB".
     */
    public static String format(final long bytes)
    {
        if (bytes < 1024)
        {
            return bytes + " B";
        }
        final String[] units = {"KiB", "MiB", "GiB", "TiB"};
        double value = bytes;
        int unit = -1;
        while (value >= 1024 && unit < units.length - 1)
        {
            value /= 1024;
            unit++;
        }
        return String.format(Locale.ROOT, "%.1f %s", value, units[unit]);
    }

    /** {@inheritDoc} */
    public Long convert(final String value)
    {
        try
        {
            return parse(value);
        }
        catch (final IllegalArgumentException ex)
        {
            throw new CommandLine.TypeConversionException(ex.getMessage());
        }
    }
}
