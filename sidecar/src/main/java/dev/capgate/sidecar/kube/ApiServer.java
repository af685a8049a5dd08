package dev.capgate.sidecar.kube;

import dev.capgate.api.sidecar.SidecarContract;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

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

  /**
   * As {@link #inCluster()}, with the URL and the directory holding {@code token} and {@code
   * ca.crt} given explicitly when present ({@code --kube-api-url}, {@code --kube-api-dir}: a
   * sidecar run outside a pod, as the bench does; a pod never needs them).
   */
  public static ApiServer of(Optional<String> url, Optional<Path> dir) {
    Path mount = dir.orElse(SERVICE_ACCOUNT);
    if (url.isEmpty()) {
      return inCluster(System.getenv(), mount);
    }
    Path token = token(mount);
    return new ApiServer(URI.create(url.get()), readCa(mount.resolve("ca.crt")), token);
  }

  static ApiServer inCluster(Map<String, String> env, Path serviceAccount) {
    String host = env.get("KUBERNETES_SERVICE_HOST");
    String port = env.getOrDefault("KUBERNETES_SERVICE_PORT", "443");
    if (host == null || host.isBlank()) {
      throw new IllegalStateException(
          "KUBERNETES_SERVICE_HOST is not set: not running in a Kubernetes pod?");
    }
    String hostPart = host.contains(":") ? "[" + host + "]" : host; // IPv6 service address
    Path token = token(serviceAccount);
    return new ApiServer(
        URI.create("https://" + hostPart + ":" + port),
        readCa(serviceAccount.resolve("ca.crt")),
        token);
  }

  private static Path token(Path dir) {
    Path token = dir.resolve("token");
    if (!Files.isReadable(token)) {
      throw new IllegalStateException(
          "no service-account token at " + token + " (automountServiceAccountToken off?)");
    }
    return token;
  }

  private static String readCa(Path ca) {
    try {
      return Files.readString(ca);
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
