package dev.capgate.sidecar.config;

import static dev.capgate.common.cli.Flag.bool;
import static dev.capgate.common.cli.Flag.duration;
import static dev.capgate.common.cli.Flag.number;
import static dev.capgate.common.cli.Flag.path;
import static dev.capgate.common.cli.Flag.text;

import dev.capgate.api.sidecar.SidecarContract;
import dev.capgate.common.cli.Flag;
import java.util.List;
import java.util.stream.Stream;

/**
 * Every flag of {@code capgate-sidecar init} and {@code proxy} ({@link Flag}: its kind, what its
 * value must be, and a line for {@code --help}). Each can also come from {@code CAPGATE_<NAME>}
 * ({@link Flag#env}, the same as {@link SidecarContract#envOf}: {@code SidecarFlagsTest}); the
 * names the webhook sets are {@link SidecarContract}'s. A flag missing here is refused on the
 * command line, and {@link SidecarConfig} refuses to read it (so a new setting cannot be forgotten:
 * {@code SidecarFlagsTest} checks the sources' reads against this).
 */
public final class SidecarFlags {
  private SidecarFlags() {}

  /** Both modes: the uid and ports (the init rules and the listeners agree), the log level. */
  static final List<Flag> SHARED =
      List.of(
          number(
              "proxy-uid", "the sidecar's uid, the one the interception rules leave alone (1447)"),
          number("proxy-port", "transparent listener (14001)"),
          number("dns-port", "DNS proxy (14053)"),
          number("admin-port", "admin server: /healthz, /readyz, /metrics (14021)"),
          text("exempt-uids", "comma-separated uids of another proxy in the pod (a mesh's)"),
          text("log-level", "ERROR, WARN, INFO (default), DEBUG or TRACE"));

  public static final List<Flag> INIT =
      Stream.concat(
              SHARED.stream(),
              Stream.of(
                  text(
                      SidecarContract.INBOUND_PORTS_FLAG.substring(2),
                      "comma-separated TCP ports open inbound (the agent's probes and declared)"),
                  text(
                      SidecarContract.flagOf(SidecarContract.ENV_TRUST_ROOTS_SHA256),
                      "SHA-256 of the trust roots file the agents get (set by the webhook)"),
                  text(
                      SidecarContract.flagOf(SidecarContract.ENV_POD_CA_FINGERPRINT),
                      "fingerprint of the pod CA the agents trust (set by the webhook)")))
          .toList();

  public static final List<Flag> PROXY =
      Stream.concat(
              SHARED.stream(),
              Stream.of(
                  text("session-namespace", "namespace of the AgentSession (cluster mode)"),
                  text("session-name", "name of the AgentSession (cluster mode)"),
                  path("session-file", "file mode: enforce this AgentSession (JSON)"),
                  text("pod-name", "the audit lines' pod (downward API)"),
                  text("pod-uid", "the audit lines' pod uid (downward API)"),
                  text("pod-namespace", "the audit lines' pod namespace (default: the session's)"),
                  text("vault-addr", "Vault's address; without it every credential is 503"),
                  text("vault-address", "the same as --vault-addr (older name)"),
                  text("vault-ca", "PEM text of the CA(s) of an https Vault"),
                  path("vault-ca-file", "the same from a PEM file"),
                  path("vault-static-token-file", "file mode: a plain Vault token"),
                  duration("vault-timeout", "per Vault request (5s)"),
                  duration("kv-cache-ttl", "how long a KV value is served (30s)"),
                  text("operator-url", "https://host:port of the operator (Vault tokens)"),
                  text("operator-ca", "PEM text of the CA of the operator's certificate"),
                  path("identity-token-file", "the pod-bound token sent to the operator"),
                  text("kube-api-url", "the API server the session is watched on"),
                  path("kube-api-dir", "directory with its token and ca.crt"),
                  text("lease-configmap", "where dynamic leases are recorded"),
                  duration(
                      "api-outage-grace", "how long the last policy holds, API server out (30s)"),
                  path("ca-dir", "pod CA directory: ca.crt, ca.key, placeholders.json"),
                  path("ca-cert", "the pod CA's certificate (<ca-dir>/ca.crt)"),
                  path("ca-key", "the pod CA's key (<ca-dir>/ca.key)"),
                  path("placeholders-file", "placeholder credentials (<ca-dir>/placeholders.json)"),
                  path("upstream-ca-file", "extra PEM CAs trusted for upstream TLS"),
                  text("upstream-proxy", "host:port of an HTTP CONNECT proxy for all outbound"),
                  path("upstream-proxy-auth-file", "file holding user:password for that proxy"),
                  path("upstream-proxy-ca-file", "extra PEM CAs of a TLS-inspecting proxy"),
                  text("admin-address", "the admin server's address (0.0.0.0)"),
                  bool(
                      "admin-expose-metrics",
                      "true: /metrics also answers callers outside the pod (false)"),
                  text("dns-upstream", "the resolver allowed names are forwarded to"),
                  path(
                      "resolv-conf", "resolv.conf of the sidecar's own lookups (/etc/resolv.conf)"),
                  text("host-aliases", "the pod spec's hostAliases as JSON (set by the webhook)"),
                  duration("connect-timeout", "connect to an upstream or the proxy (10s)"),
                  duration("upstream-timeout", "an upstream silent this long: 504 or a cut (120s)"),
                  duration("idle-timeout", "an idle agent connection is closed (10m)"),
                  duration("peek-timeout", "wait for a connection's first bytes (5s)"),
                  duration(
                      "heap-release-after",
                      "quiet this long after a busy period: the heap is given back (10s; 0s: never)"),
                  number("leaf-cache-size", "minted leaf certificates kept (1024)"),
                  duration("approval-poll", "how often a held request's approval is read (1s)"),
                  number(
                      "approval-max-held", "requests of the pod held for approval at once (16)")))
          .toList();

  /**
   * The flags of a mode ({@link SidecarContract#INIT_ARG} or {@link SidecarContract#PROXY_ARG}).
   */
  public static List<Flag> of(String mode) {
    return switch (mode) {
      case SidecarContract.INIT_ARG -> INIT;
      case SidecarContract.PROXY_ARG -> PROXY;
      default -> throw new IllegalArgumentException("no such mode: " + mode);
    };
  }
}
