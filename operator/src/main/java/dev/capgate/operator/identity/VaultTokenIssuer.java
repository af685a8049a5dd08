package dev.capgate.operator.identity;

import dev.capgate.api.identity.VaultTokenExchange;
import dev.capgate.api.v1alpha1.AgentSession;
import dev.capgate.operator.events.KubernetesEvents;
import dev.capgate.operator.injection.SessionResolver;
import dev.capgate.operator.session.VaultRevoker;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.util.LinkedHashMap;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

/**
 * {@code POST /v1/vault-token}: attests the calling sidecar ({@link SidecarAttestation}), signs a
 * session JWT for it ({@link SessionSigner}), logs in at Vault's JWT auth method with it asking for
 * a response-wrapped answer ({@link VaultJwtLogin}), records the token's accessor for revocation
 * ({@link TokenLedger}) and returns the wrapping token. Blocking: call it off the event loop.
 *
 * <p>Every issuance and refusal is logged (never a token) and, where the session is known, an event
 * on it: {@value #ISSUED} (Normal) or {@value #REFUSED} (Warning).
 */
public final class VaultTokenIssuer {
  private static final Logger LOG = LoggerFactory.getLogger(VaultTokenIssuer.class);
  public static final String ISSUED = "VaultTokenIssued";
  public static final String REFUSED = "VaultTokenRefused";

  private final SidecarAttestation attestation;
  private final SessionSigner signer;
  private final VaultJwtLogin vault;
  private final TokenLedger ledger;
  private final VaultRevoker revoker;
  private final SessionResolver sessions;
  private final KubernetesEvents events;

  /**
   * @param vault null without a Vault address: every request gets 503
   * @param revoker the operator's Vault token, or null; revokes a token issued while its session
   *     was being deleted (it is not handed out either way)
   */
  public VaultTokenIssuer(
      SidecarAttestation attestation,
      SessionSigner signer,
      VaultJwtLogin vault,
      TokenLedger ledger,
      VaultRevoker revoker,
      SessionResolver sessions,
      KubernetesEvents events) {
    this.attestation = attestation;
    this.signer = signer;
    this.vault = vault;
    this.ledger = ledger;
    this.revoker = revoker;
    this.sessions = sessions;
    this.events = events;
  }

  /** An HTTP answer: status and JSON body. */
  public record Answer(int status, String json) {
    static Answer error(int status, String why) {
      return new Answer(status, Serialization.asJson(Map.of(VaultTokenExchange.FIELD_ERROR, why)));
    }
  }

  /**
   * @param authorization the request's {@code Authorization} header, or null
   */
  public Answer issue(String authorization) {
    SidecarAttestation.Attested attested;
    try {
      attested = attestation.attest(bearer(authorization));
    } catch (SidecarAttestation.Refused refused) {
      return refuse(refused.status(), refused.getMessage(), refused.session(), refused.pod());
    } catch (KubernetesClientException e) {
      LOG.warn(
          "vault-token request not answered: the Kubernetes API could not be asked ({} {})",
          e.getCode(),
          e.getClass().getSimpleName());
      return Answer.error(
          503,
          "the operator could not ask the Kubernetes API to attest the caller ("
              + e.getCode()
              + ")");
    }
    AgentSession session = attested.session();
    String namespace = attested.namespace();
    String sessionName = session.getMetadata().getName();
    String pod = namespace + "/" + attested.pod().getMetadata().getName();
    try (var a = MDC.putCloseable("session", sessionName);
        var b = MDC.putCloseable("namespace", namespace)) {
      if (vault == null) {
        return refuse(503, "the operator has no Vault address (CAPGATE_VAULT_ADDR)", session, pod);
      }
      String mount = session.getSpec().vault().authMountOrDefault();
      String role = session.getSpec().vault().role();
      VaultJwtLogin.Wrapped wrapped;
      try {
        wrapped =
            vault.login(
                mount,
                role,
                signer.sign(session, attested.pod()),
                VaultTokenExchange.WRAP_TTL_SECONDS);
      } catch (VaultJwtLogin.LoginFailedException e) {
        return refuse(503, e.getMessage(), session, pod);
      }
      try {
        ledger.record(session, wrapped.wrappedAccessor());
      } catch (KubernetesClientException e) {
        revokeUnhanded(wrapped, "it could not be recorded for revocation");
        return refuse(
            503,
            "the operator could not record the token for revocation ("
                + e.getCode()
                + "); not issued",
            session,
            pod);
      }
      // Deleted meanwhile? Its revocation may have read the ledger before this token was recorded.
      AgentSession now = sessions.find(namespace, sessionName);
      if (now == null
          || now.getMetadata().getDeletionTimestamp() != null
          || !session.getMetadata().getUid().equals(now.getMetadata().getUid())) {
        revokeUnhanded(wrapped, "its session was revoked meanwhile");
        return refuse(
            403,
            "AgentSession \"" + sessionName + "\" was revoked while its token was issued",
            null,
            pod);
      }
      String message =
          "issued a Vault token (accessor "
              + wrapped.wrappedAccessor()
              + ", auth/"
              + mount
              + "/login, role "
              + role
              + ", user "
              + session.getSpec().user()
              + ") to the sidecar of pod "
              + pod
              + " (service account "
              + attested.serviceAccount()
              + "), response-wrapped for "
              + wrapped.ttlSeconds()
              + "s";
      LOG.info("{}", message);
      events.normal(session, ISSUED, message);
      Map<String, Object> body = new LinkedHashMap<>();
      body.put(VaultTokenExchange.FIELD_WRAPPING_TOKEN, wrapped.wrappingToken());
      body.put(VaultTokenExchange.FIELD_WRAP_TTL_SECONDS, wrapped.ttlSeconds());
      body.put(VaultTokenExchange.FIELD_NAMESPACE, namespace);
      body.put(VaultTokenExchange.FIELD_SESSION, sessionName);
      return new Answer(200, Serialization.asJson(body));
    }
  }

  private Answer refuse(int status, String why, AgentSession session, String pod) {
    LOG.warn("vault-token refused ({}){}: {}", status, pod == null ? "" : " for pod " + pod, why);
    if (session != null) {
      events.warning(
          session,
          REFUSED,
          "refused a Vault token" + (pod == null ? "" : " to pod " + pod) + ": " + why);
    }
    return Answer.error(status, why);
  }

  private void revokeUnhanded(VaultJwtLogin.Wrapped wrapped, String why) {
    if (revoker == null) {
      LOG.warn(
          "Vault token (accessor {}) not handed out because {}; without an operator Vault token it lives until"
              + " its TTL, unwrapped by no one",
          wrapped.wrappedAccessor(),
          why);
      return;
    }
    try {
      revoker.revokeAccessor(wrapped.wrappedAccessor());
      LOG.info(
          "revoked Vault token (accessor {}) not handed out because {}",
          wrapped.wrappedAccessor(),
          why);
    } catch (RuntimeException e) {
      LOG.warn(
          "could not revoke Vault token (accessor {}) not handed out because {}: {}",
          wrapped.wrappedAccessor(),
          why,
          e.getMessage());
    }
  }

  /** The token of {@code Authorization: Bearer <token>}, or null. */
  static String bearer(String authorization) {
    if (authorization == null) {
      return null;
    }
    String value = authorization.strip();
    return value.regionMatches(true, 0, "Bearer ", 0, 7) ? value.substring(7).strip() : null;
  }
}
