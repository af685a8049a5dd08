package dev.capgate.operator.config;

import dev.capgate.api.identity.VaultTokenExchange;
import dev.capgate.api.sidecar.SidecarContract;
import dev.capgate.api.sidecar.SidecarPorts;
import dev.capgate.operator.injection.SidecarSettings;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The operator's settings, from environment variables (the chart sets them). Each has a default
 * that works in a standard install; see {@link #fromEnv(Map)} for the names.
 *
 * @param namespace the operator's own namespace (serving certificate, webhook exclusion)
 * @param watchNamespaces namespaces whose sessions are reconciled; empty = all
 * @param sidecar what is injected (image, Vault address, identity audience, resources)
 * @param operatorVaultToken the operator's Vault token (revocation), or null
 * @param operatorVaultTokenFile a file holding it, read at each use, or null
 * @param vaultCaCertFile PEM CA for Vault's TLS, or null for the JDK's roots; its text is in {@code
 *     sidecar.vaultCaPem()} for the injected sidecars
 * @param caMaxValidity longest life of a pod CA (a session without ttl)
 * @param systemRootsFile PEM bundle of the roots agents trust besides the pod CA
 * @param webhookHost address the webhook listens on
 * @param webhookPort port it listens on (0: any free port)
 * @param webhookConfigurationName the MutatingWebhookConfiguration's name
 * @param manageWebhookConfiguration true: create/replace the whole configuration; false: caBundle
 *     only
 * @param webhookUrl URL the API server calls (instead of a Service), or null
 * @param webhookServiceName Service in front of the operator (when no URL)
 * @param webhookServicePort that Service's port
 * @param webhookCertificateSecret Secret keeping the serving certificate
 * @param webhookCertificateNames extra DNS names / IPs of the serving certificate
 * @param orphanedCaGrace how long a CA may wait for its pod before it is deleted
 * @param leaderElection true: replicas elect the one that reconciles (a Lease in {@code
 *     namespace}); every replica serves the webhook
 * @param leaderElectionLease the Lease's name
 * @param identity this replica: pod name (or host name) plus a random suffix; the Lease holder and
 *     the events' reporting instance
 * @param vaultIdentity session JWTs and the {@code /v1/vault-token} endpoint
 * @param metricsPort the plain-HTTP {@code /metrics} port, on {@code webhookHost} (0: any free
 *     port)
 * @param webhookCertificateProvided true: {@code webhookCertificateSecret} is kept by someone else
 *     (cert-manager): read and followed, never minted nor written; false: the operator keeps it
 */
public record OperatorConfig(
    String namespace,
    List<String> watchNamespaces,
    SidecarSettings sidecar,
    String operatorVaultToken,
    Path operatorVaultTokenFile,
    Path vaultCaCertFile,
    Duration caMaxValidity,
    Path systemRootsFile,
    String webhookHost,
    int webhookPort,
    String webhookConfigurationName,
    boolean manageWebhookConfiguration,
    String webhookUrl,
    String webhookServiceName,
    int webhookServicePort,
    String webhookCertificateSecret,
    List<String> webhookCertificateNames,
    Duration orphanedCaGrace,
    boolean leaderElection,
    String leaderElectionLease,
    String identity,
    VaultIdentity vaultIdentity,
    int metricsPort,
    boolean webhookCertificateProvided) {
  /**
   * {@code CAPGATE_SIDECAR_LOG_LEVEL} (chart {@code sidecar.logLevel}, else {@code logLevel}),
   * checked here so that a typo fails the operator's start rather than every injected sidecar's;
   * null when unset.
   */
  static String sidecarLogLevel(Map<String, String> env) {
    String level = blankToNull(env.get("CAPGATE_SIDECAR_LOG_LEVEL"));
    if (level == null) {
      return null;
    }
    try {
      dev.capgate.common.logging.LogLevels.parse(level);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(
          "CAPGATE_SIDECAR_LOG_LEVEL (sidecar.logLevel): " + e.getMessage(), e);
    }
    return level.strip();
  }

  public static OperatorConfig fromEnv(Map<String, String> env) {
    Map<String, String> requests = new LinkedHashMap<>();
    requests.put("cpu", env.getOrDefault("CAPGATE_SIDECAR_CPU_REQUEST", "50m"));
    requests.put("memory", env.getOrDefault("CAPGATE_SIDECAR_MEMORY_REQUEST", "96Mi"));
    Map<String, String> limits = new LinkedHashMap<>();
    limits.put("cpu", env.getOrDefault("CAPGATE_SIDECAR_CPU_LIMIT", "1"));
    limits.put("memory", env.getOrDefault("CAPGATE_SIDECAR_MEMORY_LIMIT", "256Mi"));
    SidecarSettings sidecar =
        new SidecarSettings(
            env.getOrDefault("CAPGATE_SIDECAR_IMAGE", "capgate/sidecar:0.1.0"),
            env.getOrDefault("CAPGATE_SIDECAR_IMAGE_PULL_POLICY", "IfNotPresent"),
            blankToNull(env.get("CAPGATE_VAULT_ADDR")),
            env.getOrDefault("CAPGATE_IDENTITY_AUDIENCE", VaultTokenExchange.IDENTITY_AUDIENCE),
            Long.parseLong(
                env.getOrDefault(
                    "CAPGATE_IDENTITY_TOKEN_EXPIRATION_SECONDS",
                    env.getOrDefault("CAPGATE_VAULT_TOKEN_EXPIRATION_SECONDS", "3600"))),
            Map.copyOf(requests),
            Map.copyOf(limits),
            blankToNull(env.get("CAPGATE_SIDECAR_UPSTREAM_CA_CONFIGMAP")));
    sidecar =
        sidecar
            .withPorts(sidecarPorts(env))
            .withAdminExposeMetrics(
                bool(env, "CAPGATE_SIDECAR_ADMIN_EXPOSE_METRICS", "sidecar.adminExposeMetrics"))
            .withLogLevel(sidecarLogLevel(env));
    Path vaultCaCertFile = path(env.get("CAPGATE_VAULT_CACERT"));
    if (vaultCaCertFile != null) {
      // Read once, at start: the sidecars get the same CA as the operator (operator/README.md,
      // "Vault over TLS"); a changed ConfigMap reaches new pods after a restart of the operator.
      sidecar = sidecar.withVaultCa(VaultCaPem.read(vaultCaCertFile));
    }
    String namespace = env.getOrDefault("CAPGATE_NAMESPACE", "capgate-system");
    return new OperatorConfig(
        namespace,
        list(env.get("CAPGATE_WATCH_NAMESPACES")),
        sidecar,
        blankToNull(env.get("CAPGATE_OPERATOR_VAULT_TOKEN")),
        path(env.get("CAPGATE_OPERATOR_VAULT_TOKEN_FILE")),
        vaultCaCertFile,
        duration(env, "CAPGATE_CA_MAX_VALIDITY", "720h"),
        Path.of(env.getOrDefault("CAPGATE_SYSTEM_ROOTS", "/etc/ssl/certs/ca-certificates.crt")),
        env.getOrDefault("CAPGATE_WEBHOOK_HOST", "0.0.0.0"),
        Integer.parseInt(env.getOrDefault("CAPGATE_WEBHOOK_PORT", "9443")),
        env.getOrDefault("CAPGATE_WEBHOOK_CONFIGURATION", "capgate-injector"),
        Boolean.parseBoolean(env.getOrDefault("CAPGATE_WEBHOOK_MANAGE_CONFIGURATION", "true")),
        blankToNull(env.get("CAPGATE_WEBHOOK_URL")),
        env.getOrDefault("CAPGATE_WEBHOOK_SERVICE", "capgate-webhook"),
        Integer.parseInt(env.getOrDefault("CAPGATE_WEBHOOK_SERVICE_PORT", "443")),
        env.getOrDefault("CAPGATE_WEBHOOK_CERT_SECRET", "capgate-webhook-tls"),
        list(env.get("CAPGATE_WEBHOOK_CERT_NAMES")),
        duration(env, "CAPGATE_ORPHANED_CA_GRACE", "2m"),
        Boolean.parseBoolean(env.getOrDefault("CAPGATE_LEADER_ELECTION", "true")),
        env.getOrDefault("CAPGATE_LEADER_ELECTION_LEASE", "capgate-operator-leader"),
        identity(env),
        new VaultIdentity(
            env.getOrDefault("CAPGATE_SESSION_ISSUER", "capgate"),
            env.getOrDefault("CAPGATE_VAULT_JWT_AUDIENCE", "vault"),
            env.getOrDefault("CAPGATE_SESSION_SIGNER_SECRET", "capgate-session-signer"),
            blankToNull(env.get("CAPGATE_OPERATOR_URL")),
            Integer.parseInt(env.getOrDefault("CAPGATE_IDENTITY_PORT", "9444")),
            Integer.parseInt(env.getOrDefault("CAPGATE_IDENTITY_SERVICE_PORT", "8443"))),
        Integer.parseInt(env.getOrDefault("CAPGATE_METRICS_PORT", "8080")),
        bool(env, "CAPGATE_WEBHOOK_CERT_PROVIDED", "webhook.certManager.enabled"));
  }

  /**
   * How the operator vouches for sidecars at Vault (issue 11): it signs session JWTs for Vault's
   * JWT auth method and hands each attested sidecar a response-wrapped token.
   *
   * @param sessionIssuer {@code iss} of session JWTs (Vault: {@code bound_issuer})
   * @param jwtAudience {@code aud} of session JWTs (Vault: the role's {@code bound_audiences})
   * @param signerSecret Secret (operator namespace) with the signing key: {@code tls.key}, {@code
   *     public.pem}
   * @param operatorUrl where sidecars reach the operator; {@code {port}} is replaced by the
   *     identity listener's port. Null: the scheme and host of {@code webhookUrl} with that port,
   *     else the webhook Service's cluster IP and {@code servicePort}
   * @param port the identity listener's port ({@code /v1/vault-token} only; 0: any free port), on
   *     {@code webhookHost}, apart from the webhook's so that a NetworkPolicy can let pods reach it
   *     and not admission
   * @param servicePort the webhook Service's port in front of {@code port}
   */
  public record VaultIdentity(
      String sessionIssuer,
      String jwtAudience,
      String signerSecret,
      String operatorUrl,
      int port,
      int servicePort) {}

  /** The operator's variables for the sidecar's uid and ports, by the sidecar's own variables. */
  static final Map<String, String> SIDECAR_PORT_VARIABLES =
      Map.of(
          SidecarContract.ENV_PROXY_UID, "CAPGATE_SIDECAR_PROXY_UID",
          SidecarContract.ENV_PROXY_PORT, "CAPGATE_SIDECAR_PROXY_PORT",
          SidecarContract.ENV_DNS_PORT, "CAPGATE_SIDECAR_DNS_PORT",
          SidecarContract.ENV_ADMIN_PORT, "CAPGATE_SIDECAR_ADMIN_PORT",
          SidecarContract.ENV_EXEMPT_UIDS, "CAPGATE_SIDECAR_EXEMPT_UIDS");

  /**
   * The uid and ports every injected pod gets (chart {@code sidecar.proxyUid}, {@code
   * sidecar.ports}, {@code sidecar.exemptUids}): {@code CAPGATE_SIDECAR_PROXY_UID}, {@code
   * _PROXY_PORT}, {@code _DNS_PORT}, {@code _ADMIN_PORT}, {@code _EXEMPT_UIDS} (comma-separated);
   * the contract's defaults for what is unset.
   *
   * @throws IllegalArgumentException naming the operator's variable(s) and what is wrong
   */
  static SidecarPorts sidecarPorts(Map<String, String> env) {
    try {
      return SidecarPorts.read(
          name -> {
            String value = env.get(SIDECAR_PORT_VARIABLES.get(name));
            if (name.equals(SidecarContract.ENV_EXEMPT_UIDS)) {
              if (value != null && !value.strip().matches("[-0-9, ]*")) {
                throw new IllegalArgumentException(
                    "CAPGATE_SIDECAR_EXEMPT_UIDS must be comma-separated uids, got '"
                        + value
                        + "'");
              }
            } else if (value != null
                && !value.isBlank()
                && !value.strip().matches("-?[0-9]{1,9}")) {
              throw new IllegalArgumentException(
                  SIDECAR_PORT_VARIABLES.get(name)
                      + " must be a number (at most 9 digits), got '"
                      + value
                      + "'");
            }
            return java.util.Optional.ofNullable(blankToNull(value));
          });
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(
          "sidecar uid and ports (CAPGATE_SIDECAR_PROXY_UID, CAPGATE_SIDECAR_PROXY_PORT,"
              + " CAPGATE_SIDECAR_DNS_PORT, CAPGATE_SIDECAR_ADMIN_PORT,"
              + " CAPGATE_SIDECAR_EXEMPT_UIDS; chart sidecar.proxyUid, sidecar.ports,"
              + " sidecar.exemptUids): "
              + e.getMessage(),
          e);
    }
  }

  /**
   * {@code true} or {@code false} (any case); unset or blank is false.
   *
   * @throws IllegalArgumentException naming the variable and the chart value
   */
  private static boolean bool(Map<String, String> env, String name, String chartValue) {
    String value = blankToNull(env.get(name));
    if (value == null) {
      return false;
    }
    if (!value.strip().equalsIgnoreCase("true") && !value.strip().equalsIgnoreCase("false")) {
      throw new IllegalArgumentException(
          name + " (chart " + chartValue + ") must be true or false, got '" + value + "'");
    }
    return Boolean.parseBoolean(value.strip());
  }

  /** {@code <pod name>_<8 random hex>}: unique even for two operators with one host name. */
  private static String identity(Map<String, String> env) {
    String base = blankToNull(env.get("CAPGATE_POD_NAME"));
    if (base == null) {
      base = blankToNull(env.get("HOSTNAME"));
    }
    String suffix =
        java.util.HexFormat.of().toHexDigits(new java.security.SecureRandom().nextInt());
    return (base == null ? "capgate-operator" : base) + "_" + suffix;
  }

  /** Names the serving certificate must carry: the Service's DNS names, then the extra ones. */
  public List<String> servingCertificateNames() {
    List<String> names = new java.util.ArrayList<>();
    names.add(webhookServiceName + "." + namespace + ".svc");
    names.add(webhookServiceName + "." + namespace + ".svc.cluster.local");
    names.addAll(webhookCertificateNames);
    return names;
  }

  private static List<String> list(String value) {
    return value == null || value.isBlank()
        ? List.of()
        : Arrays.stream(value.split(",")).map(String::trim).filter(s -> !s.isEmpty()).toList();
  }

  private static Path path(String value) {
    return value == null || value.isBlank() ? null : Path.of(value);
  }

  private static String blankToNull(String value) {
    return value == null || value.isBlank() ? null : value;
  }

  /** The API's grammar ({@code spec.ttl}), as the command line checks {@code --<name>}. */
  private static Duration duration(Map<String, String> env, String name, String fallback) {
    String value = env.getOrDefault(name, fallback);
    try {
      return dev.capgate.api.v1alpha1.Durations.parse(value.strip());
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(
          name + " must be a duration such as 30s, 10m or 1h30m, got '" + value + "'", e);
    }
  }

  /**
   * In {@code CAPGATE_WEBHOOK_URL}, replaced by the port the webhook listens on; in {@code
   * CAPGATE_OPERATOR_URL}, by the identity listener's.
   */
  public static final String PORT_PLACEHOLDER = "{port}";
}
