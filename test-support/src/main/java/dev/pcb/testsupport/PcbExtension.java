package dev.pcb.testsupport;

import dev.pcb.agent.AgentConfig;
import dev.pcb.agent.PcbAgent;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;

/**
 * The set-up every system test repeats, as a JUnit 5 extension: a share directory of its own (made when first asked
 * for), a real broker in its own JVM over a fresh run directory on /dev/shm, agents attached to it, and child
 * processes; after each test every one of them is closed, the last opened first, then the broker stopped and both
 * directories deleted.
 * <pre>{@code
 * @RegisterExtension
 * final PcbExtension pcb = new PcbExtension("core");
 *
 * @Test
 * void reads() throws Exception
 * {
 *     TestShare.create(pcb.shareDir());
 *     pcb.startBroker();                       // share "data" to vm1 and vm2, TestShare's sizes
 *     final PcbAgent agent = pcb.agent("vm1");  // closed after the test
 *     ...
 * }
 * }</pre>
 */
public final class PcbExtension implements AfterEachCallback
{
    /** The share name {@link #startBroker(String...)} gives the share directory. */
    public static final String SHARE = "data";
    /** How long {@link #agent(String)} waits for the broker to accept it. */
    public static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(20);

    private final String name;
    private final Deque<AutoCloseable> closeables = new ArrayDeque<>();
    private final ChildProcesses children = new ChildProcesses();
    private Path shareDir;
    private BrokerProcess broker;
    private String[] brokerArgs;
    // Brokers this test killed: their output is printed too when the test fails.
    private final List<BrokerProcess> killed = new ArrayList<>();

    /**
     * An extension for one test class.
     *
     * @param name short name for the directories it makes, for example "core".
     */
    public PcbExtension(final String name)
    {
        this.name = name;
    }

    /** {@inheritDoc} */
    public void afterEach(final ExtensionContext context) throws Exception
    {
        if (context.getExecutionException().isPresent())
        {
            printBrokerOutput(context.getDisplayName());
        }
        killed.clear();
        Exception failure = null;
        while (!closeables.isEmpty())
        {
            failure = Cleanup.close(closeables.pop(), failure);
        }
        failure = Cleanup.close(children, failure);
        if (null != broker)
        {
            failure = Cleanup.close(broker, failure);
            broker = null;
        }
        if (null != shareDir)
        {
            failure = Cleanup.close(() -> FileTrees.delete(shareDir), failure);
            shareDir = null;
        }
        if (null != failure)
        {
            throw failure;
        }
    }

    private void printBrokerOutput(final String test)
    {
        final List<BrokerProcess> brokers = new ArrayList<>(killed);
        if (null != broker)
        {
            brokers.add(broker);
        }
        for (final BrokerProcess each : brokers)
        {
            final String[] lines = each.output().split("\n");
            System.out.println("---- " + test + ": the last lines of broker " + each.runDir() + (killed.contains(each) ?
                " (killed by the test)" : ""));
            for (int i = Math.max(0, lines.length - 40); i < lines.length; i++)
            {
                System.out.println("  " + lines[i]);
            }
        }
    }

    /**
     * This test's share directory, made on the first call.
     *
     * @return the directory, deleted after the test.
     * @throws IOException when it cannot be made.
     */
    public Path shareDir() throws IOException
    {
        if (null == shareDir)
        {
            shareDir = Files.createTempDirectory("pcb-" + name + "-share-");
        }
        return shareDir;
    }

    /**
     * Start a broker serving {@link #shareDir()} as share {@value #SHARE} to guests vm1 and vm2, with
     * {@link TestShare#REGION} and {@link TestShare#WINDOW}, and wait until it serves.
     *
     * @param extra further broker arguments, for example "--slots", "8"; a repeated option overrides.
     * @return the broker, stopped after the test.
     * @throws IOException when it does not come up.
     */
    public BrokerProcess startBroker(final String... extra) throws IOException
    {
        final List<String> args = new ArrayList<>(List.of("--share", SHARE + "=" + shareDir(),
            "--guest", "vm1", "--guest", "vm2",
            "--region-size", Long.toString(TestShare.REGION), "--window-size", Integer.toString(TestShare.WINDOW)));
        args.addAll(List.of(extra));
        return startBrokerWith(args.toArray(new String[0]));
    }

    /**
     * Start a broker with exactly these arguments after {@code --run-dir DIR}, and wait until it serves.
     *
     * @param args shares, guests, sizes, options.
     * @return the broker, stopped after the test.
     * @throws IOException when it does not come up, or a broker of this test is already running.
     */
    public BrokerProcess startBrokerWith(final String... args) throws IOException
    {
        if (null != broker)
        {
            throw new IllegalStateException("this test already started a broker");
        }
        broker = BrokerProcess.start(BrokerProcess.newRunDir(name), args);
        brokerArgs = args.clone();
        return broker;
    }

    /**
     * Kill the broker with SIGKILL, as a crash does, and start another on the same run directory with the same
     * arguments; agents attached to the old one re-attach to it.
     *
     * @return the new broker, stopped after the test.
     * @throws IOException          when it does not come up.
     * @throws InterruptedException if interrupted while the old one dies.
     */
    public BrokerProcess killAndRestartBroker() throws IOException, InterruptedException
    {
        final BrokerProcess old = broker();
        old.kill();
        killed.add(old);
        broker = BrokerProcess.start(old.runDir(), brokerArgs);
        return broker;
    }

    /** @return the broker this test started. */
    public BrokerProcess broker()
    {
        if (null == broker)
        {
            throw new IllegalStateException("no broker started yet");
        }
        return broker;
    }

    /**
     * An agent configuration for the broker of this test.
     *
     * @param guest guest name.
     * @return run directory, guest and {@link #CONNECT_TIMEOUT}; more may be set on it.
     */
    public AgentConfig agentConfig(final String guest)
    {
        return new AgentConfig().runDir(broker().runDir()).guest(guest).connectTimeout(CONNECT_TIMEOUT);
    }

    /**
     * Attach an agent in this JVM.
     *
     * @param guest guest name.
     * @return the agent, closed after the test.
     * @throws IOException when it cannot attach.
     */
    public PcbAgent agent(final String guest) throws IOException
    {
        return track(PcbAgent.attach(agentConfig(guest)));
    }

    /**
     * Close something after the test, before the broker stops; the last tracked closes first.
     *
     * @param closeable a file, view, agent, ...
     * @param <T>       its type.
     * @return the same.
     */
    public <T extends AutoCloseable> T track(final T closeable)
    {
        closeables.push(closeable);
        return closeable;
    }

    /**
     * Kill a child process after the test, if it still runs.
     *
     * @param process started by the test.
     * @return the same.
     */
    public Process track(final Process process)
    {
        return children.track(process);
    }

    /**
     * Stop tracking a child the test already waited for, so a test that starts many keeps no list of dead ones.
     *
     * @param process a tracked process.
     */
    public void forget(final Process process)
    {
        children.forget(process);
    }
}
