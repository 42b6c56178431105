package dev.pcb.cli;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Map;

/**
 * The {@code --qemu} part of the demo: boot a TCG guest attached to the demo's regions and read the share inside it.
 */
final class QemuDemo
{
    private QemuDemo()
    {
    }

    static int run(final PrintWriter out, final Path runDir, final Path share, final Map<String, String> expected)
    {
        out.println("--qemu: not available yet");
        return Pcb.EXIT_FAILURE;
    }
}
