package dev.capgate.operator.identity;

import dev.capgate.operator.config.OperatorConfig;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Where injected sidecars reach the operator's {@code /v1/vault-token}, on the identity listener
 * (not the webhook's port, which pods may be kept off): {@code CAPGATE_OPERATOR_URL} if set; else
 * the scheme and host of {@code CAPGATE_WEBHOOK_URL} (where the API server calls the webhook, out
 * of cluster and in tests) with the identity listener's port; else {@code https://<cluster
 * IP>:<identity service port>} of the webhook Service — an address, not the Service's DNS name,
 * because a cluster may have no cluster DNS (the local test cluster has none), and then the serving
 * certificate carries that IP too.
 *
 * @param urlTemplate the URL, {@code {port}} standing for the port the identity listener listens
 *     on; null when none could be found (sidecars then get no Vault token: logged)
 * @param certificateNames extra names (IPs) the serving certificate must carry for it
 */
public record OperatorEndpoint(String urlTemplate, List<String> certificateNames) {
  private static final Logger LOG = LoggerFactory.getLogger(OperatorEndpoint.class);

  public static OperatorEndpoint resolve(KubernetesClient client, OperatorConfig config) {
    if (config.vaultIdentity().operatorUrl() != null) {
      return new OperatorEndpoint(stripSlash(config.vaultIdentity().operatorUrl()), List.of());
    }
    if (config.webhookUrl() != null) {
      return new OperatorEndpoint(withPortPlaceholder(config.webhookUrl()), List.of());
    }
    String service = config.webhookServiceName();
    try {
      Service found = client.services().inNamespace(config.namespace()).withName(service).get();
      String ip = found == null || found.getSpec() == null ? null : found.getSpec().getClusterIP();
      if (ip == null || ip.isBlank() || "None".equals(ip)) {
        LOG.warn(
            "the webhook Service {}/{} {}: set CAPGATE_OPERATOR_URL, or sidecars get no Vault token",
            config.namespace(),
            service,
            found == null ? "does not exist" : "has no cluster IP");
        return new OperatorEndpoint(null, List.of());
      }
      String host = ip.contains(":") ? "[" + ip + "]" : ip;
      return new OperatorEndpoint(
          "https://" + host + ":" + config.vaultIdentity().servicePort(), List.of(ip));
    } catch (KubernetesClientException e) {
      LOG.warn(
          "could not read the webhook Service {}/{} ({}): set CAPGATE_OPERATOR_URL, or sidecars get no Vault"
              + " token",
          config.namespace(),
          service,
          e.getCode());
      return new OperatorEndpoint(null, List.of());
    }
  }

  /** The URL with the port the identity listener actually listens on. */
  public String url(int port) {
    return urlTemplate == null
        ? null
        : urlTemplate.replace(OperatorConfig.PORT_PLACEHOLDER, Integer.toString(port));
  }

  /**
   * {@code https://host:port/path} → {@code https://host:{port}}: the webhook's host, the identity
   * listener's port (also for an IPv6 {@code [::1]} and a URL with no port or a {@code {port}}).
   */
  static String withPortPlaceholder(String url) {
    String origin = origin(url);
    int scheme = origin.indexOf("://");
    int hostStart = scheme < 0 ? 0 : scheme + 3;
    int ipv6End = origin.indexOf(']', hostStart);
    int colon = origin.indexOf(':', ipv6End < 0 ? hostStart : ipv6End);
    String host = colon < 0 ? origin : origin.substring(0, colon);
    return host + ":" + OperatorConfig.PORT_PLACEHOLDER;
  }

  /**
   * {@code https://host:port/path} → {@code https://host:port} (works with a {@code {port}}
   * placeholder).
   */
  static String origin(String url) {
    int scheme = url.indexOf("://");
    int path = scheme < 0 ? -1 : url.indexOf('/', scheme + 3);
    return path < 0 ? url : url.substring(0, path);
  }

  private static String stripSlash(String url) {
    return url.endsWith("/") ? url.substring(0, url.length() - 1) : url;
  }
}
