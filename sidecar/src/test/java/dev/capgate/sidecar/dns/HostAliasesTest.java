package dev.capgate.sidecar.dns;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.netty.resolver.ResolvedAddressTypes;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class HostAliasesTest {
  @Test
  void aliases_answer_their_names_by_family_and_nothing_else() {
    HostAliases aliases =
        HostAliases.parse(
            """
        [{"ip": "10.1.2.3", "hostnames": ["Registry.Internal", "mirror.internal."]},
         {"ip": "fd00::7", "hostnames": ["registry.internal"]}]
        """);
    assertThat(
            aliases
                .address("registry.internal", ResolvedAddressTypes.IPV4_PREFERRED)
                .getHostAddress())
        .isEqualTo("10.1.2.3");
    assertThat(
            aliases
                .address("REGISTRY.internal.", ResolvedAddressTypes.IPV6_PREFERRED)
                .getHostAddress())
        .isEqualTo("fd00:0:0:0:0:0:0:7");
    assertThat(aliases.address("mirror.internal", ResolvedAddressTypes.IPV6_ONLY)).isNull();
    assertThat(
            aliases
                .address("mirror.internal", ResolvedAddressTypes.IPV6_PREFERRED)
                .getHostAddress())
        .isEqualTo("10.1.2.3");
    assertThat(aliases.address("pypi.org", ResolvedAddressTypes.IPV4_PREFERRED))
        .as("DNS answers the rest")
        .isNull();
  }

  @Test
  void none_given_means_none() {
    assertThat(HostAliases.parse(null).isEmpty()).isTrue();
    assertThat(HostAliases.parse(" ").isEmpty()).isTrue();
    assertThat(HostAliases.parse("[]").isEmpty()).isTrue();
  }

  @Test
  void bad_aliases_are_refused_with_what_is_wrong() {
    assertThatThrownBy(() -> HostAliases.parse("{\"ip\":\"1.2.3.4\"}"))
        .hasMessageContaining("JSON array");
    assertThatThrownBy(() -> HostAliases.parse("[{\"ip\":\"example.com\",\"hostnames\":[\"a\"]}]"))
        .hasMessageContaining("no valid \"ip\"");
    assertThatThrownBy(() -> HostAliases.parse("[{\"ip\":\"1.2.3.4\"}]"))
        .hasMessageContaining("no hostnames");
    assertThatThrownBy(() -> HostAliases.parse("[{\"ip\":\"1.2.3.4\",\"hostnames\":[7]}]"))
        .hasMessageContaining("not a name");
  }

  @Test
  void resolv_conf_search_list_and_ndots_are_read(@TempDir Path dir) throws IOException {
    Path file = dir.resolve("resolv.conf");
    Files.writeString(
        file,
        """
        search old.example
        nameserver 10.96.0.10
        search agents.svc.cluster.local svc.cluster.local cluster.local
        options ndots:5 timeout:2
        """);
    assertThat(ResolvConf.searchDomains(file))
        .containsExactly("agents.svc.cluster.local", "svc.cluster.local", "cluster.local");
    assertThat(ResolvConf.ndots(file)).isEqualTo(5);
    Files.writeString(file, "nameserver 10.96.0.10\n");
    assertThat(ResolvConf.searchDomains(file)).isEmpty();
    assertThat(ResolvConf.ndots(file)).isEqualTo(1);
  }
}
