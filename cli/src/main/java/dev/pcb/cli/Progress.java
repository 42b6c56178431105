package dev.pcb.cli;

import java.io.PrintWriter;
import java.util.Locale;

/**
 * A one-line progress meter on stderr for long operations, redrawn at most ten times a second.
 */
final class Progress
{
    private final PrintWriter err;
    private final String what;
    private final long total;
    private final long startNs = System.nanoTime();
    private long done;
    private long lastDrawNs;

    Progress(final PrintWriter err, final String what, final long total)
    {
        this.err = err;
        this.what = what;
        this.total = total;
    }

    void advance(final long bytes)
    {
        done += bytes;
        final long now = System.nanoTime();
        if (null != err && now - lastDrawNs > 100_000_000L)
        {
            lastDrawNs = now;
            draw(now);
        }
    }

    void done()
    {
        if (null != err)
        {
            draw(System.nanoTime());
            err.println();
            err.flush();
        }
    }

    private void draw(final long now)
    {
        final double seconds = Math.max(1e-9, (now - startNs) / 1e9);
        final int percent = total == 0 ? 100 : (int)(100 * done / total);
        err.printf(Locale.ROOT, "\r%s: %3d%% %s of %s, %s/s", what, percent, Sizes.format(done), Sizes.format(total),
            Sizes.format((long)(done / seconds)));
        err.flush();
    }
}
