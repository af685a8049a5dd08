package dev.capgate.sidecar.kube;

import dev.capgate.api.sidecar.SidecarContract;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Objects;

/**
 * Where the API server is and how the sidecar proves who it is there.
 *
 * @param url {@code https://host:port} of the API server
 * @param caPem the CA(s) trusted for it (PEM text); the only ones trusted
 * @param tokenFile the bearer token, re-read at every request: the kubelet rotates projected
 *     service-account tokens, so a token kept in memory would expire under a long-lived sidecar
 */
public record ApiServer(URI url, String caPem, Path tokenFile) {
  /**
   * The API token's mount (the ordinary service-account one, not the {@code capgate} identity
   * token), where the webhook puts it in {@code capgate-proxy} alone.
   */
  static final Path SERVICE_ACCOUNT = Path.of(SidecarContract.KUBE_API_DIR);

  public ApiServer {
    Objects.requireNonNull(url, "url");
    Objects.requireNonNull(caPem, "caPem");
    Objects.requireNonNull(tokenFile, "tokenFile");
    if (!"https".equals(url.getScheme())) {
      throw new IllegalArgumentException("the API server URL must be https: " + url);
    }
  }

  /**
   * The in-cluster configuration every pod has: {@code KUBERNETES_SERVICE_HOST}/{@code _PORT} and
   * the service-account mount.
   *
   * @throws IllegalStateException when the pod has neither (not in a cluster, token not mounted)
   */
  public static ApiServer inCluster() {
    return inCluster(System.getenv(), SERVICE_ACCOUNT);
  }

  static ApiServer inCluster(Map<String, String> env, Path serviceAccount) {
    String host = env.get("KUBERNETES_SERVICE_HOST");
    String port = env.getOrDefault("KUBERNETES_SERVICE_PORT", "443");
    if (host == null || host.isBlank()) {
      throw new IllegalStateException(
          "KUBERNETES_SERVICE_HOST is not set: not running in a Kubernetes pod?");
    }
    Path ca = serviceAccount.resolve("ca.crt");
    Path token = serviceAccount.resolve("token");
    if (!Files.isReadable(token)) {
      throw new IllegalStateException(
          "no service-account token at " + token + " (automountServiceAccountToken off?)");
    }
    try {
      String hostPart = host.contains(":") ? "[" + host + "]" : host; // IPv6 service address
      return new ApiServer(
          URI.create("https://" + hostPart + ":" + port), Files.readString(ca), token);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read the cluster CA " + ca, e);
    }
  }

  /** The current token; read on the caller's (virtual) thread, never on an event loop. */
  String token() {
    try {
      return Files.readString(tokenFile).strip();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read the service-account token " + tokenFile, e);
    }
  }
}
