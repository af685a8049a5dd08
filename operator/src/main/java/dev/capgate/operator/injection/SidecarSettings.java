package dev.capgate.operator.injection;

import dev.capgate.api.sidecar.SidecarPorts;
import java.util.Map;

/**
 * The operator-wide part of what is injected (from the operator's configuration).
 *
 * @param image the sidecar image (both modes: init and proxy)
 * @param imagePullPolicy e.g. IfNotPresent
 * @param vaultAddress Vault address handed to the sidecar, or null
 * @param identityAudience audience of the sidecar's projected identity token: the one the
 *     operator's {@code /v1/vault-token} accepts ({@code capgate})
 * @param tokenExpirationSeconds lifetime of that token (the kubelet refreshes it)
 * @param requests resource requests of both capgate containers
 * @param limits resource limits of both capgate containers
 * @param upstreamCaConfigMap a ConfigMap (in the pod's namespace, key {@code ca.crt}) with PEM CAs
 *     the sidecar trusts for upstreams besides the JDK's roots (private Git hosts, internal APIs),
 *     or null
 * @param operatorUrl where the sidecar reaches the operator ({@code https://host:port}), or null
 *     when unknown (the sidecar then gets no Vault token)
 * @param operatorCaPem the CA of the operator's serving certificate (public), or null
 * @param vaultCaPem the CA(s) of Vault's TLS certificate (public, {@code CAPGATE_VAULT_CACERT}),
 *     handed to the sidecar as {@code CAPGATE_VAULT_CA}; null: the sidecar trusts the JDK's roots
 * @param ports the sidecar's uid and ports, the same in the init container's rules and the sidecar
 *     (chart {@code sidecar.proxyUid}, {@code sidecar.ports}; docs/meshes.md)
 * @param adminExposeMetrics true: the sidecars serve {@code /metrics} to callers outside the pod
 *     (chart {@code sidecar.adminExposeMetrics}; a Prometheus scraping agent pods)
 * @param logLevel the sidecars' log level (chart {@code sidecar.logLevel}, else {@code logLevel}),
 *     or null: not set, the sidecar's INFO
 */
public record SidecarSettings(
    String image,
    String imagePullPolicy,
    String vaultAddress,
    String identityAudience,
    long tokenExpirationSeconds,
    Map<String, String> requests,
    Map<String, String> limits,
    String upstreamCaConfigMap,
    String operatorUrl,
    String operatorCaPem,
    String vaultCaPem,
    SidecarPorts ports,
    boolean adminExposeMetrics,
    String logLevel) {

  public SidecarSettings {
    java.util.Objects.requireNonNull(ports, "ports");
  }

  /** Without extra upstream CAs, before the operator's address is known. */
  public SidecarSettings(
      String image,
      String imagePullPolicy,
      String vaultAddress,
      String identityAudience,
      long tokenExpirationSeconds,
      Map<String, String> requests,
      Map<String, String> limits) {
    this(
        image,
        imagePullPolicy,
        vaultAddress,
        identityAudience,
        tokenExpirationSeconds,
        requests,
        limits,
        null);
  }

  /** Before the operator's address is known. */
  public SidecarSettings(
      String image,
      String imagePullPolicy,
      String vaultAddress,
      String identityAudience,
      long tokenExpirationSeconds,
      Map<String, String> requests,
      Map<String, String> limits,
      String upstreamCaConfigMap) {
    this(
        image,
        imagePullPolicy,
        vaultAddress,
        identityAudience,
        tokenExpirationSeconds,
        requests,
        limits,
        upstreamCaConfigMap,
        null,
        null,
        null,
        SidecarPorts.DEFAULTS,
        false,
        null);
  }

  /** The same, with where and how the sidecar reaches the operator (known once it serves). */
  public SidecarSettings withOperator(String url, String caPem) {
    Copy copy = new Copy(this);
    copy.operatorUrl = url;
    copy.operatorCaPem = caPem;
    return copy.build();
  }

  /** The same, with the PEM of Vault's CA(s) for the sidecar (null: the JDK's roots). */
  public SidecarSettings withVaultCa(String pem) {
    Copy copy = new Copy(this);
    copy.vaultCaPem = pem;
    return copy.build();
  }

  /** The same, with another uid and ports for the init rules and the sidecar. */
  public SidecarSettings withPorts(SidecarPorts other) {
    Copy copy = new Copy(this);
    copy.ports = other;
    return copy.build();
  }

  /** The same, with {@code /metrics} served outside the pods or to loopback only. */
  public SidecarSettings withAdminExposeMetrics(boolean expose) {
    Copy copy = new Copy(this);
    copy.adminExposeMetrics = expose;
    return copy.build();
  }

  /** The same, with the sidecars' log level (null: unset). */
  public SidecarSettings withLogLevel(String level) {
    Copy copy = new Copy(this);
    copy.logLevel = level;
    return copy.build();
  }

  /**
   * The components the {@code with…} methods change, over the rest of {@code from}: the one place
   * that lists every component in order, so a new one is added here and in no wither.
   */
  private static final class Copy {
    private final SidecarSettings from;
    private String operatorUrl;
    private String operatorCaPem;
    private String vaultCaPem;
    private SidecarPorts ports;
    private boolean adminExposeMetrics;
    private String logLevel;

    private Copy(SidecarSettings from) {
      this.from = from;
      this.operatorUrl = from.operatorUrl;
      this.operatorCaPem = from.operatorCaPem;
      this.vaultCaPem = from.vaultCaPem;
      this.ports = from.ports;
      this.adminExposeMetrics = from.adminExposeMetrics;
      this.logLevel = from.logLevel;
    }

    private SidecarSettings build() {
      return new SidecarSettings(
          from.image,
          from.imagePullPolicy,
          from.vaultAddress,
          from.identityAudience,
          from.tokenExpirationSeconds,
          from.requests,
          from.limits,
          from.upstreamCaConfigMap,
          operatorUrl,
          operatorCaPem,
          vaultCaPem,
          ports,
          adminExposeMetrics,
          logLevel);
    }
  }
}
