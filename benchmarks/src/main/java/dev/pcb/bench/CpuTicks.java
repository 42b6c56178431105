package dev.pcb.bench;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Locale;

/**
 * CPU time from {@code /proc}, in USER_HZ ticks (100 per second on Linux): the whole machine's busy time and one
 * process's, so a benchmark can say how much CPU it used itself and how much the rest of a shared machine took
 * while it measured ("foreign" CPU).
 */
public final class CpuTicks
{
    /** USER_HZ: ticks per second in {@code /proc/stat} and {@code /proc/PID/stat}. */
    public static final double PER_SECOND = 100.0;

    private CpuTicks()
    {
    }

    /**
     * Busy ticks of all CPUs: user, nice, system, irq, softirq and steal (all but idle and iowait).
     *
     * @return ticks since boot.
     */
    public static long machineBusy()
    {
        try
        {
            final String[] cpu = Files.readAllLines(Path.of("/proc/stat")).get(0).trim().split("\\s+");
            long busy = 0;
            for (int i = 1; i <= 8 && i < cpu.length; i++)
            {
                busy += (4 == i || 5 == i) ? 0 : Long.parseLong(cpu[i]);
            }
            return busy;
        }
        catch (final IOException ex)
        {
            throw new UncheckedIOException(ex);
        }
    }

    /**
     * User plus system ticks of one process, all its threads.
     *
     * @param pid the process.
     * @return ticks since it started; 0 once it has exited.
     */
    public static long process(final long pid)
    {
        try
        {
            final String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
            final String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            // After ")": state is field 3 of proc(5); utime and stime are fields 14 and 15.
            return Long.parseLong(f[11]) + Long.parseLong(f[12]);
        }
        catch (final NoSuchFileException ex)
        {
            return 0;
        }
        catch (final IOException ex)
        {
            throw new UncheckedIOException(ex);
        }
    }

    /**
     * The 1, 5 and 15 minute load averages.
     *
     * @return "a b c", or "unknown".
     */
    public static String loadAverage()
    {
        try
        {
            final String[] fields = Files.readString(Path.of("/proc/loadavg")).trim().split("\\s+");
            return String.join(" ", fields[0], fields[1], fields[2]);
        }
        catch (final IOException | RuntimeException ex)
        {
            return "unknown";
        }
    }

    /**
     * A window of wall time over which the machine's busy ticks and some processes' ticks are counted, so what
     * other processes used meanwhile can be told apart.
     */
    public static final class Window
    {
        private final long[] pids;
        private final long[] before;
        private final long machineBefore;
        private final long startNs;

        /**
         * Start counting now.
         *
         * @param pids the processes that are "ours".
         */
        public Window(final long... pids)
        {
            this.pids = pids.clone();
            this.before = new long[pids.length];
            for (int i = 0; i < pids.length; i++)
            {
                before[i] = process(pids[i]);
            }
            this.machineBefore = machineBusy();
            this.startNs = System.nanoTime();
        }

        /** @return wall seconds since the start. */
        public double seconds()
        {
            return (System.nanoTime() - startNs) / 1e9;
        }

        /**
         * Percent of one core one of our processes used since the start.
         *
         * @param index its index in the constructor's list.
         * @return percent of one core.
         */
        public double percent(final int index)
        {
            return 100.0 * (process(pids[index]) - before[index]) / PER_SECOND / seconds();
        }

        /**
         * Ticks one of our processes used since the start.
         *
         * @param index its index in the constructor's list.
         * @return ticks.
         */
        public long ticks(final int index)
        {
            return process(pids[index]) - before[index];
        }

        /** @return percent of one core used since the start by every process not in the list. */
        public double foreignPercent()
        {
            long ours = 0;
            for (int i = 0; i < pids.length; i++)
            {
                ours += process(pids[i]) - before[i];
            }
            final long others = Math.max(0, machineBusy() - machineBefore - ours);
            return 100.0 * others / PER_SECOND / seconds();
        }

        /** @return "foreign CPU N% of one core, load A B C". */
        public String describe()
        {
            return String.format(Locale.ROOT, "foreign CPU %.0f%% of one core, load %s", foreignPercent(),
                loadAverage());
        }
    }
}
