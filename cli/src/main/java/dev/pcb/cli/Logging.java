package dev.pcb.cli;

import java.util.logging.ConsoleHandler;
import java.util.logging.Level;
import java.util.logging.LogManager;
import java.util.logging.Logger;
import java.util.logging.SimpleFormatter;

/**
 * One line per event on stderr, "time level logger: message", with the level from {@code PCB_LOG_LEVEL} or
 * {@code -Dpcb.log.level} (INFO by default; WARNING, FINE and the like also work).
 */
final class Logging
{
    private Logging()
    {
    }

    static void configure()
    {
        if (null == System.getProperty("java.util.logging.SimpleFormatter.format"))
        {
            System.setProperty("java.util.logging.SimpleFormatter.format",
                "%1$tFT%1$tT.%1$tL %4$s %3$s: %5$s%6$s%n");
        }
        String levelName = System.getProperty("pcb.log.level", System.getenv("PCB_LOG_LEVEL"));
        final Level level = parse(levelName);
        LogManager.getLogManager().reset();
        final Logger root = Logger.getLogger("");
        final ConsoleHandler handler = new ConsoleHandler();
        handler.setFormatter(new SimpleFormatter());
        handler.setLevel(level);
        root.addHandler(handler);
        root.setLevel(level);
        // Chronicle announces itself at INFO on every start; keep its warnings only.
        Logger.getLogger("net.openhft").setLevel(Level.WARNING);
    }

    static void level(final String levelName)
    {
        final Level level = parse(levelName);
        final Logger root = Logger.getLogger("");
        root.setLevel(level);
        for (final var handler : root.getHandlers())
        {
            handler.setLevel(level);
        }
    }

    private static Level parse(final String name)
    {
        if (null == name || name.isBlank())
        {
            return Level.INFO;
        }
        switch (name.trim().toUpperCase(java.util.Locale.ROOT))
        {
            case "DEBUG": return Level.FINE;
            case "TRACE": return Level.FINEST;
            case "WARN": return Level.WARNING;
            case "ERROR": return Level.SEVERE;
            default:
                try
                {
                    return Level.parse(name.trim().toUpperCase(java.util.Locale.ROOT));
                }
                catch (final IllegalArgumentException ex)
                {
                    return Level.INFO;
                }
        }
    }
}
