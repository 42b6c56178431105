package dev.pcb.cli;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.pcb.layout.CountersSnapshot;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * A Prometheus endpoint, {@code GET /metrics}, on the JDK's own HTTP server, serving the counters of a run
 * directory's counters file in {@link PrometheusText} format.
 * <p>
 * It reads the same shared-memory counters as {@code pcb stat}, on its own thread: a scrape never touches the
 * broker's conductor. It binds to loopback unless told otherwise, because the metrics name guests and shares.
 */
public final class MetricsServer implements AutoCloseable
{
    private final HttpServer server;
    private final ExecutorService executor;

    private MetricsServer(final HttpServer server, final ExecutorService executor)
    {
        this.server = server;
        this.executor = executor;
    }

    /**
     * Bind and start serving.
     *
     * @param address where to listen; port 0 picks a free port.
     * @param runDir  the broker's run directory.
     * @return the running server.
     * @throws IOException when the address cannot be bound.
     */
    public static MetricsServer start(final InetSocketAddress address, final Path runDir) throws IOException
    {
        final HttpServer server = HttpServer.create(address, 16);
        final ExecutorService executor = Executors.newSingleThreadExecutor((r) ->
        {
            final Thread thread = new Thread(r, "pcb-metrics");
            thread.setDaemon(true);
            return thread;
        });
        server.setExecutor(executor);
        server.createContext("/", (exchange) -> handle(exchange, runDir));
        server.start();
        return new MetricsServer(server, executor);
    }

    /** @return the address bound, with the actual port. */
    public InetSocketAddress address()
    {
        return server.getAddress();
    }

    /** @return the URL of the metrics, for the operator. */
    public String url()
    {
        final InetSocketAddress bound = address();
        final String host = bound.getAddress().getHostAddress();
        return "http://" + (host.contains(":") ? "[" + host + "]" : host) + ":" + bound.getPort() + "/metrics";
    }

    private static void handle(final HttpExchange exchange, final Path runDir) throws IOException
    {
        try
        {
            final String method = exchange.getRequestMethod();
            if (!"GET".equals(method) && !"HEAD".equals(method))
            {
                exchange.getResponseHeaders().set("Allow", "GET, HEAD");
                respond(exchange, 405, "text/plain; charset=utf-8", "only GET and HEAD\n");
                return;
            }
            final String path = exchange.getRequestURI().getPath();
            if ("/".equals(path))
            {
                respond(exchange, 200, "text/plain; charset=utf-8", "pcb broker metrics: GET /metrics\n");
                return;
            }
            if (!"/metrics".equals(path))
            {
                respond(exchange, 404, "text/plain; charset=utf-8", "not found: try /metrics\n");
                return;
            }
            String body;
            try
            {
                body = PrometheusText.render(CountersSnapshot.read(runDir));
            }
            catch (final IOException | RuntimeException ex)
            {
                respond(exchange, 503, "text/plain; charset=utf-8", "counters unavailable: " + ex.getMessage() + "\n");
                return;
            }
            respond(exchange, 200, PrometheusText.CONTENT_TYPE, body);
        }
        finally
        {
            exchange.close();
        }
    }

    private static void respond(final HttpExchange exchange, final int status, final String contentType, final String body)
        throws IOException
    {
        final byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().set("Content-Type", contentType);
        if ("HEAD".equals(exchange.getRequestMethod()))
        {
            exchange.sendResponseHeaders(status, -1);
            return;
        }
        exchange.sendResponseHeaders(status, bytes.length);
        try (OutputStream out = exchange.getResponseBody())
        {
            out.write(bytes);
        }
    }

    /** Stop serving at once and release the port. */
    public void close()
    {
        server.stop(0);
        executor.shutdownNow();
    }
}
