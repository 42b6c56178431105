package dev.pcb.it;

import dev.pcb.testsupport.Bundle;
import dev.pcb.testsupport.TestShare;
import dev.pcb.testsupport.BrokerProcess;
import dev.pcb.testsupport.FileTrees;
import dev.pcb.cli.Pcb;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import picocli.CommandLine;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The release bundle as an operator gets it: unpacked into an empty directory and run with no JDK in reach (an empty
 * environment, a PATH of a shell and three tools), it prints its version, serves a share with its broker and reads it
 * back through its agent; its content and its .deb hold what docs/install.md says.
 */
final class BundleTest
{
    /** Modules jlink is given (it adds what they require): jdeps' list without java.desktop, plus jdk.compiler. */
    private static final Set<String> RUNTIME_MODULES = new TreeSet<>(List.of("java.base", "java.compiler",
        "java.logging", "java.management", "java.naming", "jdk.httpserver", "jdk.unsupported", "jdk.compiler"));

    private static final List<String> REQUIRED = List.of("bin/pcb", "runtime/bin/java", "runtime/release",
        "runtime/lib/server/libjvm.so", "lib/pcb.jar", "lib/jvm-flags.txt", "systemd/pcb-broker.service",
        "systemd/pcb-broker.conf", "systemd/pcb-mount@.service", "completion/pcb.bash", "docs/install.md",
        "README.md", "VERSION");

    private static Path dir;
    private static Bundle bundle;
    private static String version;

    private BrokerProcess broker;
    private Path shareDir;

    @BeforeAll
    static void unpack() throws Exception
    {
        dir = Path.of(System.getProperty("pcb.home", "target"), "bundle-test-" + ProcessHandle.current().pid())
            .toAbsolutePath();
        FileTrees.delete(dir);
        bundle = Bundle.unpack(dir);
        version = Files.readString(bundle.home().resolve("VERSION"), StandardCharsets.UTF_8).trim();
    }

    @AfterAll
    static void deleteUnpacked() throws IOException
    {
        FileTrees.delete(dir);
    }

    @AfterEach
    void tearDown() throws Exception
    {
        if (null != broker)
        {
            broker.close();
        }
        if (null != shareDir)
        {
            FileTrees.delete(shareDir);
        }
    }

    @Test
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void holdsTheRuntimeJarsLauncherUnitsAndCompletion() throws Exception
    {
        final Path home = bundle.home();
        assertEquals("pcb-" + version, home.getFileName().toString());
        assertTrue(Bundle.tarball().getFileName().toString().equals("pcb-" + version + "-linux-x86_64.tar.gz"),
            Bundle.tarball().toString());
        for (final String entry : REQUIRED)
        {
            assertTrue(Files.isRegularFile(home.resolve(entry)), "missing " + entry);
        }
        assertTrue(Files.isExecutable(home.resolve("bin/pcb")));
        assertTrue(Files.readString(home.resolve("bin/pcb")).startsWith("#!/bin/sh\n"), "bin/pcb must be POSIX sh");
        for (final Path jar : Files.newDirectoryStream(Path.of(System.getProperty("pcb.home", "target"), "lib")))
        {
            assertTrue(Files.isRegularFile(home.resolve("lib").resolve(jar.getFileName())), "missing lib/" + jar);
        }

        // The runtime holds exactly its modules, and they cover every module jdeps finds but java.desktop.
        final Set<String> modules = releaseModules(home);
        assertTrue(modules.containsAll(RUNTIME_MODULES), "runtime/release MODULES " + modules);
        assertFalse(modules.contains("java.desktop"), "runtime/release MODULES " + modules);
        final Set<String> jdeps = jdepsModules(home.resolve("lib"));
        jdeps.removeAll(modules);
        assertEquals(Set.of("java.desktop"), jdeps, "modules jdeps finds that the runtime lacks");

        // Completion generated from the command: every subcommand is in it.
        final String completion = Files.readString(home.resolve("completion/pcb.bash"), StandardCharsets.UTF_8);
        for (final String subcommand : new CommandLine(new Pcb()).getSubcommands().keySet())
        {
            assertTrue(completion.contains(subcommand), "completion lacks " + subcommand);
        }

        final Map<String, Long> sizes = new TreeMap<>();
        try (Stream<Path> files = Files.walk(home))
        {
            files.filter(Files::isRegularFile).forEach((file) ->
            {
                final Path relative = home.relativize(file);
                final String key = relative.startsWith("runtime") ? "runtime/" :
                    relative.startsWith("docs") ? "docs/" : relative.toString();
                sizes.merge(key, file.toFile().length(), Long::sum);
            });
        }
        System.out.printf("BundleTest: %s, %.1f MiB%n", Bundle.tarball().getFileName(),
            Files.size(Bundle.tarball()) / 1048576.0);
        sizes.forEach((name, size) -> System.out.printf("  %10d  %s%n", size, name));
    }

    @Test
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void printsItsVersionWithNoJdkOnThePath() throws Exception
    {
        assertFalse(Files.exists(Path.of(bundle.command().environment().get("PATH"), "java")));
        final String output = Bundle.run(bundle.command("--version"), 30);
        final String javaVersion = releaseValue(bundle.home(), "JAVA_VERSION");
        assertTrue(output.trim().matches("pcb " + Pattern.quote(version) + " \\(Java " + Pattern.quote(javaVersion) +
            "\\S*\\)"), output);
    }

    /**
     * The runtime's JDK classes come from its class-data sharing archive: -Xshare:on refuses to start without one
     * (a guest under TCG then parses every class out of the compressed module image; install.md, "Start-up").
     */
    @Test
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void startsWithTheJdkClassesFromItsSharedArchive() throws Exception
    {
        final Path classLog = Files.createTempFile("pcb-bundle-class-load", ".log");
        try
        {
            final ProcessBuilder command = bundle.command("--version");
            command.environment().put("PCB_JAVA_OPTS", "-Xshare:on -Xlog:class+load=info:file=" + classLog);
            Bundle.run(command, 30);
            final String log = Files.readString(classLog, StandardCharsets.UTF_8);
            assertTrue(log.contains("java.lang.Object source: shared objects file"),
                log.lines().limit(5).toList().toString());
        }
        finally
        {
            Files.deleteIfExists(classLog);
        }
    }

    @Test
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void brokerAndAgentOfTheBundleServeAndReadAShare() throws Exception
    {
        shareDir = Path.of(System.getProperty("pcb.home", "target"), "bundle-share-" + ProcessHandle.current().pid())
            .toAbsolutePath();
        final TestShare share = TestShare.create(shareDir);
        final Path runDir = BrokerProcess.newRunDir("bundle");
        broker = BrokerProcess.start(bundle.command("broker", "--run-dir", runDir.toString(),
            "--share", "s=" + shareDir, "--guest", "vm1", "--region-size", Long.toString(TestShare.REGION),
            "--window-size", Integer.toString(TestShare.WINDOW)), runDir);

        final List<String> args = new ArrayList<>(List.of("agent", "--run-dir", runDir.toString(), "--guest", "vm1",
            "sha256"));
        final Map<String, String> expected = new TreeMap<>();
        for (final Map.Entry<String, Path> file : share.files().entrySet())
        {
            args.add("s/" + file.getKey());
            expected.put("s/" + file.getKey(), TestShare.sha256(file.getValue()));
        }
        final String output = Bundle.run(bundle.command(args.toArray(new String[0])), 60);
        final Map<String, String> sums = new TreeMap<>();
        for (final String line : output.split("\n"))
        {
            final String[] parts = line.trim().split("\\s+", 2);
            if (2 == parts.length)
            {
                sums.put(parts[1], parts[0]);
            }
        }
        assertEquals(expected, sums, "agent output:\n" + output + "\nbroker:\n" + broker.output());
        assertTrue(broker.process().isAlive(), broker.output());
    }

    @Test
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void debPackageInstallsTheBundleUnderOptWithUnitsAndCompletion() throws Exception
    {
        final Path deb;
        try (Stream<Path> files = Files.list(Bundle.tarball().getParent()))
        {
            deb = files.filter((p) -> p.getFileName().toString().endsWith("_amd64.deb")).findFirst()
                .orElseThrow(() -> new AssertionError("no .deb beside " + Bundle.tarball()));
        }
        final String contents = Bundle.run(List.of("dpkg-deb", "--contents", deb.toString()), 30);
        for (final String entry : List.of("./opt/pcb/bin/pcb", "./opt/pcb/runtime/bin/java", "./opt/pcb/lib/pcb.jar",
            "./lib/systemd/system/pcb-broker.service", "./lib/systemd/system/pcb-mount@.service",
            "./etc/pcb/pcb-broker.conf", "./usr/share/bash-completion/completions/pcb",
            "./usr/bin/pcb -> /opt/pcb/bin/pcb"))
        {
            assertTrue(contents.contains(" " + entry + "\n") || contents.contains(" " + entry + "/\n"),
                "the .deb lacks " + entry);
        }
        final String info = Bundle.run(List.of("dpkg-deb", "--info", deb.toString()), 30);
        assertTrue(info.contains("Package: pcb\n"), info);
        assertTrue(info.contains("Version: " + version.replace('-', '~') + "\n"), info);
        assertEquals("/etc/pcb/pcb-broker.conf",
            Bundle.run(List.of("dpkg-deb", "--info", deb.toString(), "conffiles"), 30).trim(),
            "the broker's settings must survive upgrades as a conffile");
    }

    private static Set<String> releaseModules(final Path home) throws IOException
    {
        return new TreeSet<>(Arrays.asList(releaseValue(home, "MODULES").split(" ")));
    }

    private static String releaseValue(final Path home, final String key) throws IOException
    {
        final Matcher matcher = Pattern.compile("(?m)^" + key + "=\"([^\"]*)\"$")
            .matcher(Files.readString(home.resolve("runtime/release"), StandardCharsets.UTF_8));
        assertTrue(matcher.find(), "runtime/release has no " + key);
        return matcher.group(1);
    }

    private static Set<String> jdepsModules(final Path lib) throws Exception
    {
        final List<String> command = new ArrayList<>(List.of(
            Path.of(System.getProperty("java.home"), "bin", "jdeps").toString(),
            "--ignore-missing-deps", "--multi-release", "17", "--print-module-deps", "--class-path", lib + "/*"));
        try (Stream<Path> jars = Files.list(lib))
        {
            jars.filter((p) -> p.toString().endsWith(".jar")).sorted().forEach((p) -> command.add(p.toString()));
        }
        final String output = Bundle.run(command, 120);
        final String[] lines = output.trim().split("\n");
        return new TreeSet<>(Arrays.asList(lines[lines.length - 1].trim().split(",")));
    }
}
