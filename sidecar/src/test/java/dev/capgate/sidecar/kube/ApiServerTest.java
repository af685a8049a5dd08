package dev.capgate.sidecar.kube;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The in-cluster configuration, and the token read afresh at every request. */
class ApiServerTest {
  @TempDir Path dir;

  @Test
  void in_cluster_reads_the_service_host_and_the_mount_and_re_reads_the_token() throws IOException {
    Files.writeString(dir.resolve("ca.crt"), "-----BEGIN CERTIFICATE-----\n...");
    Files.writeString(dir.resolve("token"), "first\n");
    ApiServer server =
        ApiServer.inCluster(
            Map.of("KUBERNETES_SERVICE_HOST", "fd00::1", "KUBERNETES_SERVICE_PORT", "6443"), dir);

    assertThat(server.url()).isEqualTo(URI.create("https://[fd00::1]:6443"));
    assertThat(server.caPem()).startsWith("-----BEGIN CERTIFICATE-----");
    assertThat(server.token()).isEqualTo("first");
    Files.writeString(dir.resolve("token"), "rotated by the kubelet");
    assertThat(server.token()).isEqualTo("rotated by the kubelet");
  }

  @Test
  void outside_a_pod_or_without_a_token_it_says_why() throws IOException {
    assertThatThrownBy(() -> ApiServer.inCluster(Map.of(), dir))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("KUBERNETES_SERVICE_HOST");
    assertThatThrownBy(
            () -> ApiServer.inCluster(Map.of("KUBERNETES_SERVICE_HOST", "10.96.0.1"), dir))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("no service-account token");
  }

  @Test
  void an_explicit_url_and_directory_replace_the_pod_s_own() throws IOException {
    Files.writeString(dir.resolve("ca.crt"), "-----BEGIN CERTIFICATE-----\n...");
    Files.writeString(dir.resolve("token"), "bench");
    ApiServer server = ApiServer.of(Optional.of("https://127.0.0.1:6443"), Optional.of(dir));

    assertThat(server.url()).isEqualTo(URI.create("https://127.0.0.1:6443"));
    assertThat(server.token()).isEqualTo("bench");
    assertThatThrownBy(
            () ->
                ApiServer.of(Optional.of("https://127.0.0.1:6443"), Optional.of(dir.resolve("x"))))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("no service-account token");
  }

  @Test
  void plain_http_is_refused() {
    assertThatThrownBy(
            () -> new ApiServer(URI.create("http://10.96.0.1:443"), "pem", dir.resolve("t")))
        .isInstanceOf(IllegalArgumentException.class);
  }
}
