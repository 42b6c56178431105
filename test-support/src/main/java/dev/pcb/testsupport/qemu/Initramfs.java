package dev.pcb.testsupport.qemu;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;

/**
 * The initramfs of a pcb test guest: a static busybox, the virtio and 9p modules of the guest kernel, and an
 * {@code /init} that mounts the host root read-only over virtio-9p, chroots into it to run a guest script, and prints
 * the script's exit status on the console before powering off.
 * <p>
 * The archive is an uncompressed cpio "newc" archive written here, not by {@code cpio(1)}: that lets it carry the
 * {@code /dev/console} node the kernel needs for the init's output without mknod on the host, and skipping
 * compression saves decompressing it in an emulated (TCG) guest. The part common to all guests is cached by content;
 * each guest's script goes into a second, tiny archive appended to a copy of it, which the kernel unpacks over the
 * first.
 * <p>
 * Inside the guest the script runs chrooted into the host root, read-only, with fresh proc, sysfs, devtmpfs (and a
 * tmpfs on {@code /dev/shm}), and a tmpfs on {@code /tmp}: the host's {@code /tmp} and {@code /dev/shm} are hidden, so
 * whatever the guest must read from the host (jars, classes) must live elsewhere, such as a build's target directory.
 */
public final class Initramfs
{
    /** Modules loaded in this order, from {@code /lib/modules/<version>/kernel}, unless built into the kernel. */
    public static final List<String> MODULES = List.of(
        "virtio_ring", "virtio", "virtio_pci_legacy_dev", "virtio_pci_modern_dev", "virtio_pci",
        "netfs", "fscache", "9pnet", "9pnet_virtio", "9p",
        // For pcb mount inside the guest: /dev/fuse.
        "fuse");

    /** Line the init prints after the script ends: this, a space, the exit status. */
    public static final String EXIT_MARKER = "PCB-GUEST-EXIT";

    /** Line the init prints when it cannot set up the guest: this, a space, what failed. */
    public static final String INIT_FAILED_MARKER = "PCB-GUEST-INIT-FAILED";

    /** Line the init prints right before it runs the script. */
    public static final String READY_MARKER = "PCB-GUEST-READY";

    /** Where the guest script lives in the initramfs. */
    public static final String SCRIPT_PATH = "/pcb/guest.sh";

    /** Modules a bundle guest ({@link #bundleBase}) loads, unless built in: fuse, for {@code pcb mount}. */
    public static final List<String> BUNDLE_MODULES = List.of("fuse");

    /** Where a bundle guest has the release bundle: its {@code bin/pcb} is {@code /opt/pcb/bin/pcb}. */
    public static final String BUNDLE_HOME_IN_GUEST = "/opt/pcb";

    /** Static busybox locations tried, in order. */
    public static final List<Path> BUSYBOX_CANDIDATES = List.of(Path.of("/bin/busybox"), Path.of("/usr/bin/busybox"));

    // Bump when the archive content changes in a way the cache key does not see.
    private static final int FORMAT_VERSION = 1;

    private static final int S_IFDIR = 0040000;
    private static final int S_IFREG = 0100000;
    private static final int S_IFCHR = 0020000;
    private static final int S_IFLNK = 0120000;

    private Initramfs()
    {
    }

    /**
     * The common archive for a kernel, built on first use and then reused from {@code cacheDir}.
     *
     * @param cacheDir   directory for the archive, created if missing; safe to share between concurrent builders.
     * @param modulesDir the kernel's module directory, {@code /lib/modules/<version>}.
     * @param busybox    a statically linked busybox.
     * @return path of the archive.
     * @throws IOException           when a file cannot be read or written.
     * @throws IllegalStateException when busybox is dynamically linked or a needed module is missing.
     */
    public static Path base(final Path cacheDir, final Path modulesDir, final Path busybox) throws IOException
    {
        requireStatic(busybox);
        final List<Path> modules = resolveModules(modulesDir);
        final String init = initScript(modules);

        final MessageDigest digest = sha256();
        update(digest, "format " + FORMAT_VERSION + "\n" + init);
        update(digest, fingerprint(busybox));
        for (final Path module : modules)
        {
            update(digest, fingerprint(module));
        }
        final Path archive = cachedArchive(cacheDir, "initramfs-" + modulesDir.getFileName(), digest);
        if (Files.exists(archive))
        {
            return archive;
        }

        final CpioWriter cpio = new CpioWriter(1);
        cpio.directory("bin");
        cpio.directory("dev");
        cpio.characterDevice("dev/console", 0600, 5, 1);
        cpio.directory("lib");
        cpio.directory("lib/pcb");
        cpio.directory("mnt");
        cpio.directory("proc");
        cpio.directory("sys");
        cpio.file("bin/busybox", 0755, Files.readAllBytes(busybox));
        for (final Path module : modules)
        {
            cpio.file("lib/pcb/" + moduleName(module) + ".ko", 0644, Files.readAllBytes(module));
        }
        cpio.file("init", 0755, init.getBytes(StandardCharsets.UTF_8));

        writeAtomically(archive, cpio.finish());

        return archive;
    }

    /**
     * The common archive of a guest whose only files are this archive: busybox, the kernel's
     * {@link #BUNDLE_MODULES}, the release bundle at {@link #BUNDLE_HOME_IN_GUEST} and the host libraries its Java
     * runtime links against (found with {@code ldd}: glibc, libstdc++, libgcc_s, libz), at their host paths. No
     * virtio-9p, no host root: the init runs the guest script with busybox {@code sh} in the initramfs itself.
     * Built on first use and then reused from {@code cacheDir}.
     *
     * @param cacheDir   directory for the archive, created if missing; safe to share between concurrent builders.
     * @param modulesDir the kernel's module directory, {@code /lib/modules/<version>}.
     * @param busybox    a statically linked busybox.
     * @param bundleHome an unpacked release bundle (the {@code pcb-VERSION} directory).
     * @return path of the archive.
     * @throws IOException           when a file cannot be read or written, or ldd fails.
     * @throws IllegalStateException when busybox is dynamically linked, a module is missing or a library not found.
     */
    public static Path bundleBase(final Path cacheDir, final Path modulesDir, final Path busybox, final Path bundleHome)
        throws IOException
    {
        requireStatic(busybox);
        final Path home = bundleHome.toRealPath();
        if (!Files.isRegularFile(home.resolve("bin/pcb")) || !Files.isRegularFile(home.resolve("runtime/bin/java")))
        {
            throw new IllegalStateException(bundleHome + " is no release bundle (no bin/pcb, runtime/bin/java)");
        }
        final List<Path> modules = resolveModules(modulesDir, BUNDLE_MODULES);
        final String init = bundleInitScript(modules);
        final List<Path> bundleFiles;
        try (Stream<Path> files = Files.walk(home))
        {
            bundleFiles = files.filter((file) -> !file.equals(home)).sorted().toList();
        }
        final List<Path> libraries = hostLibraries(home);

        final MessageDigest digest = sha256();
        update(digest, "bundle format " + FORMAT_VERSION + "\n" + init);
        update(digest, fingerprint(busybox));
        for (final Path file : modules)
        {
            update(digest, fingerprint(file));
        }
        for (final Path file : bundleFiles)
        {
            // Relative to the bundle: the same tarball unpacked elsewhere reuses the archive.
            final Path relative = home.relativize(file);
            update(digest, Files.isSymbolicLink(file) ? relative + " -> " + Files.readSymbolicLink(file) + "\n" :
                relative + " " + Files.size(file) + " " + Files.getLastModifiedTime(file).toMillis() + "\n");
        }
        for (final Path file : libraries)
        {
            update(digest, fingerprint(file));
        }
        final Path archive = cachedArchive(cacheDir, "initramfs-bundle-" + modulesDir.getFileName(), digest);
        if (Files.exists(archive))
        {
            return archive;
        }

        final CpioWriter cpio = new CpioWriter(1);
        for (final String dir : List.of("bin", "dev", "lib", "lib/pcb", "mnt", "opt", "proc", "sys", "tmp"))
        {
            cpio.directory(dir);
        }
        cpio.characterDevice("dev/console", 0600, 5, 1);
        cpio.file("bin/busybox", 0755, Files.readAllBytes(busybox));
        for (final Path module : modules)
        {
            cpio.file("lib/pcb/" + moduleName(module) + ".ko", 0644, Files.readAllBytes(module));
        }
        final String guestHome = BUNDLE_HOME_IN_GUEST.substring(1);
        cpio.directory(guestHome);
        for (final Path file : bundleFiles)
        {
            final String name = guestHome + "/" + home.relativize(file);
            if (Files.isSymbolicLink(file))
            {
                cpio.symlink(name, Files.readSymbolicLink(file).toString());
            }
            else if (Files.isDirectory(file))
            {
                cpio.directory(name);
            }
            else
            {
                cpio.file(name, Files.isExecutable(file) ? 0755 : 0644, Files.readAllBytes(file));
            }
        }
        final Set<String> dirs = new HashSet<>(List.of("lib"));
        for (final Path library : libraries)
        {
            final String name = library.toString().substring(1);
            for (Path parent = Path.of(name).getParent(); null != parent; parent = parent.getParent())
            {
                if (dirs.add(parent.toString()))
                {
                    cpio.directory(parent.toString());
                }
            }
            // The file itself, symbolic links resolved: /lib64/ld-linux-x86-64.so.2 must be the loader.
            cpio.file(name, 0755, Files.readAllBytes(library.toRealPath()));
        }
        cpio.file("init", 0755, init.getBytes(StandardCharsets.UTF_8));

        writeAtomically(archive, cpio.finish());
        // Each build's bundle makes a new archive of some 60 MB: drop the older ones (a guest booting from one has
        // its own copy, see writeForGuest).
        try (Stream<Path> old = Files.list(cacheDir))
        {
            for (final Path file : (Iterable<Path>)old::iterator)
            {
                final String name = file.getFileName().toString();
                if (name.startsWith("initramfs-bundle-") && name.endsWith(".cpio") && !file.equals(archive))
                {
                    Files.deleteIfExists(file);
                }
            }
        }

        return archive;
    }

    /**
     * The init of a bundle guest: busybox applets, proc, sysfs, devtmpfs, tmpfs on {@code /tmp} and {@code /dev/shm},
     * the modules, then {@link #SCRIPT_PATH} with busybox {@code sh}, its status, power off.
     * <p>
     * What later features need goes into the guest script, not here: {@code pcb mount} (fuse is loaded already),
     * waiting for its "mounted" line, programs on the mount.
     *
     * @param modules module files in load order; they are copied to {@code /lib/pcb/<name>.ko}.
     * @return the text of {@code /init}.
     */
    static String bundleInitScript(final List<Path> modules)
    {
        final String insmod = insmodLines(modules);

        return "#!/bin/busybox sh\n" +
            "# pcb bundle guest: only this initramfs (busybox, modules, the bundle in " + BUNDLE_HOME_IN_GUEST +
            ", its libraries); runs " + SCRIPT_PATH + ".\n" +
            "/bin/busybox --install -s /bin\n" +
            "export PATH=/bin:" + BUNDLE_HOME_IN_GUEST + "/bin HOME=/tmp LANG=C.UTF-8 TERM=dumb\n" +
            "fail() { echo \"" + INIT_FAILED_MARKER + " $*\"; poweroff -f; sleep 60; }\n" +
            "mount -t proc proc /proc || fail mount proc\n" +
            "mount -t sysfs sysfs /sys || fail mount sysfs\n" +
            "mount -t devtmpfs devtmpfs /dev || fail mount devtmpfs\n" +
            "mkdir -p /dev/shm && mount -t tmpfs -o mode=1777 tmpfs /dev/shm || fail mount /dev/shm\n" +
            "mount -t tmpfs -o mode=1777 tmpfs /tmp || fail mount /tmp\n" +
            insmod +
            "echo " + READY_MARKER + "\n" +
            "cd /tmp\n" +
            "sh " + SCRIPT_PATH + "\n" +
            "status=$?\n" +
            "echo \"" + EXIT_MARKER + " $status\"\n" +
            "poweroff -f\n" +
            "sleep 60\n";
    }

    /**
     * The host libraries the bundle's runtime needs outside the bundle, by {@code ldd} of its executables and
     * shared objects: absolute paths, the dynamic loader included.
     */
    private static List<Path> hostLibraries(final Path home) throws IOException
    {
        final List<String> command = new ArrayList<>(List.of("ldd", home.resolve("runtime/bin/java").toString()));
        try (Stream<Path> files = Files.walk(home.resolve("runtime/lib")))
        {
            files.filter((file) -> file.getFileName().toString().endsWith(".so") && Files.isRegularFile(file))
                .sorted().forEach((file) -> command.add(file.toString()));
        }
        final Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        final String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        try
        {
            process.waitFor();
        }
        catch (final InterruptedException ex)
        {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while running ldd", ex);
        }

        final Set<Path> libraries = new TreeSet<>();
        for (final String line : output.split("\n"))
        {
            final String trimmed = line.trim();
            final int arrow = trimmed.indexOf("=> ");
            final String path = arrow >= 0 ? trimmed.substring(arrow + 3).split(" ")[0] : trimmed.split(" ")[0];
            if (path.startsWith("/") && !path.startsWith(home.toString()))
            {
                libraries.add(Path.of(path));
            }
            else if (arrow >= 0 && trimmed.contains("not found") && !trimmed.startsWith("libjvm.so"))
            {
                // libjvm.so is found at run time through the runtime's own RPATH; anything else is missing.
                throw new IllegalStateException("the bundle's runtime needs a library the host lacks: " + trimmed);
            }
        }
        if (libraries.stream().noneMatch((p) -> p.getFileName().toString().startsWith("ld-linux")))
        {
            throw new IllegalStateException("ldd named no dynamic loader for " + home + ":\n" + output);
        }
        return new ArrayList<>(libraries);
    }

    /**
     * Write a guest's initramfs: the common archive followed by an archive holding {@code script} at
     * {@link #SCRIPT_PATH}.
     *
     * @param base   the common archive from {@link #base(Path, Path, Path)}.
     * @param script shell text run by {@code /bin/sh} of the host root inside the guest.
     * @param target file to write, replaced if it exists.
     * @throws IOException when a file cannot be read or written.
     */
    public static void writeForGuest(final Path base, final String script, final Path target) throws IOException
    {
        // Inodes distinct from the base archive's, as one cpio stream would have them.
        final CpioWriter cpio = new CpioWriter(1_000_000);
        cpio.directory("pcb");
        cpio.file(SCRIPT_PATH.substring(1), 0755, script.getBytes(StandardCharsets.UTF_8));

        Files.copy(base, target, StandardCopyOption.REPLACE_EXISTING);
        Files.write(target, cpio.finish(), StandardOpenOption.APPEND);
    }

    /**
     * The first statically linked busybox of {@link #BUSYBOX_CANDIDATES}.
     *
     * @return its path.
     * @throws IllegalStateException naming the package to install when there is none.
     */
    public static Path findBusybox()
    {
        for (final Path candidate : BUSYBOX_CANDIDATES)
        {
            try
            {
                if (Files.isRegularFile(candidate) && !hasInterpreter(candidate))
                {
                    return candidate;
                }
            }
            catch (final IOException ex)
            {
                throw new UncheckedIOException(ex);
            }
        }

        throw new IllegalStateException(
            "no statically linked busybox in " + BUSYBOX_CANDIDATES + ": apt-get install busybox-static");
    }

    /**
     * The init script for a set of modules.
     *
     * @param modules module files in load order; they are copied to {@code /lib/pcb/<name>.ko}.
     * @return the text of {@code /init}.
     */
    static String initScript(final List<Path> modules)
    {
        final String insmod = insmodLines(modules);

        return "#!/bin/busybox sh\n" +
            "# pcb test guest: host root over virtio-9p (read-only), then " + SCRIPT_PATH + " chrooted into it.\n" +
            "/bin/busybox --install -s /bin\n" +
            "export PATH=/bin\n" +
            "fail() { echo \"" + INIT_FAILED_MARKER + " $*\"; poweroff -f; sleep 60; }\n" +
            "mount -t proc proc /proc || fail mount proc\n" +
            "mount -t sysfs sysfs /sys || fail mount sysfs\n" +
            "mount -t devtmpfs devtmpfs /dev || fail mount devtmpfs\n" +
            insmod +
            // The 9p device appears when virtio_pci probes it; allow it a moment rather than race it.
            "tries=0\n" +
            "until mount -t 9p -o trans=virtio,version=9p2000.L,ro,msize=512000 " + QemuArgs.HOST_ROOT_TAG +
            " /mnt; do\n" +
            "  tries=$((tries + 1)); [ $tries -ge 50 ] && fail mount 9p " + QemuArgs.HOST_ROOT_TAG + "; sleep 0.1\n" +
            "done\n" +
            "mount -t proc proc /mnt/proc || fail mount /mnt/proc\n" +
            "mount -t sysfs sysfs /mnt/sys || fail mount /mnt/sys\n" +
            "mount -t devtmpfs devtmpfs /mnt/dev || fail mount /mnt/dev\n" +
            // Without these the guest would see the host's /dev/shm and /tmp read-only, or nothing at all.
            "mkdir -p /mnt/dev/shm && mount -t tmpfs -o mode=1777 tmpfs /mnt/dev/shm || fail mount /mnt/dev/shm\n" +
            "mount -t tmpfs -o mode=1777 tmpfs /mnt/tmp || fail mount /mnt/tmp\n" +
            "cp " + SCRIPT_PATH + " /mnt/tmp/.pcb-guest.sh || fail copy script\n" +
            "export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/tmp LANG=C.UTF-8 " +
            "TERM=dumb\n" +
            "echo " + READY_MARKER + "\n" +
            "chroot /mnt /bin/sh /tmp/.pcb-guest.sh\n" +
            "status=$?\n" +
            "echo \"" + EXIT_MARKER + " $status\"\n" +
            "poweroff -f\n" +
            "sleep 60\n";
    }

    /**
     * The modules of {@link #MODULES} that are not built into the kernel, in load order.
     *
     * @param modulesDir {@code /lib/modules/<version>}.
     * @return module files.
     * @throws IllegalStateException when a module is neither built in nor found uncompressed.
     */
    static List<Path> resolveModules(final Path modulesDir) throws IOException
    {
        return resolveModules(modulesDir, MODULES);
    }

    /**
     * The modules of a list that are not built into the kernel, in load order.
     *
     * @param modulesDir {@code /lib/modules/<version>}.
     * @param names      module names in load order.
     * @return module files.
     * @throws IllegalStateException when a module is neither built in nor found uncompressed.
     */
    static List<Path> resolveModules(final Path modulesDir, final List<String> names) throws IOException
    {
        final Path kernelDir = modulesDir.resolve("kernel");
        if (!Files.isDirectory(kernelDir))
        {
            throw new IllegalStateException(
                "no kernel modules in " + kernelDir + ": install the modules of the guest kernel (linux-image-amd64)");
        }

        final Set<String> builtin = new HashSet<>();
        final Path builtinList = modulesDir.resolve("modules.builtin");
        if (Files.exists(builtinList))
        {
            for (final String line : Files.readAllLines(builtinList))
            {
                final String file = line.substring(line.lastIndexOf('/') + 1);
                builtin.add(normalise(file.replaceFirst("\\.ko.*$", "")));
            }
        }

        final Map<String, Path> available = new HashMap<>();
        final Map<String, Path> compressed = new HashMap<>();
        try (Stream<Path> files = Files.walk(kernelDir))
        {
            files.forEach((file) ->
            {
                final String name = file.getFileName().toString();
                if (name.endsWith(".ko"))
                {
                    available.put(normalise(name.substring(0, name.length() - 3)), file);
                }
                else if (name.contains(".ko."))
                {
                    compressed.put(normalise(name.substring(0, name.indexOf(".ko."))), file);
                }
            });
        }

        final List<Path> modules = new ArrayList<>();
        for (final String module : names)
        {
            final String key = normalise(module);
            if (builtin.contains(key))
            {
                continue;
            }

            final Path file = available.get(key);
            if (null == file)
            {
                throw new IllegalStateException(null != compressed.get(key) ?
                    "module " + module + " is compressed (" + compressed.get(key) + "): busybox insmod needs a .ko" :
                    "module " + module + " is neither built in nor under " + kernelDir);
            }
            modules.add(file);
        }

        return modules;
    }

    /**
     * The init's lines that load modules copied to {@code /lib/pcb/<name>.ko}, each failing the init when it fails.
     */
    private static String insmodLines(final List<Path> modules)
    {
        final StringBuilder insmod = new StringBuilder();
        for (final Path module : modules)
        {
            final String name = moduleName(module);
            insmod.append("insmod /lib/pcb/").append(name).append(".ko || fail insmod ").append(name).append('\n');
        }
        return insmod.toString();
    }

    /**
     * Write aside then rename, so a concurrent builder or an interrupted build never leaves half an archive.
     */
    private static void writeAtomically(final Path archive, final byte[] bytes) throws IOException
    {
        final Path temp = Files.createTempFile(archive.getParent(), archive.getFileName().toString(), ".tmp");
        try
        {
            Files.write(temp, bytes);
            Files.move(temp, archive, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        }
        finally
        {
            Files.deleteIfExists(temp);
        }
    }

    private static String moduleName(final Path module)
    {
        final String name = module.getFileName().toString();
        return normalise(name.substring(0, name.length() - 3));
    }

    private static String normalise(final String moduleName)
    {
        // The kernel treats '-' and '_' in module names alike.
        return moduleName.replace('-', '_');
    }

    private static void requireStatic(final Path busybox) throws IOException
    {
        if (!Files.isRegularFile(busybox))
        {
            throw new IllegalStateException("no busybox at " + busybox + ": apt-get install busybox-static");
        }
        if (hasInterpreter(busybox))
        {
            throw new IllegalStateException(
                busybox + " is dynamically linked and the initramfs has no libc: apt-get install busybox-static");
        }
    }

    /**
     * Does this ELF64 file name a dynamic loader (a PT_INTERP program header)?
     */
    private static boolean hasInterpreter(final Path elf) throws IOException
    {
        final ByteBuffer file = ByteBuffer.wrap(Files.readAllBytes(elf)).order(ByteOrder.LITTLE_ENDIAN);
        if (file.limit() < 64 || file.getInt(0) != 0x464c457f || file.get(4) != 2)
        {
            throw new IllegalStateException(elf + " is not a 64-bit ELF executable");
        }

        final long programHeaderOffset = file.getLong(0x20);
        final int entrySize = file.getShort(0x36) & 0xffff;
        final int entryCount = file.getShort(0x38) & 0xffff;
        for (int i = 0; i < entryCount; i++)
        {
            final long offset = programHeaderOffset + (long)i * entrySize;
            if (offset + 4 <= file.limit() && file.getInt((int)offset) == 3)
            {
                return true;
            }
        }

        return false;
    }

    private static String fingerprint(final Path file) throws IOException
    {
        return file + " " + Files.size(file) + " " + Files.getLastModifiedTime(file).toMillis() + "\n";
    }

    /**
     * Where the archive of these contents is cached: named by the digest of everything that goes into it, so a change
     * makes a new archive and an unchanged one is reused.
     */
    private static Path cachedArchive(final Path cacheDir, final String prefix, final MessageDigest digest)
        throws IOException
    {
        Files.createDirectories(cacheDir);
        return cacheDir.resolve(prefix + "-" + hex(digest.digest()).substring(0, 16) + ".cpio");
    }

    private static MessageDigest sha256()
    {
        try
        {
            return MessageDigest.getInstance("SHA-256");
        }
        catch (final NoSuchAlgorithmException ex)
        {
            throw new IllegalStateException(ex);
        }
    }

    private static void update(final MessageDigest digest, final String text)
    {
        digest.update(text.getBytes(StandardCharsets.UTF_8));
    }

    private static String hex(final byte[] bytes)
    {
        final StringBuilder builder = new StringBuilder(bytes.length * 2);
        for (final byte b : bytes)
        {
            builder.append(Character.forDigit((b >> 4) & 0xf, 16)).append(Character.forDigit(b & 0xf, 16));
        }
        return builder.toString();
    }

    /**
     * Writer of the cpio "newc" format the kernel unpacks: a 110-byte ASCII header per entry, the name, the data,
     * each padded to 4 bytes, and a TRAILER!!! entry.
     */
    static final class CpioWriter
    {
        private final ByteArrayOutputStream out = new ByteArrayOutputStream();
        private int inode;

        CpioWriter(final int firstInode)
        {
            inode = firstInode;
        }

        void directory(final String name)
        {
            entry(name, S_IFDIR | 0755, 2, new byte[0], 0, 0);
        }

        void file(final String name, final int permissions, final byte[] data)
        {
            entry(name, S_IFREG | permissions, 1, data, 0, 0);
        }

        void symlink(final String name, final String target)
        {
            entry(name, S_IFLNK | 0777, 1, target.getBytes(StandardCharsets.UTF_8), 0, 0);
        }

        void characterDevice(final String name, final int permissions, final int major, final int minor)
        {
            entry(name, S_IFCHR | permissions, 1, new byte[0], major, minor);
        }

        byte[] finish()
        {
            entry("TRAILER!!!", 0, 1, new byte[0], 0, 0);
            return out.toByteArray();
        }

        private void entry(
            final String name, final int mode, final int links, final byte[] data, final int rdevMajor, final int rdevMinor)
        {
            final byte[] nameBytes = name.getBytes(StandardCharsets.UTF_8);
            final String header = String.format(
                "070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X",
                inode++, mode, 0, 0, links, 0, data.length, 0, 0, rdevMajor, rdevMinor, nameBytes.length + 1, 0);
            write(out, header.getBytes(StandardCharsets.US_ASCII));
            write(out, nameBytes);
            out.write(0);
            pad();
            write(out, data);
            pad();
        }

        private void pad()
        {
            while ((out.size() & 3) != 0)
            {
                out.write(0);
            }
        }

        private static void write(final OutputStream out, final byte[] bytes)
        {
            try
            {
                out.write(bytes);
            }
            catch (final IOException ex)
            {
                throw new UncheckedIOException(ex);
            }
        }
    }
}
