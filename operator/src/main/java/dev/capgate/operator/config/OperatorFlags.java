package dev.capgate.operator.config;

import static dev.capgate.common.cli.Flag.bool;
import static dev.capgate.common.cli.Flag.duration;
import static dev.capgate.common.cli.Flag.number;
import static dev.capgate.common.cli.Flag.path;
import static dev.capgate.common.cli.Flag.text;

import dev.capgate.common.cli.Flag;
import java.util.List;

/**
 * Every flag of {@code capgate-operator}: one per variable {@link OperatorConfig#fromEnv} reads
 * ({@code --watch-namespaces} is {@code CAPGATE_WATCH_NAMESPACES}), with its kind and a line of
 * help ({@link Flag}; common's {@code FlagCommandLine} parses them). The chart sets the variables;
 * a flag wins over its variable. {@code OperatorCommandLineTest} matches the variables
 * OperatorConfig reads against this list.
 */
public final class OperatorFlags {
  private OperatorFlags() {}

  public static final List<Flag> ALL =
      List.of(
          text("namespace", "the operator's own namespace (capgate-system)"),
          text("watch-namespaces", "comma-separated namespaces served; empty: all"),
          text("log-level", "ERROR, WARN, INFO (default), DEBUG or TRACE"),
          text("pod-name", "this replica's pod (downward API): its Lease identity"),
          text("vault-addr", "Vault's address, for the sidecars and revocation"),
          path("vault-cacert", "PEM CA of an https Vault (also given to sidecars)"),
          text("operator-vault-token", "the operator's Vault token (prefer the file)"),
          path("operator-vault-token-file", "a file holding it, re-read at each use"),
          duration("ca-max-validity", "longest life of a pod CA (720h)"),
          duration("orphaned-ca-grace", "how long a CA may wait for its pod (2m)"),
          duration(
              "shutdown-drain",
              "after SIGTERM: /readyz fails, the ports answer this long, then exit 0 (15s)"),
          path("system-roots", "roots agents trust besides the pod CA"),
          text("webhook-host", "address of the webhook, identity and metrics ports (0.0.0.0)"),
          number("webhook-port", "the webhook's port (9443; 0: any free)"),
          text("webhook-configuration", "the MutatingWebhookConfiguration's name"),
          bool("webhook-manage-configuration", "true: apply the whole configuration (true)"),
          text("webhook-url", "URL the API server calls instead of a Service"),
          text("webhook-service", "the Service in front of the operator (capgate-webhook)"),
          number("webhook-service-port", "that Service's port (443)"),
          text("webhook-cert-secret", "Secret of the serving certificate (capgate-webhook-tls)"),
          text("webhook-cert-names", "extra comma-separated names of the serving certificate"),
          bool("webhook-cert-provided", "true: that Secret is cert-manager's, only read (false)"),
          bool("leader-election", "replicas elect the one that reconciles (true)"),
          text("leader-election-lease", "the Lease's name (capgate-operator-leader)"),
          number("metrics-port", "plain-HTTP /metrics (8080; 0: any free)"),
          text("identity-audience", "audience of the sidecars' projected token (capgate)"),
          number("identity-token-expiration-seconds", "its lifetime (3600)"),
          number("vault-token-expiration-seconds", "older name of the above"),
          text("session-issuer", "iss of session JWTs (capgate)"),
          text("vault-jwt-audience", "aud of session JWTs (vault)"),
          text("session-signer-secret", "Secret with the session signing key"),
          text("operator-url", "where sidecars reach /v1/vault-token ({port}: the listener's)"),
          number("identity-port", "the port of /v1/vault-token (9444; 0: any free)"),
          number("identity-service-port", "the Service's port in front of it (8443)"),
          text("sidecar-image", "the injected sidecar's image"),
          text("sidecar-image-pull-policy", "its pull policy (IfNotPresent)"),
          text("sidecar-cpu-request", "injected containers' CPU request (50m)"),
          text("sidecar-cpu-limit", "their CPU limit (1)"),
          text("sidecar-memory-request", "their memory request (96Mi)"),
          text("sidecar-memory-limit", "their memory limit (256Mi)"),
          text("sidecar-upstream-ca-configmap", "ConfigMap of private upstream CAs (key ca.crt)"),
          number("sidecar-proxy-uid", "the sidecar's uid (1447)"),
          number("sidecar-proxy-port", "its transparent listener (14001)"),
          number("sidecar-dns-port", "its DNS proxy (14053)"),
          number("sidecar-admin-port", "its admin server (14021)"),
          text("sidecar-exempt-uids", "uids of a mesh proxy the init rules leave alone"),
          bool("sidecar-admin-expose-metrics", "sidecars serve /metrics outside the pod (false)"),
          text("sidecar-log-level", "the sidecars' log level (default: the operator's)"));
}
