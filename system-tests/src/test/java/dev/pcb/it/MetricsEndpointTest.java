package dev.pcb.it;

import dev.pcb.layout.CounterType;
import dev.pcb.testsupport.AgentProcess;
import dev.pcb.testsupport.BrokerProcess;
import dev.pcb.testsupport.PcbCommand;
import dev.pcb.testsupport.TestShare;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The broker's {@code --metrics-port} endpoint: every line of {@code /metrics} is valid Prometheus text format
 * 0.0.4, and the samples carry the counts of a known workload.
 */
@Timeout(180)
class MetricsEndpointTest
{
    private static final String NAME = "[a-zA-Z_:][a-zA-Z0-9_:]*";
    private static final String LABEL = "[a-zA-Z_][a-zA-Z0-9_]*=\"(?:[^\"\\\\\\n]|\\\\[\\\\\"n])*\"";
    private static final String VALUE = "[-+]?(?:[0-9]+(?:\\.[0-9]*)?|\\.[0-9]+)(?:[eE][-+]?[0-9]+)?|[-+]?Inf|NaN";
    private static final Pattern HELP = Pattern.compile("# HELP (" + NAME + ") (.*)");
    private static final Pattern TYPE = Pattern.compile("# TYPE (" + NAME + ") (counter|gauge|histogram|summary|untyped)");
    private static final Pattern SAMPLE = Pattern.compile(
        "(" + NAME + ")(\\{(?:" + LABEL + ")(?:," + LABEL + ")*,?\\})? (" + VALUE + ")(?: -?[0-9]+)?");

    @TempDir
    Path shareDir;

    private BrokerProcess broker;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
    private URI metrics;

    @BeforeEach
    void setUp() throws Exception
    {
        final byte[] bytes = new byte[3 * TestShare.WINDOW + 100];
        new SplittableRandom(5).nextBytes(bytes);
        Files.write(shareDir.resolve("four-windows.bin"), bytes);
        broker = BrokerProcess.start(BrokerProcess.newRunDir("metrics"), "--share", "data=" + shareDir,
            "--guest", "vm1", "--guest", "vm2", "--region-size", Long.toString(TestShare.REGION),
            "--window-size", Integer.toString(TestShare.WINDOW), "--metrics-port", "0");
        final Matcher url = Pattern.compile("metrics: (http://\\S+)").matcher(broker.output());
        assertTrue(url.find(), broker.output());
        metrics = URI.create(url.group(1));
    }

    @AfterEach
    void tearDown() throws Exception
    {
        if (null != broker)
        {
            broker.close();
        }
    }

    @Test
    void bindsToLoopbackByDefault()
    {
        assertEquals("127.0.0.1", metrics.getHost());
        assertEquals("/metrics", metrics.getPath());
    }

    @Test
    void everyLineIsValidPrometheusTextAndCarriesTheCounts() throws Exception
    {
        final AgentProcess cat = AgentProcess.run(broker, "vm1", "cat", "data/four-windows.bin");
        assertEquals(0, cat.exitCode(), cat.stderr());
        final AgentProcess missing = AgentProcess.run(broker, "vm2", "cat", "data/no-such-file");
        assertEquals(1, missing.exitCode());
        PcbCommand.awaitCounters(broker.runDir(), (c) -> 4 == c.value(CounterType.RELEASES) &&
            1 == c.value(CounterType.ERRORS) && 0 == c.value(CounterType.GUEST_CLIENTS, "vm2"));

        final HttpResponse<String> response = http.send(HttpRequest.newBuilder(metrics).GET().build(),
            HttpResponse.BodyHandlers.ofString());
        assertEquals(200, response.statusCode());
        assertEquals("text/plain; version=0.0.4; charset=utf-8",
            response.headers().firstValue("Content-Type").orElse(""));
        final String body = response.body();
        assertTrue(body.endsWith("\n"), "the last line ends with a line feed");

        final Map<String, String> types = new HashMap<>();
        final Set<String> helped = new HashSet<>();
        final Set<String> finishedFamilies = new HashSet<>();
        final Map<String, Double> samples = new HashMap<>();
        String family = null;
        for (final String line : body.split("\n", -1))
        {
            if (line.isEmpty())
            {
                continue;
            }
            Matcher m;
            if ((m = HELP.matcher(line)).matches())
            {
                assertTrue(helped.add(m.group(1)), "one HELP per family: " + line);
                assertFalse(m.group(2).isBlank(), line);
                startFamily(m.group(1), family, finishedFamilies);
                family = m.group(1);
            }
            else if ((m = TYPE.matcher(line)).matches())
            {
                assertEquals(null, types.put(m.group(1), m.group(2)), "one TYPE per family: " + line);
                assertEquals(family, m.group(1), "TYPE follows its HELP: " + line);
                assertEquals("counter".equals(m.group(2)), m.group(1).endsWith("_total"),
                    "counters, and only counters, end in _total: " + line);
            }
            else if ((m = SAMPLE.matcher(line)).matches())
            {
                assertEquals(family, m.group(1), "samples are grouped under their family's TYPE: " + line);
                assertTrue(types.containsKey(m.group(1)), "TYPE before samples: " + line);
                final double value = Double.parseDouble(m.group(3));
                assertTrue(value >= 0, line);
                assertEquals(null, samples.put(m.group(1) + (null == m.group(2) ? "" : m.group(2)), value),
                    "no duplicate series: " + line);
            }
            else
            {
                fail("not a Prometheus text line: '" + line + "'");
            }
        }

        assertEquals(1.0, samples.get("pcb_broker_up"));
        assertEquals(4.0, samples.get("pcb_fills_total"));
        assertEquals(3.0, samples.get("pcb_read_ahead_fills_total"), "windows 1-3 filled ahead of the reader");
        assertEquals(4.0, samples.get("pcb_misses_total") + samples.get("pcb_hits_total"), "one ACQUIRE per window");
        assertEquals(3.0 * TestShare.WINDOW + 100, samples.get("pcb_bytes_filled_total"));
        assertEquals(1.0, samples.get("pcb_opens_total"));
        assertEquals(4.0, samples.get("pcb_releases_total"));
        assertEquals(1.0, samples.get("pcb_errors_total"));
        assertEquals(1.0, samples.get("pcb_error_answers_total{code=\"NO_SUCH_FILE\"}"));
        assertEquals(2.0, samples.get("pcb_clients_attached_total"));
        assertTrue(samples.get("pcb_fill_time_seconds_total") > 0);
        assertEquals(15.0, samples.get("pcb_windows{share=\"data\"}"));
        assertEquals(11.0, samples.get("pcb_windows_free{share=\"data\"}"));
        assertEquals(0.0, samples.get("pcb_windows_pinned{share=\"data\"}"));
        assertEquals(0.0, samples.get("pcb_guest_pins{guest=\"vm1\"}"));
        assertEquals(0.0, samples.get("pcb_guest_clients{guest=\"vm1\"}"));
        assertTrue(samples.get("pcb_guest_requests_total{guest=\"vm1\"}") >= 10, "ATTACH, OPEN, 4 ACQUIRE, 4 RELEASE");
        assertTrue(samples.get("pcb_guest_requests_total{guest=\"vm2\"}") >= 2, "ATTACH, OPEN");
        final double heartbeat = samples.get("pcb_guest_last_heartbeat_timestamp_seconds{guest=\"vm1\"}");
        assertTrue(Math.abs(heartbeat - System.currentTimeMillis() / 1000.0) < 120, "Unix seconds: " + heartbeat);
        for (final CounterType type : CounterType.values())
        {
            assertTrue(types.containsKey(type.metricName()), "exported: " + type.metricName());
        }
    }

    @Test
    void otherPathsAndMethodsAreRefused() throws Exception
    {
        final HttpResponse<String> notFound = http.send(
            HttpRequest.newBuilder(metrics.resolve("/nope")).GET().build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(404, notFound.statusCode());
        final HttpResponse<String> post = http.send(
            HttpRequest.newBuilder(metrics).POST(HttpRequest.BodyPublishers.ofString("x")).build(),
            HttpResponse.BodyHandlers.ofString());
        assertEquals(405, post.statusCode());
    }

    private static void startFamily(final String name, final String previous, final Set<String> finished)
    {
        if (null != previous)
        {
            finished.add(previous);
        }
        assertFalse(finished.contains(name), "family " + name + " appears twice");
    }
}
