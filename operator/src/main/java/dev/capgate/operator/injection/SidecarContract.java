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
  public static final String ENV_VAULT_ROLE = "CAPGATE_VAULT_ROLE";
  public static final String ENV_VAULT_AUTH_MOUNT = "CAPGATE_VAULT_AUTH_MOUNT";
  public static final String ENV_VAULT_TOKEN_FILE = "CAPGATE_VAULT_TOKEN_FILE";
  public static final String ENV_CA_DIR = "CAPGATE_CA_DIR";
  public static final String ENV_PROXY_UID = "CAPGATE_PROXY_UID";
  public static final String ENV_PROXY_PORT = "CAPGATE_PROXY_PORT";
  public static final String ENV_DNS_PORT = "CAPGATE_DNS_PORT";
  public static final String ENV_ADMIN_PORT = "CAPGATE_ADMIN_PORT";
  /** The ConfigMap where sidecars record Vault lease ids and token accessors for revocation. */
  public static final String ENV_LEASE_CONFIGMAP = "CAPGATE_LEASE_CONFIGMAP";

  /** Projected service-account token with the Vault audience: in the sidecar only. */
  public static final String TOKEN_DIR = "/var/run/secrets/capgate/token";
  public static final String TOKEN_PATH = "token";
  public static final String TOKEN_FILE = TOKEN_DIR + "/" + TOKEN_PATH;
  /** Per-pod CA, {@code ca.crt} + {@code ca.key}: in the sidecar only. */
  public static final String CA_DIR = "/var/run/secrets/capgate/ca";

  /** Public trust material in agent containers. */
  public static final String TRUST_DIR = "/etc/capgate/trust";
  public static final String BUNDLE_FILE = TRUST_DIR + "/ca-bundle.pem";
  public static final String POD_CA_FILE = TRUST_DIR + "/pod-ca.crt";
  public static final String TRUSTSTORE_FILE = TRUST_DIR + "/truststore.p12";

  private SidecarContract() {
  }
}
