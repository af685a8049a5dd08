package dev.capgate.operator.injection;

import java.util.Map;

/**
 * The operator-wide part of what is injected (from the operator's configuration).
 *
 * @param image                    the sidecar image (both modes: init and proxy)
 * @param imagePullPolicy          e.g. IfNotPresent
 * @param vaultAddress             Vault address handed to the sidecar, or null
 * @param vaultAudience            audience of the sidecar's projected token
 * @param tokenExpirationSeconds   lifetime of that token (the kubelet refreshes it)
 * @param requests                 resource requests of both capgate containers
 * @param limits                   resource limits of both capgate containers
 * @param upstreamCaConfigMap      a ConfigMap (in the pod's namespace, key {@code ca.crt}) with PEM
 *                                 CAs the sidecar trusts for upstreams besides the JDK's roots
 *                                 (private Git hosts, internal APIs), or null
 */
public record SidecarSettings(
    String image,
    String imagePullPolicy,
    String vaultAddress,
    String vaultAudience,
    long tokenExpirationSeconds,
    Map<String, String> requests,
    Map<String, String> limits,
    String upstreamCaConfigMap) {

  /** Without extra upstream CAs. */
  public SidecarSettings(String image, String imagePullPolicy, String vaultAddress, String vaultAudience,
      long tokenExpirationSeconds, Map<String, String> requests, Map<String, String> limits) {
    this(image, imagePullPolicy, vaultAddress, vaultAudience, tokenExpirationSeconds, requests, limits, null);
  }
}
