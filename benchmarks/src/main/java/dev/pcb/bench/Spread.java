package dev.pcb.bench;

import java.util.Arrays;
import java.util.Locale;

/**
 * Median and spread of per-round samples (ratios or latencies): the median, the interquartile range and the
 * minimum and maximum, quantiles linearly interpolated between the sorted samples.
 *
 * @param median the median.
 * @param q1     the 25th percentile.
 * @param q3     the 75th percentile.
 * @param min    the smallest sample.
 * @param max    the largest sample.
 * @param count  samples.
 */
public record Spread(double median, double q1, double q3, double min, double max, int count)
{
    /**
     * The spread of some samples; NaN samples (a round that could not be measured) are left out.
     *
     * @param samples the samples, not modified.
     * @return their spread; all NaN when there are none.
     */
    public static Spread of(final double[] samples)
    {
        final double[] sorted = Arrays.stream(samples).filter((v) -> !Double.isNaN(v)).sorted().toArray();
        if (0 == sorted.length)
        {
            return new Spread(Double.NaN, Double.NaN, Double.NaN, Double.NaN, Double.NaN, 0);
        }
        return new Spread(quantile(sorted, 0.5), quantile(sorted, 0.25), quantile(sorted, 0.75),
            sorted[0], sorted[sorted.length - 1], sorted.length);
    }

    private static double quantile(final double[] sorted, final double q)
    {
        final double position = q * (sorted.length - 1);
        final int below = (int)Math.floor(position);
        final int above = Math.min(sorted.length - 1, below + 1);
        return sorted[below] + (position - below) * (sorted[above] - sorted[below]);
    }

    /**
     * As table cells: median, IQR, min-max, each scaled and formatted alike.
     *
     * @param scale  multiplier (100 for percent).
     * @param format a {@link String#format} pattern for one number, for example {@code "%.1f%%"}.
     * @return "median | q1-q3 | min-max".
     */
    public String cells(final double scale, final String format)
    {
        return f(format, scale * median) + " | " + f(format, scale * q1) + " - " + f(format, scale * q3) + " | " +
            f(format, scale * min) + " - " + f(format, scale * max);
    }

    private static String f(final String format, final double value)
    {
        return String.format(Locale.ROOT, format, value);
    }
}
