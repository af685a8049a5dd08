package dev.capgate.operator.identity;

import dev.capgate.api.identity.VaultTokenExchange;
import dev.capgate.operator.ca.ServingCertificates;
import dev.capgate.operator.https.HttpsListener;
import io.vertx.core.Vertx;
import java.util.List;

/**
 * The identity listener: sidecars ask {@code POST /v1/vault-token} for their session's Vault token
 * ({@link VaultTokenIssuer}), and nothing else is served ({@code GET /healthz} for probes, 404 for
 * the rest, {@code /mutate} included). A port of its own, apart from the webhook's: pods must reach
 * this one, and must not reach admission.
 */
public final class IdentityServer {
  /**
   * The request is {@code {}} (the identity token is in the header): anything large is not a
   * sidecar's.
   */
  static final int MAX_BODY = 4096;

  private IdentityServer() {}

  /**
   * Listens on {@code host:port} (port 0: any free port) with the operator's serving certificate.
   */
  public static HttpsListener start(
      Vertx vertx, String host, int port, ServingCertificates.Issued tls, VaultTokenIssuer issuer) {
    return HttpsListener.start(
        vertx,
        "identity endpoint",
        host,
        port,
        tls,
        List.of(
            new HttpsListener.Route(
                VaultTokenExchange.PATH,
                MAX_BODY,
                HttpsListener.Answer.json(413, "{\"error\":\"the body must be {}\"}"),
                call -> {
                  VaultTokenIssuer.Answer answer = issuer.issue(call.authorization());
                  return HttpsListener.Answer.json(answer.status(), answer.json());
                })));
  }
}
