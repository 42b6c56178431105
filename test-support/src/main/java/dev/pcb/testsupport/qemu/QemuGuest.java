package dev.pcb.testsupport.qemu;

import java.io.File;
import dev.pcb.testsupport.FileTrees;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import java.util.stream.Stream;

/**
 * A real Linux guest under QEMU (TCG, no KVM needed) that runs one shell script chrooted into the host's root
 * filesystem, mounted read-only over virtio-9p, with pcb regions attached as ivshmem-plain devices.
 * <p>
 * The guest runs the host's own programs (its {@code java}, the freshly built jars), so nothing but an initramfs is
 * built, see {@link Initramfs}. Its serial console is QEMU's stdout; the guest init prints
 * {@code PCB-GUEST-EXIT <status>} when the script ends and powers off. Inside the guest the host's {@code /tmp} and
 * {@code /dev/shm} are hidden by the guest's own tmpfs: keep what the guest reads from the host elsewhere (see
 * {@link #visibleInGuest(Path)}).
 * <pre>{@code
 * try (QemuGuest guest = QemuGuest.builder()
 *     .name("vm1")
 *     .cacheDir(Path.of("target/qemu"))
 *     .ivshmem(IvshmemRegion.readOnly("data0", Path.of("/dev/shm/pcb/data.region"), 64 << 20))
 *     .ivshmem(IvshmemRegion.writable("ctrl", Path.of("/dev/shm/pcb/vm1.control"), 4 << 20))
 *     .script("exec /usr/bin/java -cp /work/app.jar Main\n")
 *     .build())
 * {
 *     guest.start();
 *     final QemuGuest.Result result = guest.waitFor(Duration.ofMinutes(2));
 * }
 * }</pre>
 */
public final class QemuGuest implements AutoCloseable
{
    /** QEMU binary looked up on the PATH by default. */
    public static final String DEFAULT_QEMU = "qemu-system-x86_64";

    /** Where the default kernel is looked for: the newest {@code vmlinuz-*}. */
    public static final Path DEFAULT_BOOT_DIR = Path.of("/boot");

    /** Guest RAM by default: room for a guest JVM with its default heap. */
    public static final int DEFAULT_MEMORY_MIB = 1024;

    /** Kernel arguments besides the console: no reboot loop on panic, few kernel messages on the console. */
    public static final String DEFAULT_KERNEL_ARGS = "panic=-1 quiet loglevel=3";

    /** How long QEMU gets to exit by itself after the guest printed its exit status. */
    public static final Duration POWEROFF_GRACE = Duration.ofSeconds(10);

    /** Host directories hidden or replaced inside the guest, so the guest cannot read the host's files there. */
    public static final List<Path> HIDDEN_IN_GUEST =
        List.of(Path.of("/tmp"), Path.of("/dev"), Path.of("/proc"), Path.of("/sys"));

    private static final AtomicLong GUEST_SEQUENCE = new AtomicLong();
    private static final int CONSOLE_TAIL_CHARS = 4000;

    private final String name;
    private final String qemu;
    private final Path kernel;
    private final Path modulesDir;
    private final Path busybox;
    private final Path cacheDir;
    private final Path hostRoot;
    private final Path bundle;
    private final int memoryMiB;
    private final int cpus;
    private final String kernelArgs;
    private final List<IvshmemRegion> regions;
    private final List<String> earlyQemuArgs;
    private final List<String> extraQemuArgs;
    private final String script;
    private final Consumer<String> consoleListener;

    private final StringBuilder console = new StringBuilder();
    private final Object lock = new Object();
    private List<String> command = List.of();
    private Path initrd;
    private Process process;
    private Thread consoleReader;
    private Thread shutdownHook;
    private long startNanos;
    private long readyNanos;
    private long exitMarkerNanos;
    private int scriptExitStatus;
    private boolean exitMarkerSeen;
    private boolean consoleEnded;
    private boolean closed;

    private QemuGuest(final Builder builder)
    {
        name = builder.name;
        qemu = builder.qemu;
        kernel = null != builder.kernel ? builder.kernel : newestKernel(DEFAULT_BOOT_DIR);
        modulesDir = null != builder.modulesDir ? builder.modulesDir : Path.of("/lib/modules", kernelVersion(kernel));
        busybox = null != builder.busybox ? builder.busybox : Initramfs.findBusybox();
        cacheDir = Objects.requireNonNull(builder.cacheDir, "cacheDir");
        hostRoot = builder.hostRoot;
        bundle = builder.bundle;
        memoryMiB = builder.memoryMiB;
        cpus = builder.cpus;
        kernelArgs = builder.kernelArgs;
        regions = List.copyOf(builder.regions);
        earlyQemuArgs = List.copyOf(builder.earlyQemuArgs);
        extraQemuArgs = List.copyOf(builder.extraQemuArgs);
        script = Objects.requireNonNull(builder.script, "script");
        final Consumer<String> listener = builder.consoleListener;
        consoleListener = !builder.echoConsole ? listener : (line) ->
        {
            System.out.println("[" + name + "] " + line);
            if (null != listener)
            {
                listener.accept(line);
            }
        };
    }

    /**
     * Start describing a guest.
     *
     * @return a builder with the defaults of this class.
     */
    public static Builder builder()
    {
        return new Builder();
    }

    /**
     * Build the initramfs if needed and start QEMU. The guest then boots and runs its script on its own.
     *
     * @throws IOException           when the initramfs cannot be written or QEMU cannot be started.
     * @throws IllegalStateException when QEMU, the kernel or a region file is missing, or when already started.
     */
    public void start() throws IOException
    {
        synchronized (lock)
        {
            if (null != process || closed)
            {
                throw new IllegalStateException("guest " + name + " was already started");
            }
        }

        final Path qemuPath = findOnPath(qemu).orElseThrow(() -> new IllegalStateException(
            qemu + " not found on PATH: install QEMU (apt-get install qemu-system-x86)"));
        if (!Files.isReadable(kernel))
        {
            throw new IllegalStateException("kernel " + kernel + " is missing or unreadable");
        }
        for (final IvshmemRegion region : regions)
        {
            // QEMU would quietly create a missing file, even a read-only one, and the guest would see only zeros.
            if (!Files.isRegularFile(region.path()) || Files.size(region.path()) != region.size())
            {
                throw new IllegalStateException("region file " + region.path() + " must exist with size " +
                    region.size() + " (the BAR size) for " + region.id());
            }
        }

        final Path base = null != bundle ?
            Initramfs.bundleBase(cacheDir, modulesDir, busybox, bundle) : Initramfs.base(cacheDir, modulesDir, busybox);
        final Path guestsDir = Files.createDirectories(cacheDir.resolve("guests"));
        final Path guestInitrd = guestsDir.resolve(
            name + "-" + ProcessHandle.current().pid() + "-" + GUEST_SEQUENCE.incrementAndGet() + ".cpio");
        Initramfs.writeForGuest(base, script, guestInitrd);

        final List<String> args = new ArrayList<>();
        args.add(qemuPath.toString());
        Collections.addAll(args,
            "-name", name,
            "-accel", "tcg",
            "-m", Integer.toString(memoryMiB),
            "-smp", Integer.toString(cpus),
            "-nodefaults", "-no-user-config",
            "-display", "none",
            "-monitor", "none",
            "-serial", "stdio",
            "-no-reboot",
            "-kernel", kernel.toString(),
            "-initrd", guestInitrd.toString(),
            "-append", "console=ttyS0 " + kernelArgs);
        args.addAll(earlyQemuArgs);
        if (null == bundle)
        {
            args.addAll(QemuArgs.hostRootVirtfs(hostRoot));
        }
        args.addAll(QemuArgs.forDevices(regions));
        args.addAll(extraQemuArgs);

        final ProcessBuilder processBuilder = new ProcessBuilder(args)
            .redirectErrorStream(true)
            .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));

        synchronized (lock)
        {
            command = List.copyOf(args);
            initrd = guestInitrd;
            startNanos = System.nanoTime();
            final Process started = processBuilder.start();
            process = started;
            consoleReader = new Thread(() -> readConsole(started.getInputStream()), "qemu-console-" + name);
            consoleReader.setDaemon(true);
            consoleReader.start();

            // A test JVM that ends without close() must not leave emulators running.
            shutdownHook = new Thread(() -> killAndDelete(started, guestInitrd), "qemu-kill-" + name);
            Runtime.getRuntime().addShutdownHook(shutdownHook);
        }
    }

    /**
     * Wait for the guest to finish: QEMU exits after the script's exit status was printed, or the guest dies.
     * <p>
     * A guest that printed its status but does not power off within {@link #POWEROFF_GRACE} is killed and its result
     * returned. A guest still running at the timeout is killed.
     *
     * @param timeout how long to wait from now.
     * @return exit status of the script, QEMU's exit code and the whole console output.
     * @throws TimeoutException     when the guest did not finish in time; the message ends with the console's tail.
     * @throws InterruptedException when interrupted while waiting; the guest keeps running until {@link #close()}.
     */
    public Result waitFor(final Duration timeout) throws TimeoutException, InterruptedException
    {
        final Process running;
        synchronized (lock)
        {
            running = process;
        }
        if (null == running)
        {
            throw new IllegalStateException("guest " + name + " was not started");
        }

        final long deadline = System.nanoTime() + timeout.toNanos();
        while (!running.waitFor(50, TimeUnit.MILLISECONDS))
        {
            final long now = System.nanoTime();
            final long markerNanos;
            synchronized (lock)
            {
                markerNanos = exitMarkerSeen ? exitMarkerNanos : 0;
            }
            if (0 != markerNanos && now - markerNanos > POWEROFF_GRACE.toNanos())
            {
                destroyTree(running);
                break;
            }
            if (now - deadline > 0)
            {
                destroyTree(running);
                joinConsoleReader();
                throw new TimeoutException("guest " + name + " did not finish within " + timeout +
                    "; console tail:\n" + tail(console(), CONSOLE_TAIL_CHARS));
            }
        }

        running.waitFor(5, TimeUnit.SECONDS);
        final long exitNanos = System.nanoTime();
        joinConsoleReader();

        synchronized (lock)
        {
            return new Result(
                exitMarkerSeen ? OptionalInt.of(scriptExitStatus) : OptionalInt.empty(),
                running.isAlive() ? -1 : running.exitValue(),
                console.toString(),
                Duration.ofNanos(exitNanos - startNanos),
                0 != readyNanos ? Optional.of(Duration.ofNanos(readyNanos - startNanos)) : Optional.empty());
        }
    }

    /**
     * Console output so far, lines ending in '\n' (the serial console's '\r' removed).
     *
     * @return the console text.
     */
    public String console()
    {
        synchronized (lock)
        {
            return console.toString();
        }
    }

    /**
     * Wait for the first console line that starts with a prefix, such as a marker the guest script prints when a
     * phase is done, while the guest keeps running.
     *
     * @param prefix  start of the line.
     * @param timeout how long to wait from now.
     * @return the whole line.
     * @throws TimeoutException      when no such line came in time; the message ends with the console's tail.
     * @throws IllegalStateException when the console ended (the guest is gone) without such a line.
     * @throws InterruptedException  when interrupted while waiting.
     */
    public String awaitLine(final String prefix, final Duration timeout) throws TimeoutException, InterruptedException
    {
        final long deadline = System.nanoTime() + timeout.toNanos();
        synchronized (lock)
        {
            while (true)
            {
                final int at = console.indexOf(prefix);
                for (int i = at; i >= 0; i = console.indexOf(prefix, i + 1))
                {
                    if (0 == i || console.charAt(i - 1) == '\n')
                    {
                        final int end = console.indexOf("\n", i);
                        return console.substring(i, end < 0 ? console.length() : end);
                    }
                }
                if (consoleEnded)
                {
                    throw new IllegalStateException("guest " + name + " ended without a line '" + prefix +
                        "'; console tail:\n" + tail(console.toString(), CONSOLE_TAIL_CHARS));
                }
                final long remainingMs = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
                if (remainingMs <= 0)
                {
                    throw new TimeoutException("guest " + name + " printed no line '" + prefix + "' within " +
                        timeout + "; console tail:\n" + tail(console.toString(), CONSOLE_TAIL_CHARS));
                }
                lock.wait(remainingMs);
            }
        }
    }

    /**
     * The QEMU command line of this guest, once started.
     *
     * @return program and arguments, empty before {@link #start()}.
     */
    public List<String> command()
    {
        synchronized (lock)
        {
            return command;
        }
    }

    /**
     * Name of the guest, as given to QEMU and used in file and thread names.
     *
     * @return the name.
     */
    public String name()
    {
        return name;
    }

    /**
     * Is QEMU still running?
     *
     * @return true between {@link #start()} and the end of the guest.
     */
    public boolean isAlive()
    {
        synchronized (lock)
        {
            return null != process && process.isAlive();
        }
    }

    /**
     * Kill QEMU and anything it started, wait for them to go, and delete this guest's initramfs. Idempotent.
     */
    public void close()
    {
        final Process running;
        final Thread hook;
        final Path guestInitrd;
        synchronized (lock)
        {
            if (closed)
            {
                return;
            }
            closed = true;
            running = process;
            hook = shutdownHook;
            guestInitrd = initrd;
        }

        if (null != running)
        {
            destroyTree(running);
            joinConsoleReader();
        }
        if (null != hook)
        {
            try
            {
                Runtime.getRuntime().removeShutdownHook(hook);
            }
            catch (final IllegalStateException ignore)
            {
                // The JVM is shutting down: the hook runs anyway.
            }
        }
        if (null != guestInitrd)
        {
            try
            {
                Files.deleteIfExists(guestInitrd);
            }
            catch (final IOException ex)
            {
                throw new UncheckedIOException(ex);
            }
        }
    }

    /**
     * The newest {@code vmlinuz-<version>} of a directory, by version order.
     *
     * @param bootDir directory like {@code /boot}.
     * @return path of the kernel.
     * @throws IllegalStateException when there is none.
     */
    public static Path newestKernel(final Path bootDir)
    {
        try (Stream<Path> files = Files.list(bootDir))
        {
            return files
                .filter((file) -> file.getFileName().toString().startsWith("vmlinuz-"))
                .max(Comparator.comparing(QemuGuest::kernelVersion, QemuGuest::compareVersions))
                .orElseThrow(() -> new IllegalStateException(
                    "no vmlinuz-* in " + bootDir + ": apt-get install linux-image-amd64"));
        }
        catch (final IOException ex)
        {
            throw new IllegalStateException("cannot list kernels in " + bootDir, ex);
        }
    }

    /**
     * The java launcher of this JVM, symbolic links resolved. A guest over the host root runs the same file.
     *
     * @return path of {@code bin/java} under {@code java.home}.
     */
    public static Path hostJava()
    {
        try
        {
            return Path.of(System.getProperty("java.home"), "bin", "java").toRealPath();
        }
        catch (final IOException ex)
        {
            throw new UncheckedIOException(ex);
        }
    }

    /** Where host files the guest could not see are copied, under the host root the guest mounts. */
    public static final Path GUEST_STAGING = Path.of("/var/tmp/pcb-guest-stage");

    /** This JVM's staging directories: guests read them for as long as they run, so they go when the JVM exits. */
    private static final List<Path> STAGED = new ArrayList<>();

    /**
     * A path the guest sees with this file's or directory's content: the path itself when the guest sees it, else a
     * fresh copy under {@link #GUEST_STAGING} (a build under /tmp, for example, is hidden by the guest's own /tmp).
     * <p>
     * Each copy goes into a directory of its own, made by an atomic {@code mkdir} with this process's id in its name,
     * so guests launched at the same time, by one JVM or by several, never delete or overwrite a copy another guest
     * reads. The copies are deleted when this JVM exits, and those of JVMs that died without doing so on the next
     * staging.
     *
     * @param path a host file or directory the guest script will read.
     * @return a host path, visible in the guest, with the same content.
     */
    public static Path visibleInGuest(final Path path)
    {
        final Path absolute = path.toAbsolutePath().normalize();
        if (isVisibleInGuest(absolute))
        {
            return absolute;
        }
        try
        {
            final Path copy = newStagingDirectory().resolve(absolute.getFileName());
            try (var paths = Files.walk(absolute))
            {
                for (final Path source : (Iterable<Path>)paths::iterator)
                {
                    final Path target = copy.resolve(absolute.relativize(source).toString());
                    // Links are copied as links (a build tree holds some that dangle on the host, such as the
                    // .deb's /usr/bin/pcb -> /opt/pcb/bin/pcb), and never followed out of the tree.
                    if (Files.isDirectory(source, LinkOption.NOFOLLOW_LINKS))
                    {
                        Files.createDirectories(target);
                    }
                    else
                    {
                        Files.copy(source, target, StandardCopyOption.REPLACE_EXISTING, LinkOption.NOFOLLOW_LINKS);
                    }
                }
            }
            return copy;
        }
        catch (final IOException ex)
        {
            throw new UncheckedIOException(ex);
        }
    }

    private static Path newStagingDirectory() throws IOException
    {
        final String pidPrefix = ProcessHandle.current().pid() + "-";
        synchronized (STAGED)
        {
            if (STAGED.isEmpty())
            {
                deleteStagingOfDeadProcesses();
                Runtime.getRuntime().addShutdownHook(new Thread(QemuGuest::deleteStaged, "pcb-guest-staging-cleanup"));
            }
            final Path dir = Files.createTempDirectory(Files.createDirectories(GUEST_STAGING), pidPrefix);
            STAGED.add(dir);
            return dir;
        }
    }

    private static void deleteStaged()
    {
        synchronized (STAGED)
        {
            for (final Path dir : STAGED)
            {
                deleteQuietly(dir);
            }
            STAGED.clear();
        }
    }

    private static void deleteStagingOfDeadProcesses() throws IOException
    {
        try (Stream<Path> dirs = Files.list(Files.createDirectories(GUEST_STAGING)))
        {
            for (final Path dir : (Iterable<Path>)dirs::iterator)
            {
                final String name = dir.getFileName().toString();
                final int dash = name.indexOf('-');
                if (dash > 0 && name.substring(0, dash).chars().allMatch(Character::isDigit) &&
                    ProcessHandle.of(Long.parseLong(name.substring(0, dash))).isEmpty())
                {
                    deleteQuietly(dir);
                }
            }
        }
    }

    private static void deleteQuietly(final Path dir)
    {
        try
        {
            FileTrees.delete(dir);
        }
        catch (final IOException ex)
        {
            System.err.println("pcb: could not delete staged copy " + dir + ": " + ex);
        }
    }

    private static boolean isVisibleInGuest(final Path absolute)
    {
        for (final Path hidden : HIDDEN_IN_GUEST)
        {
            if (absolute.startsWith(hidden))
            {
                return false;
            }
        }
        return true;
    }


    /**
     * Find a program the way a shell would, on the PATH.
     *
     * @param program a name, or a path containing '/'.
     * @return the executable, or empty.
     */
    public static Optional<Path> findOnPath(final String program)
    {
        if (program.contains("/"))
        {
            final Path path = Path.of(program);
            return Files.isExecutable(path) ? Optional.of(path) : Optional.empty();
        }

        final String pathVariable = Objects.requireNonNullElse(System.getenv("PATH"), "/usr/bin:/bin");
        for (final String dir : pathVariable.split(File.pathSeparator))
        {
            if (!dir.isEmpty())
            {
                final Path candidate = Path.of(dir, program);
                if (Files.isRegularFile(candidate) && Files.isExecutable(candidate))
                {
                    return Optional.of(candidate);
                }
            }
        }

        return Optional.empty();
    }

    /**
     * The module directory of a kernel, as a guest of this class uses it by default.
     *
     * @param kernel a {@code vmlinuz-<version>}.
     * @return {@code /lib/modules/<version>}.
     * @throws IllegalStateException when the file name has no version.
     */
    public static Path modulesDirOf(final Path kernel)
    {
        return Path.of("/lib/modules", kernelVersion(kernel));
    }

    private static String kernelVersion(final Path kernel)
    {
        final String file = kernel.getFileName().toString();
        if (!file.startsWith("vmlinuz-"))
        {
            throw new IllegalStateException(
                "cannot tell the version of kernel " + kernel + " (not vmlinuz-<version>): set modulesDir");
        }
        return file.substring("vmlinuz-".length());
    }

    /**
     * Compare versions like "6.1.0-56-amd64": digit runs numerically, the rest as text.
     */
    private static int compareVersions(final String a, final String b)
    {
        final String[] x = a.split("(?<=\\d)(?=\\D)|(?<=\\D)(?=\\d)");
        final String[] y = b.split("(?<=\\d)(?=\\D)|(?<=\\D)(?=\\d)");
        for (int i = 0; i < Math.min(x.length, y.length); i++)
        {
            final boolean numbers = Character.isDigit(x[i].charAt(0)) && Character.isDigit(y[i].charAt(0));
            final int order = numbers ?
                Long.compare(Long.parseLong(x[i]), Long.parseLong(y[i])) : x[i].compareTo(y[i]);
            if (0 != order)
            {
                return order;
            }
        }

        return Integer.compare(x.length, y.length);
    }

    private void readConsole(final InputStream input)
    {
        final byte[] buffer = new byte[8192];
        final StringBuilder line = new StringBuilder();
        try
        {
            int read;
            while ((read = input.read(buffer)) != -1)
            {
                // Decoded per line so a multi-byte character split between reads is not mangled in the common case.
                for (int i = 0; i < read; i++)
                {
                    final byte b = buffer[i];
                    if (b == '\n')
                    {
                        onLine(line.toString());
                        line.setLength(0);
                    }
                    else if (b != '\r')
                    {
                        line.append((char)(b & 0xff));
                    }
                }
            }
        }
        catch (final IOException ignore)
        {
            // The stream closes when QEMU is killed.
        }

        if (line.length() > 0)
        {
            onLine(line.toString());
        }
        synchronized (lock)
        {
            consoleEnded = true;
            lock.notifyAll();
        }
    }

    private void onLine(final String latin1Line)
    {
        final String text = new String(latin1Line.getBytes(StandardCharsets.ISO_8859_1), StandardCharsets.UTF_8);
        synchronized (lock)
        {
            console.append(text).append('\n');
            if (text.startsWith(Initramfs.READY_MARKER) && 0 == readyNanos)
            {
                readyNanos = System.nanoTime();
            }
            if (text.startsWith(Initramfs.EXIT_MARKER + " ") && !exitMarkerSeen)
            {
                try
                {
                    scriptExitStatus = Integer.parseInt(text.substring(Initramfs.EXIT_MARKER.length() + 1).trim());
                    exitMarkerSeen = true;
                    exitMarkerNanos = System.nanoTime();
                }
                catch (final NumberFormatException ignore)
                {
                    // Not our init's marker line: leave it as console text.
                }
            }
            lock.notifyAll();
        }

        if (null != consoleListener)
        {
            consoleListener.accept(text);
        }
    }

    private void joinConsoleReader()
    {
        final Thread reader;
        synchronized (lock)
        {
            reader = consoleReader;
        }
        if (null != reader)
        {
            try
            {
                reader.join(5_000);
            }
            catch (final InterruptedException ex)
            {
                Thread.currentThread().interrupt();
            }
        }
    }

    private static void destroyTree(final Process process)
    {
        // Children first, so none is re-parented and left behind when QEMU goes.
        process.descendants().forEach(ProcessHandle::destroyForcibly);
        process.destroyForcibly();
        try
        {
            process.waitFor(10, TimeUnit.SECONDS);
        }
        catch (final InterruptedException ex)
        {
            Thread.currentThread().interrupt();
        }
    }

    private static void killAndDelete(final Process process, final Path guestInitrd)
    {
        destroyTree(process);
        try
        {
            Files.deleteIfExists(guestInitrd);
        }
        catch (final IOException ignore)
        {
            // Only a file under the cache directory is left behind.
        }
    }

    private static String tail(final String text, final int chars)
    {
        return text.length() <= chars ? text : "..." + text.substring(text.length() - chars);
    }

    /**
     * How a guest ended.
     */
    public static final class Result
    {
        private final OptionalInt scriptExitStatus;
        private final int qemuExitCode;
        private final String console;
        private final Duration elapsed;
        private final Optional<Duration> readyAfter;

        Result(
            final OptionalInt scriptExitStatus,
            final int qemuExitCode,
            final String console,
            final Duration elapsed,
            final Optional<Duration> readyAfter)
        {
            this.scriptExitStatus = scriptExitStatus;
            this.qemuExitCode = qemuExitCode;
            this.console = console;
            this.elapsed = elapsed;
            this.readyAfter = readyAfter;
        }

        /**
         * Exit status of the guest script, from the init's {@code PCB-GUEST-EXIT} line.
         *
         * @return the status, or empty when the guest ended without reporting one (init failure, panic, kill).
         */
        public OptionalInt scriptExitStatus()
        {
            return scriptExitStatus;
        }

        /**
         * Did the script report status 0?
         *
         * @return true on success.
         */
        public boolean succeeded()
        {
            return scriptExitStatus.isPresent() && 0 == scriptExitStatus.getAsInt();
        }

        /**
         * Exit code of the QEMU process: 0 after a guest power-off.
         *
         * @return the exit code, or -1 when QEMU had to be killed and had not yet exited.
         */
        public int qemuExitCode()
        {
            return qemuExitCode;
        }

        /**
         * Whole serial console output: kernel messages, init lines and the script's output.
         *
         * @return the console text.
         */
        public String console()
        {
            return console;
        }

        /**
         * Time from starting QEMU to its exit.
         *
         * @return the duration.
         */
        public Duration elapsed()
        {
            return elapsed;
        }

        /**
         * Time from starting QEMU to the init running the script: the boot time.
         *
         * @return the duration, or empty when the guest never got that far.
         */
        public Optional<Duration> readyAfter()
        {
            return readyAfter;
        }

        /**
         * {@inheritDoc}
         */
        public String toString()
        {
            return "Result{scriptExitStatus=" + scriptExitStatus + ", qemuExitCode=" + qemuExitCode +
                ", elapsed=" + elapsed + ", readyAfter=" + readyAfter + '}';
        }
    }

    /**
     * Description of a guest; {@link #cacheDir(Path)} and {@link #script(String)} are required.
     */
    public static final class Builder
    {
        private String name = "pcb-guest";
        private String qemu = DEFAULT_QEMU;
        private Path kernel;
        private Path modulesDir;
        private Path busybox;
        private Path cacheDir;
        private Path hostRoot = Path.of("/");
        private Path bundle;
        private int memoryMiB = DEFAULT_MEMORY_MIB;
        private int cpus = 1;
        private String kernelArgs = DEFAULT_KERNEL_ARGS;
        private final List<IvshmemRegion> regions = new ArrayList<>();
        private final List<String> earlyQemuArgs = new ArrayList<>();
        private final List<String> extraQemuArgs = new ArrayList<>();
        private String script;
        private Consumer<String> consoleListener;
        private boolean echoConsole;

        private Builder()
        {
        }

        /**
         * Name of the guest, for QEMU, logs and file names.
         *
         * @param name letters, digits, '-', '_' or '.'.
         * @return this builder.
         */
        public Builder name(final String name)
        {
            if (!name.matches("[A-Za-z0-9._-]+"))
            {
                throw new IllegalArgumentException("guest name must be letters, digits, '-', '_' or '.': " + name);
            }
            this.name = name;
            return this;
        }

        /**
         * QEMU binary.
         *
         * @param qemu a name looked up on the PATH, or a path; default {@link #DEFAULT_QEMU}.
         * @return this builder.
         */
        public Builder qemu(final String qemu)
        {
            this.qemu = Objects.requireNonNull(qemu, "qemu");
            return this;
        }

        /**
         * Guest kernel; its modules are taken from {@code /lib/modules/<version>} unless {@link #modulesDir(Path)}.
         *
         * @param kernel a {@code vmlinuz-<version>}; default the newest one in {@link #DEFAULT_BOOT_DIR}.
         * @return this builder.
         */
        public Builder kernel(final Path kernel)
        {
            this.kernel = Objects.requireNonNull(kernel, "kernel");
            return this;
        }

        /**
         * Module directory of the guest kernel.
         *
         * @param modulesDir a {@code /lib/modules/<version>} directory.
         * @return this builder.
         */
        public Builder modulesDir(final Path modulesDir)
        {
            this.modulesDir = Objects.requireNonNull(modulesDir, "modulesDir");
            return this;
        }

        /**
         * Statically linked busybox for the initramfs.
         *
         * @param busybox path; default the first of {@link Initramfs#BUSYBOX_CANDIDATES}.
         * @return this builder.
         */
        public Builder busybox(final Path busybox)
        {
            this.busybox = Objects.requireNonNull(busybox, "busybox");
            return this;
        }

        /**
         * Directory for the cached initramfs and per-guest files; a build directory such as {@code target/qemu}.
         *
         * @param cacheDir directory, created if missing.
         * @return this builder.
         */
        public Builder cacheDir(final Path cacheDir)
        {
            this.cacheDir = Objects.requireNonNull(cacheDir, "cacheDir");
            return this;
        }

        /**
         * Host directory the guest mounts read-only and chroots into.
         *
         * @param hostRoot directory holding a usable root filesystem; default "/".
         * @return this builder.
         */
        public Builder hostRoot(final Path hostRoot)
        {
            this.hostRoot = Objects.requireNonNull(hostRoot, "hostRoot");
            return this;
        }

        /**
         * Boot a guest whose only files are its initramfs: busybox, the fuse module, this release bundle at
         * {@link Initramfs#BUNDLE_HOME_IN_GUEST} and the host libraries its runtime needs; no virtio-9p device and no
         * host root ({@link Initramfs#bundleBase}). The script then runs with busybox {@code sh}, not chrooted, and
         * {@code pcb} is on its PATH. Give such a guest at least 512 MiB: the initramfs unpacks into its RAM.
         *
         * @param bundleHome an unpacked release bundle (the {@code pcb-VERSION} directory).
         * @return this builder.
         */
        public Builder bundle(final Path bundleHome)
        {
            this.bundle = Objects.requireNonNull(bundleHome, "bundleHome");
            return this;
        }

        /**
         * Guest RAM.
         *
         * @param memoryMiB MiB; default {@link #DEFAULT_MEMORY_MIB}.
         * @return this builder.
         */
        public Builder memoryMiB(final int memoryMiB)
        {
            if (memoryMiB < 128)
            {
                throw new IllegalArgumentException("a guest running java needs more than " + memoryMiB + " MiB");
            }
            this.memoryMiB = memoryMiB;
            return this;
        }

        /**
         * Virtual CPUs.
         *
         * @param cpus count; default 1, since TCG guests on a small host compete for its cores.
         * @return this builder.
         */
        public Builder cpus(final int cpus)
        {
            if (cpus < 1)
            {
                throw new IllegalArgumentException("cpus must be positive: " + cpus);
            }
            this.cpus = cpus;
            return this;
        }

        /**
         * Kernel arguments besides {@code console=ttyS0}.
         *
         * @param kernelArgs arguments; default {@link #DEFAULT_KERNEL_ARGS}.
         * @return this builder.
         */
        public Builder kernelArgs(final String kernelArgs)
        {
            this.kernelArgs = Objects.requireNonNull(kernelArgs, "kernelArgs");
            return this;
        }

        /**
         * Attach a region as an ivshmem-plain device; the file must exist with the region's size.
         *
         * @param region the region.
         * @return this builder.
         */
        public Builder ivshmem(final IvshmemRegion region)
        {
            regions.add(Objects.requireNonNull(region, "region"));
            return this;
        }

        /**
         * Add QEMU arguments before every device this class makes: a machine type, or a virtual IOMMU, which must
         * come before the PCI devices it translates ({@code -machine q35 -device intel-iommu,intremap=on}).
         *
         * @param args arguments, each one word.
         * @return this builder.
         */
        public Builder earlyQemuArgs(final String... args)
        {
            Collections.addAll(earlyQemuArgs, args);
            return this;
        }

        /**
         * Add QEMU arguments after those this class makes, for example another device.
         *
         * @param args arguments, each one word.
         * @return this builder.
         */
        public Builder qemuArgs(final String... args)
        {
            Collections.addAll(extraQemuArgs, args);
            return this;
        }

        /**
         * The script the guest runs with the host's {@code /bin/sh}, chrooted into the host root, as root, with
         * HOME=/tmp. Its exit status is the guest's result; its output goes to the console.
         *
         * @param script shell text.
         * @return this builder.
         */
        public Builder script(final String script)
        {
            this.script = Objects.requireNonNull(script, "script");
            return this;
        }

        /**
         * Receive each console line as it arrives, for example to echo it with the guest's name.
         *
         * @param consoleListener called on the console reader thread.
         * @return this builder.
         */
        public Builder consoleListener(final Consumer<String> consoleListener)
        {
            this.consoleListener = consoleListener;
            return this;
        }

        /**
         * Print each console line to stdout with the guest's name in front, as {@code [vm1] line}, before any
         * {@link #consoleListener(Consumer)} gets it: a test's log then shows what its guests did.
         *
         * @return this builder.
         */
        public Builder echoConsole()
        {
            this.echoConsole = true;
            return this;
        }

        /**
         * Resolve the defaults (the kernel, busybox) and make the guest; nothing runs until {@link #start()}.
         *
         * @return the guest.
         * @throws IllegalStateException when a default cannot be resolved.
         */
        public QemuGuest build()
        {
            return new QemuGuest(this);
        }
    }
}
