package dev.capgate.sidecar.admin;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerRequest;
import java.util.function.Supplier;

/**
 * Health and metrics on their own port (default 0.0.0.0:14021, the kubelet probes it), away from
 * agent traffic: {@code /healthz} (the process serves), {@code /readyz} (listeners bound and a
 * valid policy in force), {@code /metrics} (Prometheus text). Callers outside the pod get the
 * health status codes only (see {@link AdminAccess}); nothing here reveals secrets.
 */
public final class AdminServer {
  private final Vertx vertx;
  private final String host;
  private final int port;
  private final Metrics metrics;
  private final Supplier<String> notReadyReason;
  private final AdminAccess access;
  private HttpServer server;

  /**
   * @param notReadyReason empty when ready, else why not (shown by /readyz to loopback callers)
   */
  public AdminServer(
      Vertx vertx, String host, int port, Metrics metrics, Supplier<String> notReadyReason) {
    this(vertx, host, port, metrics, notReadyReason, new AdminAccess(false));
  }

  public AdminServer(
      Vertx vertx,
      String host,
      int port,
      Metrics metrics,
      Supplier<String> notReadyReason,
      AdminAccess access) {
    this.vertx = vertx;
    this.host = host;
    this.port = port;
    this.metrics = metrics;
    this.notReadyReason = notReadyReason;
    this.access = access;
  }

  public Future<HttpServer> start() {
    server = vertx.createHttpServer().requestHandler(this::handle);
    return server.listen(port, host);
  }

  public Future<Void> stop() {
    return server == null ? Future.succeededFuture() : server.close();
  }

  private void handle(HttpServerRequest request) {
    String path = request.path();
    var remote = request.remoteAddress();
    boolean loopback =
        remote != null && remote.isInetSocket() && AdminAccess.isLoopback(remote.hostAddress());
    switch (access.answer(path, loopback)) {
      case NOT_FOUND -> {
        request.response().setStatusCode(404).end();
        return;
      }
      case STATUS_ONLY -> {
        int status = "/readyz".equals(path) && !notReadyReason.get().isEmpty() ? 503 : 200;
        request.response().setStatusCode(status).end();
        return;
      }
      case FULL -> {
        // below
      }
    }
    switch (path) {
      case "/healthz" -> request.response().putHeader("content-type", "text/plain").end("ok\n");
      case "/readyz" -> {
        String why = notReadyReason.get();
        if (why.isEmpty()) {
          request.response().putHeader("content-type", "text/plain").end("ready\n");
        } else {
          request
              .response()
              .setStatusCode(503)
              .putHeader("content-type", "text/plain")
              .end("not ready: " + why + "\n");
        }
      }
      case "/metrics" ->
          request.response().putHeader("content-type", metrics.contentType()).end(metrics.render());
      default -> request.response().setStatusCode(404).end();
    }
  }
}
