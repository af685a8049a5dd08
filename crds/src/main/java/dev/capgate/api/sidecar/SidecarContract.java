package dev.capgate.api.sidecar;

import dev.capgate.api.identity.VaultTokenExchange;
import java.util.Locale;

/**
 * Names and paths shared by the webhook (which writes them into the pod) and the sidecar (which
 * reads them): containers, arguments, environment variables and the files mounted for it. The
 * values the webhook sets are in {@link InjectedSettings}, the ports in {@link SidecarPorts}.
 *
 * <p>Every sidecar setting is a flag {@code --some-name} and an environment variable {@code
 * CAPGATE_SOME_NAME} ({@link #envOf}, {@link #flagOf}): the pod spec sets the variables, a
 * developer overrides them on the command line.
 */
public final class SidecarContract {
  public static final String INIT_CONTAINER = "capgate-init";
  public static final String PROXY_CONTAINER = "capgate-proxy";

  /** The first argument: the mode of the one sidecar image. */
  public static final String INIT_ARG = "init";

  public static final String PROXY_ARG = "proxy";

  /**
   * The sidecar's default uid: the only one whose traffic leaves the pod untouched, so no agent
   * container may run as it (a long, as Kubernetes' uids are). The defaults of {@link
   * SidecarPorts}; the operator may inject others (chart {@code sidecar.proxyUid}, {@code
   * sidecar.ports}). Chosen apart from the meshes' own (docs/meshes.md): Istio's proxy runs as 1337
   * and owns 15000-15090, Linkerd's as 2102 on 4140/4143/4190/4191, Kuma's as 5678, Open Service
   * Mesh's as 1500, Consul's as 5995/5996; and apart from the uids images commonly use (0, 1000,
   * 65532, 65534).
   */
  public static final long PROXY_UID = 1447;

  public static final int PROXY_PORT = 14001;
  public static final int DNS_PORT = 14053;
  public static final int ADMIN_PORT = 14021;

  /** The kubelet's probes of the sidecar, on the admin port. */
  public static final String READINESS_PATH = "/readyz";

  public static final String LIVENESS_PATH = "/healthz";

  /** Prefix of every environment variable of the sidecar. */
  public static final String ENV_PREFIX = "CAPGATE_";

  public static final String ENV_SESSION_NAMESPACE = "CAPGATE_SESSION_NAMESPACE";
  public static final String ENV_SESSION_NAME = "CAPGATE_SESSION_NAME";

  /** Downward API ({@code metadata.name}, {@code metadata.uid}): which pod the sidecar serves. */
  public static final String ENV_POD_NAME = "CAPGATE_POD_NAME";

  public static final String ENV_POD_UID = "CAPGATE_POD_UID";
  public static final String ENV_VAULT_ADDR = "CAPGATE_VAULT_ADDR";

  /**
   * PEM text of the CA(s) of Vault's TLS certificate (public), the only ones trusted for Vault when
   * set: an https Vault with a private CA. The webhook copies the operator's {@code
   * CAPGATE_VAULT_CACERT} file into it (operator/README.md, "Vault over TLS").
   */
  public static final String ENV_VAULT_CA = "CAPGATE_VAULT_CA";

  /** Where the sidecar asks for its Vault token ({@code POST <url>/v1/vault-token}). */
  public static final String ENV_OPERATOR_URL = VaultTokenExchange.ENV_OPERATOR_URL;

  /** PEM of the CA of the operator's serving certificate (public). */
  public static final String ENV_OPERATOR_CA = VaultTokenExchange.ENV_OPERATOR_CA;

  /** The projected identity token ({@link #TOKEN_FILE}), the sidecar's bearer token there. */
  public static final String ENV_IDENTITY_TOKEN_FILE = VaultTokenExchange.ENV_IDENTITY_TOKEN_FILE;

  public static final String ENV_CA_DIR = "CAPGATE_CA_DIR";

  /**
   * The ConfigMap where sidecars record Vault lease ids and token accessors ({@link LeaseLedger}).
   */
  public static final String ENV_LEASE_CONFIGMAP = "CAPGATE_LEASE_CONFIGMAP";

  public static final String ENV_PROXY_UID = "CAPGATE_PROXY_UID";
  public static final String ENV_PROXY_PORT = "CAPGATE_PROXY_PORT";
  public static final String ENV_DNS_PORT = "CAPGATE_DNS_PORT";
  public static final String ENV_ADMIN_PORT = "CAPGATE_ADMIN_PORT";

  /**
   * Comma-separated uids of another proxy in the pod (a mesh's) that the init rules exempt as well
   * ({@link SidecarPorts#exemptUids}); absent means none.
   */
  public static final String ENV_EXEMPT_UIDS = "CAPGATE_EXEMPT_UIDS";

  /**
   * {@code true}: the admin port serves {@code /metrics} to callers outside the pod too (a
   * Prometheus scraping agent pods); otherwise to loopback only. Set by the webhook only when the
   * operator says so (chart {@code sidecar.adminExposeMetrics}).
   */
  public static final String ENV_ADMIN_EXPOSE_METRICS = "CAPGATE_ADMIN_EXPOSE_METRICS";

  /**
   * The sidecar's log level ({@code ERROR WARN INFO DEBUG TRACE}; {@code --log-level}), the same
   * variable the operator reads for its own. Set by the webhook only when the operator's chart
   * gives one (chart {@code sidecar.logLevel}, else {@code logLevel}); unset is INFO.
   */
  public static final String ENV_LOG_LEVEL = "CAPGATE_LOG_LEVEL";

  /**
   * The pod spec's hostAliases as JSON: the sidecar's own name resolution uses these, not
   * /etc/hosts (agents share that file).
   */
  public static final String ENV_HOST_ALIASES = "CAPGATE_HOST_ALIASES";

  /** PEM CAs the sidecar trusts for upstreams besides the JDK's roots (when configured). */
  public static final String ENV_UPSTREAM_CA_FILE = "CAPGATE_UPSTREAM_CA_FILE";

  /**
   * Argument of {@code capgate-init}: the TCP ports peers may connect to ({@code 8080,9090}); all
   * other inbound connections are dropped.
   */
  public static final String INBOUND_PORTS_FLAG = "--inbound-ports";

  /**
   * Projected service-account token with the identity audience ({@code capgate} by default), bound
   * to the pod by the API server: in the sidecar only. The operator accepts it (TokenReview) to
   * attest the sidecar; the API server and Vault do not.
   */
  public static final String TOKEN_DIR = "/var/run/secrets/capgate/token";

  public static final String TOKEN_PATH = "token";
  public static final String TOKEN_FILE = TOKEN_DIR + "/" + TOKEN_PATH;

  /**
   * Per-pod CA, {@link #CA_CERT} + {@link #CA_KEY} (+ {@link #PLACEHOLDERS_FILE}): sidecar only.
   */
  public static final String CA_DIR = "/var/run/secrets/capgate/ca";

  public static final String CA_CERT = "ca.crt";
  public static final String CA_KEY = "ca.key";

  /**
   * In the CA Secret (so in {@link #CA_DIR}): {@code {"<credential>": "<placeholder>"}} for the
   * session's credentials that declare {@code placeholder.env}; {@code {}} when none do ({@link
   * PlaceholderFormat}).
   */
  public static final String PLACEHOLDERS_FILE = "placeholders.json";

  /**
   * An ordinary projected service-account token (the API server's own audience) with the cluster CA
   * and the namespace, where client-go looks by default: the sidecar watches its AgentSession with
   * it. In the sidecar only.
   */
  public static final String KUBE_API_DIR = "/var/run/secrets/kubernetes.io/serviceaccount";

  /** What the ServiceAccount admission plugin uses for kube-api-access-* (1 h + 7 s). */
  public static final long KUBE_API_TOKEN_EXPIRATION_SECONDS = 3607;

  /** Extra upstream CAs (a ConfigMap's {@link #UPSTREAM_CA_KEY}), mounted in the sidecar. */
  public static final String UPSTREAM_CA_DIR = "/etc/capgate/upstream-ca";

  public static final String UPSTREAM_CA_KEY = "ca.crt";
  public static final String UPSTREAM_CA_FILE = UPSTREAM_CA_DIR + "/" + UPSTREAM_CA_KEY;

  /** Public trust material in agent containers. */
  public static final String TRUST_DIR = "/etc/capgate/trust";

  public static final String BUNDLE_FILE = TRUST_DIR + "/ca-bundle.pem";
  public static final String POD_CA_FILE = TRUST_DIR + "/pod-ca.crt";
  public static final String TRUSTSTORE_FILE = TRUST_DIR + "/truststore.p12";

  /**
   * The system roots agents trust besides the pod CA: one ConfigMap per namespace, shared by every
   * pod (issue 13: a 449 KiB copy per pod made admission slow), mounted into {@code capgate-init}
   * only. {@code capgate-init} checks {@link #ENV_TRUST_ROOTS_SHA256} before it uses the file, then
   * writes {@link #BUNDLE_FILE}, {@link #POD_CA_FILE} and {@link #TRUSTSTORE_FILE} into the pod's
   * trust volume (an emptyDir agents mount read-only).
   */
  public static final String TRUST_ROOTS_DIR = "/etc/capgate/system-roots";

  /** The key of the shared roots ConfigMap, and the file in {@link #TRUST_ROOTS_DIR}. */
  public static final String TRUST_ROOTS_KEY = "roots.pem";

  public static final String TRUST_ROOTS_FILE = TRUST_ROOTS_DIR + "/" + TRUST_ROOTS_KEY;

  /** {@code capgate-init}: hex SHA-256 of the roots file's bytes, as the webhook computed it. */
  public static final String ENV_TRUST_ROOTS_SHA256 = "CAPGATE_TRUST_ROOTS_SHA256";

  /**
   * The pod CA's root certificate (the {@link #POD_CA_ROOT_KEY} item of the pod's CA Secret, not
   * its key), mounted into {@code capgate-init} only.
   */
  public static final String POD_CA_ROOT_DIR = "/etc/capgate/pod-ca";

  public static final String POD_CA_ROOT_KEY = "root.crt";
  public static final String POD_CA_ROOT_FILE = POD_CA_ROOT_DIR + "/" + POD_CA_ROOT_KEY;

  /**
   * {@code capgate-init}: {@code sha256:<hex>} of the pod CA root's DER encoding (the pod's {@code
   * capgate.dev/ca-fingerprint} annotation).
   */
  public static final String ENV_POD_CA_FINGERPRINT = "CAPGATE_POD_CA_FINGERPRINT";

  private SidecarContract() {}

  /** {@code some-name} (a flag without its dashes) → {@code CAPGATE_SOME_NAME}. */
  public static String envOf(String flag) {
    return ENV_PREFIX + flag.toUpperCase(Locale.ROOT).replace('-', '_');
  }

  /**
   * {@code CAPGATE_SOME_NAME} → {@code some-name}.
   *
   * @throws IllegalArgumentException for a name without the {@code CAPGATE_} prefix
   */
  public static String flagOf(String env) {
    if (!env.startsWith(ENV_PREFIX) || env.length() == ENV_PREFIX.length()) {
      throw new IllegalArgumentException("not a sidecar variable (CAPGATE_...): " + env);
    }
    return env.substring(ENV_PREFIX.length()).toLowerCase(Locale.ROOT).replace('_', '-');
  }
}
