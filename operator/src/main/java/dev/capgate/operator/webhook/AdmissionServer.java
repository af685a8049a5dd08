package dev.capgate.operator.webhook;

import dev.capgate.operator.injection.AdmissionDecision;
import dev.capgate.operator.injection.PodAdmissionRequest;
import dev.capgate.operator.injection.PodAdmitter;
import dev.capgate.api.identity.VaultTokenExchange;
import dev.capgate.operator.ca.ServingCertificates;
import dev.capgate.operator.identity.VaultTokenIssuer;
import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.net.PemKeyCertOptions;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The operator's HTTPS server. It speaks AdmissionReview on {@code POST /mutate}, hands sidecars
 * their Vault token on {@code POST /v1/vault-token} ({@link VaultTokenIssuer}), and nothing else
 * ({@code GET /healthz} for probes); every decision is {@link PodAdmitter}'s. Decisions make API
 * calls, so they run on virtual threads, never on the event loop.
 */
public final class AdmissionServer implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(AdmissionServer.class);
  public static final String PATH = "/mutate";
  /** Pods are far smaller; the API server caps requests at 3 MiB anyway. */
  static final int MAX_BODY = 3 * 1024 * 1024;
  /** {@code /v1/vault-token} takes {@code {}}: anything large is not a sidecar's request. */
  static final int MAX_TOKEN_REQUEST_BODY = 4096;

  private final Vertx vertx;
  /** Set at construction or by {@link #serve}: the operator's URL in injected pods needs the port first. */
  private volatile PodAdmitter admitter;
  private volatile VaultTokenIssuer tokens;
  private final ExecutorService decisions = Executors.newVirtualThreadPerTaskExecutor();
  private HttpServer server;

  /** @param admitter null until {@link #serve}: {@code /mutate} answers 503 until then */
  public AdmissionServer(Vertx vertx, PodAdmitter admitter) {
    this.vertx = vertx;
    this.admitter = admitter;
  }

  /**
   * What to answer with once listening: admission, and {@code POST /v1/vault-token} (sidecars
   * asking for their session's Vault token; 404 when {@code tokens} is null).
   */
  public void serve(PodAdmitter admitter, VaultTokenIssuer tokens) {
    this.admitter = admitter;
    this.tokens = tokens;
  }

  /** Listens on {@code host:port} (port 0: any free port) with the given serving certificate. */
  public int start(String host, int port, ServingCertificates.Issued tls) {
    HttpServerOptions options = new HttpServerOptions()
        .setSsl(true)
        .setKeyCertOptions(new PemKeyCertOptions()
            .setCertValue(Buffer.buffer(tls.certPem()))
            .setKeyValue(Buffer.buffer(tls.keyPem())));
    try {
      server = vertx.createHttpServer(options).requestHandler(this::route)
          .listen(port, host).toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
    } catch (Exception e) {
      throw new IllegalStateException("the admission webhook could not listen on " + host + ":" + port, e);
    }
    LOG.info("admission webhook listening on https://{}:{}{}", host, server.actualPort(), PATH);
    return server.actualPort();
  }

  private void route(HttpServerRequest request) {
    if ("/healthz".equals(request.path())) {
      request.response().end("ok");
      return;
    }
    if (VaultTokenExchange.PATH.equals(request.path()) && tokens != null) {
      vaultToken(request, tokens);
      return;
    }
    if (!PATH.equals(request.path()) || request.method() != io.vertx.core.http.HttpMethod.POST) {
      request.response().setStatusCode(404).end();
      return;
    }
    Context context = vertx.getOrCreateContext();
    request.body().onSuccess(body -> {
      if (body.length() > MAX_BODY) {
        request.response().setStatusCode(413).end();
        return;
      }
      byte[] bytes = body.getBytes();
      String remote = String.valueOf(request.remoteAddress());
      decisions.execute(() -> {
        byte[] answer;
        int status = 200;
        try {
          answer = review(bytes);
        } catch (IllegalArgumentException e) {
          // Nothing was decided or written. Worth a line: the API server never sends these.
          LOG.warn("refused a request from {}: {}", remote, e.getMessage());
          status = 400;
          answer = e.getMessage().getBytes(java.nio.charset.StandardCharsets.UTF_8);
        }
        int code = status;
        byte[] out = answer;
        context.runOnContext(v -> request.response().setStatusCode(code)
            .putHeader("content-type", code == 200 ? "application/json" : "text/plain")
            .end(Buffer.buffer(out)));
      });
    }).onFailure(e -> request.response().setStatusCode(400).end());
  }

  /**
   * The sidecar's identity token is in the header; the body is {@code {}} (ignored, bounded). The
   * issuer calls the API server and Vault, so it runs on a virtual thread.
   */
  private void vaultToken(HttpServerRequest request, VaultTokenIssuer issuer) {
    if (request.method() != io.vertx.core.http.HttpMethod.POST) {
      request.response().setStatusCode(405).putHeader("allow", "POST").putHeader("content-type", "application/json")
          .end("{\"error\":\"POST only\"}");
      return;
    }
    String length = request.getHeader("content-length");
    if (length != null && (!length.matches("[0-9]{1,9}") || Integer.parseInt(length) > MAX_TOKEN_REQUEST_BODY)) {
      request.response().setStatusCode(413).putHeader("content-type", "application/json")
          .end("{\"error\":\"the body must be {}\"}");
      return;
    }
    String authorization = request.getHeader("authorization");
    Context context = vertx.getOrCreateContext();
    request.body().onSuccess(body -> {
      if (body.length() > MAX_TOKEN_REQUEST_BODY) {
        request.response().setStatusCode(413).putHeader("content-type", "application/json")
            .end("{\"error\":\"the body must be {}\"}");
        return;
      }
      decisions.execute(() -> {
        VaultTokenIssuer.Answer answer;
        try {
          answer = issuer.issue(authorization);
        } catch (RuntimeException e) {
          LOG.error("vault-token request failed", e);
          answer = new VaultTokenIssuer.Answer(500,
              "{\"error\":\"internal error (" + e.getClass().getSimpleName() + "), see the operator log\"}");
        }
        VaultTokenIssuer.Answer out = answer;
        context.runOnContext(v -> request.response().setStatusCode(out.status())
            .putHeader("content-type", "application/json").putHeader("cache-control", "no-store")
            .end(out.json()));
      });
    }).onFailure(e -> request.response().setStatusCode(400).end());
  }

  private byte[] review(byte[] body) {
    long start = System.nanoTime();
    PodAdmissionRequest request = AdmissionReviews.parse(body);
    AdmissionDecision decision;
    PodAdmitter admitter = this.admitter;
    try {
      if (admitter == null) {
        throw new IllegalStateException("the webhook is starting");
      }
      decision = admitter.admit(request);
    } catch (RuntimeException e) {
      // failurePolicy is Fail: refusing is the safe answer, and saying why helps whoever sees it.
      LOG.error("admission {} of pod {} failed", request.uid(), request.podDescription(), e);
      decision = AdmissionDecision.deny("capgate could not decide on pod " + request.podDescription()
          + ": internal error (" + e.getClass().getSimpleName() + "), see the operator log");
    }
    LOG.debug("admission {} {} pod {} in {} µs: {}", request.uid(), request.operation(), request.podDescription(),
        (System.nanoTime() - start) / 1000, decision.allowed() ? "allowed" : "denied");
    return AdmissionReviews.response(request.uid(), decision);
  }

  @Override
  public void close() {
    if (server != null) {
      server.close().toCompletionStage().toCompletableFuture().join();
    }
    decisions.close();
  }
}
