package dev.pcb.bench;

import dev.pcb.testsupport.qemu.QemuGuest;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Boot one throwaway TCG guest over the host root (see {@link QemuGuest}) that runs a script, for shell-driven
 * benchmarks such as {@code benchmarks/memory-compare.sh}: the console goes to stdout line by line, the QEMU process id
 * is printed first as {@code PCB-RUN qemu-pid=N} so the caller can sample its memory, and the exit status is the
 * script's (3 when the guest ended without one).
 * <pre>
 * java -cp ... dev.pcb.bench.GuestRun NAME MEMORY_MIB CACHE_DIR SCRIPT_FILE TIMEOUT_S [QEMU_ARG...]
 * </pre>
 */
public final class GuestRun
{
    private GuestRun()
    {
    }

    /**
     * Run the guest.
     *
     * @param args name, memory in MiB, cache directory, script file, timeout in seconds, extra QEMU arguments.
     * @throws Exception when the guest cannot be started.
     */
    public static void main(final String[] args) throws Exception
    {
        if (args.length < 5)
        {
            System.err.println("usage: GuestRun NAME MEMORY_MIB CACHE_DIR SCRIPT_FILE TIMEOUT_S [QEMU_ARG...]");
            System.exit(2);
        }
        final String name = args[0];
        final List<String> qemuArgs = new ArrayList<>(Arrays.asList(args).subList(5, args.length));
        final QemuGuest guest = QemuGuest.builder()
            .name(name)
            .memoryMiB(Integer.parseInt(args[1]))
            .cacheDir(Path.of(args[2]))
            .script(Files.readString(Path.of(args[3])))
            .qemuArgs(qemuArgs.toArray(new String[0]))
            .consoleListener((line) ->
            {
                System.out.println(line);
                System.out.flush();
            })
            .build();
        int status = 3;
        try
        {
            guest.start();
            ProcessHandle.current().children().forEach((child) ->
                System.out.println("PCB-RUN qemu-pid=" + child.pid()));
            System.out.flush();
            final QemuGuest.Result result = guest.waitFor(Duration.ofSeconds(Long.parseLong(args[4])));
            System.out.println("PCB-RUN " + result);
            status = result.scriptExitStatus().orElse(3);
        }
        finally
        {
            guest.close();
        }
        System.exit(status);
    }
}
