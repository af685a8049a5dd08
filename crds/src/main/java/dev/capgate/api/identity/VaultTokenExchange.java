package dev.capgate.api.identity;

/**
 * The operator's {@code POST /v1/vault-token} (operator ↔ sidecar): the sidecar presents its
 * pod-bound projected service-account token (audience {@link #IDENTITY_AUDIENCE}) as a bearer
 * token, the operator attests the pod and its session and answers with a response-wrapped Vault
 * token for that session alone. The sidecar unwraps it at Vault ({@code sys/wrapping/unwrap}).
 *
 * <p>Names shared by both sides; see notes/sidecar-contract.md.
 */
public final class VaultTokenExchange {
  /**
   * The route on the operator's HTTPS server. Request: {@code Authorization: Bearer <token>}, body
   * {@code {}}.
   */
  public static final String PATH = "/v1/vault-token";

  /**
   * Default audience of the sidecar's identity token (operator: {@code CAPGATE_IDENTITY_AUDIENCE}).
   */
  public static final String IDENTITY_AUDIENCE = "capgate";

  /** 200 response fields. */
  public static final String FIELD_WRAPPING_TOKEN = "wrappingToken";

  public static final String FIELD_WRAP_TTL_SECONDS = "wrapTtlSeconds";
  public static final String FIELD_NAMESPACE = "namespace";
  public static final String FIELD_SESSION = "session";

  /** Error responses (401, 403, 503, 400, 405): {@code {"error": "<why>"}}, never a secret. */
  public static final String FIELD_ERROR = "error";

  /** How long the wrapping token lives (Vault: {@code X-Vault-Wrap-TTL}). */
  public static final int WRAP_TTL_SECONDS = 60;

  /** Env of the injected sidecar: the operator's base URL ({@code https://host:port}). */
  public static final String ENV_OPERATOR_URL = "CAPGATE_OPERATOR_URL";

  /** Env of the injected sidecar: PEM of the CA that issued the operator's serving certificate. */
  public static final String ENV_OPERATOR_CA = "CAPGATE_OPERATOR_CA";

  /**
   * Env of the injected sidecar: the file holding its projected identity token (re-read at each
   * use).
   */
  public static final String ENV_IDENTITY_TOKEN_FILE = "CAPGATE_IDENTITY_TOKEN_FILE";

  private VaultTokenExchange() {}
}
