package dev.capgate.sidecar.tls;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.capgate.testkit.Pki;
import io.netty.buffer.ByteBufAllocator;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class UpstreamTlsTest {
  @TempDir Path dir;

  @Test
  void private_upstream_and_egress_proxy_bundles_are_both_trusted() throws Exception {
    Path upstreamCa = dir.resolve("upstream-ca.pem");
    Path proxyCa = dir.resolve("proxy-ca.pem");
    Files.writeString(upstreamCa, new Pki("private upstream CA").caCertPem());
    Files.writeString(proxyCa, new Pki("TLS-inspecting proxy CA").caCertPem());
    UpstreamTls tls = UpstreamTls.create(List.of(upstreamCa, proxyCa));
    assertThat(
            tls.newHandler(ByteBufAllocator.DEFAULT, "api.github.test", 443)
                .engine()
                .getUseClientMode())
        .isTrue();
  }

  @Test
  void a_bundle_without_certificates_is_refused_by_name() throws Exception {
    Path empty = dir.resolve("empty.pem");
    Files.writeString(empty, "");
    assertThatThrownBy(() -> UpstreamTls.create(List.of(empty)))
        .isInstanceOf(IOException.class)
        .hasMessageContaining("empty.pem");
  }
}
