package dev.capgate.sidecar.stack;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsServer;
import dev.capgate.api.identity.SessionJwt;
import dev.capgate.api.identity.VaultTokenExchange;
import dev.capgate.common.vault.VaultReply;
import dev.capgate.testkit.OpenBaoServer;
import dev.capgate.testkit.Pki;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A stand-in for the operator's {@code POST /v1/vault-token}, over real HTTPS with a test CA, so
 * that the sidecar's side of the exchange runs against the real OpenBao: it looks the presented
 * identity token up in the grants a test made, signs a real {@link SessionJwt} with the test key,
 * logs in at OpenBao's JWT auth method with {@code X-Vault-Wrap-TTL} and answers with the wrapping
 * token. It does not attest anything (no TokenReview, no pod or session check): the operator's real
 * endpoint is tested by the operator's own ITs, and end to end on the real cluster (make e2e).
 */
public final class SessionIssuer implements AutoCloseable {
  /**
   * Who a presented identity token stands for, and which Vault role its session JWT logs in with.
   */
  public record Grant(
      String role, String user, String agent, String namespace, String session, String pod) {}

  /** What a failure injected with {@link #refuseNext} answers. */
  private record Refusal(int status, String error) {}

  private final OpenBaoServer bao;
  private final VaultSetup.SessionJwtAuth auth;
  private final Pki pki;
  private final HttpsServer server;
  private final ExecutorService executor = Executors.newVirtualThreadPerTaskExecutor();
  private static final ObjectMapper JSON = new ObjectMapper();
  private final Map<String, Grant> grants = new ConcurrentHashMap<>();
  private final AtomicReference<Refusal> refusal = new AtomicReference<>();
  private final AtomicInteger interceptions = new AtomicInteger();
  private final AtomicReference<String> answerForSession = new AtomicReference<>();
  private final AtomicInteger requests = new AtomicInteger();

  /** Tokens taken out of wrappers by {@link #interceptNext}: what a thief would hold. */
  public final List<String> stolenTokens = new CopyOnWriteArrayList<>();

  private SessionIssuer(
      OpenBaoServer bao,
      VaultSetup.SessionJwtAuth auth,
      List<String> dnsNames,
      List<String> ipAddresses)
      throws IOException {
    this.bao = bao;
    this.auth = auth;
    this.pki = new Pki("capgate-operator-test-ca-" + UUID.randomUUID().toString().substring(0, 8));
    Pki.Issued serving = pki.issueServer("capgate-operator", dnsNames, ipAddresses);
    server = HttpsServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 16);
    server.setHttpsConfigurator(new HttpsConfigurator(pki.sslContext(serving)));
    server.createContext(VaultTokenExchange.PATH, this::handle);
    server.setExecutor(executor);
    server.start();
  }

  /** With a serving certificate for 127.0.0.1 and localhost. */
  public static SessionIssuer start(OpenBaoServer bao, VaultSetup.SessionJwtAuth auth)
      throws IOException {
    return new SessionIssuer(bao, auth, List.of("localhost"), List.of("127.0.0.1"));
  }

  /** With a serving certificate for other names only (host name verification must refuse it). */
  public static SessionIssuer startWithCertificateFor(
      OpenBaoServer bao,
      VaultSetup.SessionJwtAuth auth,
      List<String> dnsNames,
      List<String> ipAddresses)
      throws IOException {
    return new SessionIssuer(bao, auth, dnsNames, ipAddresses);
  }

  /** {@code CAPGATE_OPERATOR_URL}. */
  public String url() {
    return "https://127.0.0.1:" + server.getAddress().getPort();
  }

  /** {@code CAPGATE_OPERATOR_CA}. */
  public String caPem() {
    return pki.caCertPem();
  }

  public void grant(String identityToken, Grant grant) {
    grants.put(identityToken, grant);
  }

  /** The next request is answered {@code status} with {@code {"error": error}}. */
  public void refuseNext(int status, String error) {
    refusal.set(new Refusal(status, error));
  }

  /**
   * The next {@code times} wrapping tokens are unwrapped here before they are handed over, as by a
   * thief.
   */
  public void interceptNext(int times) {
    interceptions.set(times);
  }

  /** The next answer names another session than the grant's (a confused or malicious operator). */
  public void answerNextForSession(String session) {
    answerForSession.set(session);
  }

  /** How many requests reached the endpoint (TLS handshakes that failed are not requests). */
  public int requests() {
    return requests.get();
  }

  private void handle(HttpExchange exchange) throws IOException {
    try (exchange) {
      requests.incrementAndGet();
      exchange.getRequestBody().readAllBytes();
      if (!"POST".equals(exchange.getRequestMethod())) {
        answer(exchange, 405, Map.of("error", "POST only"));
        return;
      }
      Refusal refuse = refusal.getAndSet(null);
      if (refuse != null) {
        answer(exchange, refuse.status(), Map.of("error", refuse.error()));
        return;
      }
      String authorization = exchange.getRequestHeaders().getFirst("Authorization");
      Grant grant =
          authorization == null || !authorization.startsWith("Bearer ")
              ? null
              : grants.get(authorization.substring("Bearer ".length()));
      if (grant == null) {
        answer(exchange, 401, Map.of("error", "the identity token is not valid"));
        return;
      }
      String jwt =
          SessionJwt.sign(
              new SessionJwt.Claims(
                  "capgate",
                  "vault",
                  grant.user(),
                  grant.agent(),
                  grant.namespace(),
                  grant.session(),
                  UUID.randomUUID().toString(),
                  grant.pod(),
                  UUID.randomUUID().toString(),
                  Instant.now(),
                  null),
              auth.signer());
      VaultReply login =
          bao.client()
              .callWrapped(
                  "POST",
                  "auth/" + auth.mount() + "/login",
                  null,
                  Map.of("role", grant.role(), "jwt", jwt),
                  Duration.ofSeconds(VaultTokenExchange.WRAP_TTL_SECONDS));
      if (login.status() != 200) {
        answer(
            exchange,
            503,
            Map.of("error", "Vault refused the session login (HTTP " + login.status() + ")"));
        return;
      }
      String wrapping = login.body().path("wrap_info").path("token").asText(null);
      if (interceptions.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
        VaultReply stolen = bao.client().call("POST", "sys/wrapping/unwrap", wrapping, null);
        stolenTokens.add(stolen.auth().path("client_token").asText(null));
      }
      String session = answerForSession.getAndSet(null);
      Map<String, Object> body = new LinkedHashMap<>();
      body.put(VaultTokenExchange.FIELD_WRAPPING_TOKEN, wrapping);
      body.put(VaultTokenExchange.FIELD_WRAP_TTL_SECONDS, VaultTokenExchange.WRAP_TTL_SECONDS);
      body.put(VaultTokenExchange.FIELD_NAMESPACE, grant.namespace());
      body.put(VaultTokenExchange.FIELD_SESSION, session == null ? grant.session() : session);
      answer(exchange, 200, body);
    }
  }

  private static void answer(HttpExchange exchange, int status, Map<String, ?> body)
      throws IOException {
    byte[] bytes = JSON.writeValueAsBytes(body);
    exchange.getResponseHeaders().set("Content-Type", "application/json");
    exchange.sendResponseHeaders(status, bytes.length);
    exchange.getResponseBody().write(bytes);
  }

  @Override
  public void close() {
    server.stop(0);
    executor.close();
  }
}
