package dev.capgate.operator.metrics;

import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code GET /metrics} in the Prometheus text format, plain HTTP, on a port of its own (default
 * 8080): the webhook's port is admitted from API servers only and the identity port serves one
 * route, so Prometheus gets this one (the chart's Service names it {@code metrics}, and the
 * NetworkPolicy admits it from {@code networkPolicy.metricsFrom}). Nothing here is secret: the
 * labels are fixed words (docs/metrics.md). Scraping formats on a worker thread, not the loop.
 */
public final class MetricsServer implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(MetricsServer.class);
  private static final String CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

  private final HttpServer server;

  private MetricsServer(HttpServer server) {
    this.server = server;
  }

  /** Listens on {@code host:port} (port 0: any free port). */
  public static MetricsServer start(Vertx vertx, String host, int port, OperatorMetrics metrics) {
    HttpServer server =
        vertx
            .createHttpServer()
            .requestHandler(
                request -> {
                  if (!"/metrics".equals(request.path())) {
                    request.response().setStatusCode(404).end();
                    return;
                  }
                  vertx
                      .executeBlocking(metrics::scrape)
                      .onSuccess(
                          text ->
                              request.response().putHeader("content-type", CONTENT_TYPE).end(text))
                      .onFailure(e -> request.response().setStatusCode(500).end());
                });
    try {
      server.listen(port, host).toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
    } catch (Exception e) {
      throw new IllegalStateException(
          "the metrics server could not listen on " + host + ":" + port, e);
    }
    LOG.info("metrics on http://{}:{}/metrics", host, server.actualPort());
    return new MetricsServer(server);
  }

  public int port() {
    return server.actualPort();
  }

  @Override
  public void close() {
    server.close().toCompletionStage().toCompletableFuture().join();
  }
}
