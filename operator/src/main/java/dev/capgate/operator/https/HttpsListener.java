package dev.capgate.operator.https;

import dev.capgate.operator.ca.ServingCertificates;
import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.net.PemKeyCertOptions;
import io.vertx.core.net.ServerSSLOptions;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One HTTPS port of the operator, with its serving certificate: {@code GET /healthz} (alive) and
 * {@code GET /readyz} (alive and not draining) for probes, the POST routes it was started with, and
 * 404 for every other path. The operator runs two, each with one route (admission; the sidecars'
 * Vault tokens), so that a NetworkPolicy can admit each port from its own callers. Routes make API
 * calls, so they run on virtual threads, never on the event loop.
 */
public final class HttpsListener implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(HttpsListener.class);

  /**
   * What a route answers.
   *
   * @param afterSent run once the answer is written or its connection failed (either way), or null:
   *     work the caller does not wait for. It runs on the event loop, so it must only hand work
   *     off.
   */
  public record Answer(int status, String contentType, byte[] body, Runnable afterSent) {
    public Answer(int status, String contentType, byte[] body) {
      this(status, contentType, body, null);
    }

    public static Answer json(int status, String json) {
      return new Answer(status, "application/json", json.getBytes(StandardCharsets.UTF_8));
    }

    public static Answer text(int status, String text) {
      return new Answer(status, "text/plain", text.getBytes(StandardCharsets.UTF_8));
    }
  }

  /** The parts of a request a route reads; the body is at most the route's {@code maxBody}. */
  public record Call(byte[] body, String authorization, String remote) {}

  /**
   * @param path the only path it answers, POST only (others: 405)
   * @param maxBody a larger body (declared or sent) is answered with {@code tooLarge}
   * @param handler runs on a virtual thread; an exception is a 500 that names only its class
   */
  public record Route(String path, int maxBody, Answer tooLarge, Function<Call, Answer> handler) {}

  private final String name;
  private final Vertx vertx;
  private final Map<String, Route> routes;
  private final ExecutorService work = Executors.newVirtualThreadPerTaskExecutor();
  private HttpServer server;

  /** Set by {@link #drain()}: the process is stopping, but still answers (see there). */
  private volatile boolean draining;

  private HttpsListener(String name, Vertx vertx, List<Route> routes) {
    this.name = name;
    this.vertx = vertx;
    this.routes = routes.stream().collect(Collectors.toUnmodifiableMap(Route::path, r -> r));
  }

  /**
   * Listens on {@code host:port} (port 0: any free port).
   *
   * @param name what it serves, for the log and errors (e.g. "admission webhook")
   */
  public static HttpsListener start(
      Vertx vertx,
      String name,
      String host,
      int port,
      ServingCertificates.Issued tls,
      List<Route> routes) {
    HttpsListener listener = new HttpsListener(name, vertx, routes);
    HttpServerOptions options =
        new HttpServerOptions().setSsl(true).setKeyCertOptions(keyCert(tls));
    try {
      listener.server =
          vertx
              .createHttpServer(options)
              .requestHandler(listener::handle)
              .listen(port, host)
              .toCompletionStage()
              .toCompletableFuture()
              .get(30, TimeUnit.SECONDS);
    } catch (Exception e) {
      listener.work.close();
      throw new IllegalStateException(
          "the " + name + " could not listen on " + host + ":" + port, e);
    }
    LOG.info(
        "{} listening on https://{}:{} ({})",
        name,
        host,
        listener.port(),
        String.join(", ", listener.routes.keySet()));
    return listener;
  }

  /**
   * Serves {@code tls} from now on (a renewed certificate, e.g. cert-manager's); connections
   * already open keep theirs.
   */
  public void updateCertificate(ServingCertificates.Issued tls) {
    try {
      server
          .updateSSLOptions(new ServerSSLOptions().setKeyCertOptions(keyCert(tls)))
          .toCompletionStage()
          .toCompletableFuture()
          .get(30, TimeUnit.SECONDS);
    } catch (Exception e) {
      throw new IllegalStateException("the " + name + " could not take the new certificate", e);
    }
    LOG.info("{} serves the certificate valid until {}", name, tls.notAfter());
  }

  private static PemKeyCertOptions keyCert(ServingCertificates.Issued tls) {
    return new PemKeyCertOptions()
        .setCertValue(Buffer.buffer(tls.certPem()))
        .setKeyValue(Buffer.buffer(tls.keyPem()));
  }

  /** The port it listens on (the free one chosen for port 0). */
  public int port() {
    return server.actualPort();
  }

  /**
   * From now on {@code /readyz} answers 503, and every answer closes its connection: the API
   * server's keep-alive connections (which conntrack keeps pinned to this pod after the Service
   * dropped it) end one by one, and the next request dials the Service anew, reaching a replica
   * that stays. The port keeps listening and answering until {@link #close()}: a request routed
   * here by a stale endpoint list is still answered, not refused with EOF.
   */
  public void drain() {
    draining = true;
  }

  private void handle(HttpServerRequest request) {
    if ("/healthz".equals(request.path())) {
      // Liveness: a draining listener is alive; restarting it would cut the drain short.
      request.response().end("ok");
      return;
    }
    if ("/readyz".equals(request.path())) {
      if (draining) {
        closing(request).setStatusCode(503).end("draining");
      } else {
        request.response().end("ok");
      }
      return;
    }
    Route route = routes.get(request.path());
    if (route == null) {
      request.response().setStatusCode(404).end();
      return;
    }
    if (request.method() != HttpMethod.POST) {
      request.response().setStatusCode(405).putHeader("allow", "POST").end();
      return;
    }
    String length = request.getHeader("content-length");
    if (length != null
        && (!length.matches("[0-9]{1,9}") || Integer.parseInt(length) > route.maxBody())) {
      send(request, route.tooLarge());
      return;
    }
    Context context = vertx.getOrCreateContext();
    request
        .body()
        .onSuccess(
            body -> {
              if (body.length() > route.maxBody()) {
                send(request, route.tooLarge());
                return;
              }
              Call call =
                  new Call(
                      body.getBytes(),
                      request.getHeader("authorization"),
                      String.valueOf(request.remoteAddress()));
              work.execute(
                  () -> {
                    Answer answer;
                    try {
                      answer = route.handler().apply(call);
                    } catch (RuntimeException e) {
                      LOG.error("{} {} failed", name, route.path(), e);
                      answer =
                          Answer.json(
                              500,
                              "{\"error\":\"internal error ("
                                  + e.getClass().getSimpleName()
                                  + "), see the operator log\"}");
                    }
                    Answer out = answer;
                    context.runOnContext(v -> send(request, out));
                  });
            })
        .onFailure(e -> request.response().setStatusCode(400).end());
  }

  /** No answer is worth caching: admission decisions and Vault tokens alike. */
  private void send(HttpServerRequest request, Answer answer) {
    io.vertx.core.Future<Void> written;
    try {
      written =
          (draining ? closing(request) : request.response())
              .setStatusCode(answer.status())
              .putHeader("content-type", answer.contentType())
              .putHeader("cache-control", "no-store")
              .end(Buffer.buffer(answer.body()));
    } catch (RuntimeException e) {
      // The response was closed under us: the after-work still runs (see Answer.afterSent).
      written = io.vertx.core.Future.failedFuture(e);
    }
    if (answer.afterSent() != null) {
      written.onComplete(
          v -> {
            try {
              answer.afterSent().run();
            } catch (RuntimeException e) {
              LOG.error("{} {}: the work after the answer failed", name, request.path(), e);
            }
          });
    }
  }

  /**
   * The response, closing its connection once written: {@code connection: close} tells the client
   * not to reuse it (Go's HTTP client, the API server's, honours it), and the close makes sure.
   */
  private static HttpServerResponse closing(HttpServerRequest request) {
    HttpServerResponse response = request.response().putHeader("connection", "close");
    response.endHandler(v -> request.connection().close());
    return response;
  }

  @Override
  public void close() {
    if (server != null) {
      server.close().toCompletionStage().toCompletableFuture().join();
    }
    work.close();
  }
}
