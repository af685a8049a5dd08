package dev.capgate.sidecar.upstream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class UpstreamProxyTest {
  @TempDir Path dir;

  @Test
  void host_and_port_in_the_usual_spellings() {
    assertThat(UpstreamProxy.parse("proxy.corp:3128", null))
        .isEqualTo(new UpstreamProxy("proxy.corp", 3128, null, null));
    assertThat(UpstreamProxy.parse("http://10.0.0.1:8080/", null))
        .isEqualTo(new UpstreamProxy("10.0.0.1", 8080, null, null));
    assertThat(UpstreamProxy.parse("[fd00::1]:3128", null))
        .isEqualTo(new UpstreamProxy("fd00::1", 3128, null, null));
  }

  @Test
  void credentials_come_from_a_file_and_never_print() throws Exception {
    Path auth = dir.resolve("auth");
    Files.writeString(auth, "svc-capgate:p4ss:word\n");
    UpstreamProxy proxy = UpstreamProxy.parse("proxy.corp:3128", auth);
    assertThat(proxy.username()).isEqualTo("svc-capgate");
    assertThat(proxy.password()).isEqualTo("p4ss:word");
    assertThat(proxy.toString())
        .isEqualTo("proxy.corp:3128 (as svc-capgate)")
        .doesNotContain("p4ss");
  }

  @Test
  void bad_settings_say_what_is_wrong_without_echoing_secrets() {
    assertThatThrownBy(() -> UpstreamProxy.parse("proxy.corp", null))
        .hasMessageContaining("host:port");
    assertThatThrownBy(() -> UpstreamProxy.parse("https://proxy.corp:443", null))
        .hasMessageContaining("HTTP CONNECT");
    assertThatThrownBy(() -> UpstreamProxy.parse("http://user:secret@proxy.corp:3128", null))
        .hasMessageContaining("--upstream-proxy-auth-file")
        .hasMessageNotContaining("secret");
    assertThatThrownBy(() -> UpstreamProxy.parse("proxy.corp:99999", null))
        .hasMessageContaining("1-65535");
  }
}
