package dev.capgate.operator.injection;

/**
 * What the webhook puts in the pod for the sidecar: names shared with the sidecar's config class
 * (see notes/sidecar-contract.md). Change one side, change the other.
 */
public final class SidecarContract {
  public static final String INIT_CONTAINER = "capgate-init";
  public static final String PROXY_CONTAINER = "capgate-proxy";
  public static final String INIT_ARG = "init";
  public static final String PROXY_ARG = "proxy";

  public static final long PROXY_UID = 1337;
  public static final int PROXY_PORT = 15001;
  public static final int DNS_PORT = 15053;
  public static final int ADMIN_PORT = 15021;
  public static final String READINESS_PATH = "/readyz";

  public static final String ENV_SESSION_NAMESPACE = "CAPGATE_SESSION_NAMESPACE";
  public static final String ENV_SESSION_NAME = "CAPGATE_SESSION_NAME";
  public static final String ENV_POD_NAME = "CAPGATE_POD_NAME";
  public static final String ENV_POD_UID = "CAPGATE_POD_UID";
  public static final String ENV_VAULT_ADDR = "CAPGATE_VAULT_ADDR";

  /** Where the sidecar asks for its Vault token ({@code POST <url>/v1/vault-token}). */
  public static final String ENV_OPERATOR_URL =
      dev.capgate.api.identity.VaultTokenExchange.ENV_OPERATOR_URL;

  /** PEM of the CA of the operator's serving certificate (public). */
  public static final String ENV_OPERATOR_CA =
      dev.capgate.api.identity.VaultTokenExchange.ENV_OPERATOR_CA;

  /**
   * The projected identity token ({@link #TOKEN_FILE}), the sidecar's bearer token at the operator.
   */
  public static final String ENV_IDENTITY_TOKEN_FILE =
      dev.capgate.api.identity.VaultTokenExchange.ENV_IDENTITY_TOKEN_FILE;

  public static final String ENV_CA_DIR = "CAPGATE_CA_DIR";
  public static final String ENV_PROXY_UID = "CAPGATE_PROXY_UID";
  public static final String ENV_PROXY_PORT = "CAPGATE_PROXY_PORT";
  public static final String ENV_DNS_PORT = "CAPGATE_DNS_PORT";
  public static final String ENV_ADMIN_PORT = "CAPGATE_ADMIN_PORT";

  /** PEM CAs the sidecar trusts for upstreams besides the JDK's roots (when configured). */
  public static final String ENV_UPSTREAM_CA_FILE = "CAPGATE_UPSTREAM_CA_FILE";

  public static final String UPSTREAM_CA_DIR = "/etc/capgate/upstream-ca";
  public static final String UPSTREAM_CA_KEY = "ca.crt";

  /**
   * The pod spec's hostAliases as JSON: the sidecar's own name resolution uses these, not
   * /etc/hosts.
   */
  public static final String ENV_HOST_ALIASES = "CAPGATE_HOST_ALIASES";

  /** The ConfigMap where sidecars record Vault lease ids and token accessors for revocation. */
  public static final String ENV_LEASE_CONFIGMAP = "CAPGATE_LEASE_CONFIGMAP";

  /**
   * Projected service-account token with the identity audience ({@code capgate} by default), bound
   * to the pod by the API server: in the sidecar only. The operator accepts it (TokenReview) to
   * attest the sidecar; the API server and Vault do not.
   */
  public static final String TOKEN_DIR = "/var/run/secrets/capgate/token";

  public static final String TOKEN_PATH = "token";
  public static final String TOKEN_FILE = TOKEN_DIR + "/" + TOKEN_PATH;

  /** Per-pod CA, {@code ca.crt} + {@code ca.key}: in the sidecar only. */
  public static final String CA_DIR = "/var/run/secrets/capgate/ca";

  /**
   * In the CA Secret (so in {@link #CA_DIR}): {@code {"<credential>": "<placeholder>"}} for the
   * session's credentials that declare {@code placeholder.env}; {@code {}} when none do.
   */
  public static final String PLACEHOLDERS_FILE =
      dev.capgate.operator.ca.PodCaObjects.PLACEHOLDERS_KEY;

  /**
   * An ordinary projected service-account token (the API server's own audience) with the cluster CA
   * and the namespace, where Fabric8 and client-go look by default: the sidecar watches its
   * AgentSession with it. In the sidecar only; the Vault-audience token is refused by the API
   * server, and this one is useless to Vault (wrong audience).
   */
  public static final String KUBE_API_DIR = "/var/run/secrets/kubernetes.io/serviceaccount";

  /** What the ServiceAccount admission plugin uses for kube-api-access-* (1 h + 7 s). */
  public static final long KUBE_API_TOKEN_EXPIRATION_SECONDS = 3607;

  /** Public trust material in agent containers. */
  public static final String TRUST_DIR = "/etc/capgate/trust";

  public static final String BUNDLE_FILE = TRUST_DIR + "/ca-bundle.pem";
  public static final String POD_CA_FILE = TRUST_DIR + "/pod-ca.crt";
  public static final String TRUSTSTORE_FILE = TRUST_DIR + "/truststore.p12";

  private SidecarContract() {}
}
