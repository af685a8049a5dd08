package dev.capgate.sidecar.admin;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerRequest;
import java.util.function.Supplier;

/**
 * Health and metrics on their own port (default loopback:15021), away from agent traffic:
 * {@code /healthz} (the process serves), {@code /readyz} (listeners bound and a valid policy in
 * force), {@code /metrics} (Prometheus text). Nothing here reveals session details or secrets.
 */
public final class AdminServer {
  private final Vertx vertx;
  private final String host;
  private final int port;
  private final Metrics metrics;
  private final Supplier<String> notReadyReason;
  private HttpServer server;

  /** @param notReadyReason empty when ready, else why not (shown by /readyz) */
  public AdminServer(Vertx vertx, String host, int port, Metrics metrics, Supplier<String> notReadyReason) {
    this.vertx = vertx;
    this.host = host;
    this.port = port;
    this.metrics = metrics;
    this.notReadyReason = notReadyReason;
  }

  public Future<HttpServer> start() {
    server = vertx.createHttpServer().requestHandler(this::handle);
    return server.listen(port, host);
  }

  public Future<Void> stop() {
    return server == null ? Future.succeededFuture() : server.close();
  }

  private void handle(HttpServerRequest request) {
    switch (request.path()) {
      case "/healthz" -> request.response().putHeader("content-type", "text/plain").end("ok\n");
      case "/readyz" -> {
        String why = notReadyReason.get();
        if (why.isEmpty()) {
          request.response().putHeader("content-type", "text/plain").end("ready\n");
        } else {
          request.response().setStatusCode(503).putHeader("content-type", "text/plain").end("not ready: " + why + "\n");
        }
      }
      case "/metrics" -> request.response()
          .putHeader("content-type", "text/plain; version=0.0.4; charset=utf-8")
          .end(metrics.render());
      default -> request.response().setStatusCode(404).end();
    }
  }
}
