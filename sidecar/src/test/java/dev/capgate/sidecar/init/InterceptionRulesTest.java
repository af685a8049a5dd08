package dev.capgate.sidecar.init;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class InterceptionRulesTest {
  private final InterceptionRules rules = new InterceptionRules(InterceptionConfig.DEFAULTS);

  @Test
  void first_run_matches_the_golden_file() throws IOException {
    assertThat(rules.render(IpFamily.IPV4, "")).isEqualTo(golden("first-run.rules", rules.render(IpFamily.IPV4, "")));
  }

  @Test
  void ipv6_gets_the_same_rules_with_its_own_loopback() {
    assertThat(rules.render(IpFamily.IPV6, ""))
        .isEqualTo(rules.render(IpFamily.IPV4, "").replace("-d 127.0.0.1/32", "-d ::1/128"));
  }

  @Test
  void jumps_already_in_place_are_not_inserted_again() throws IOException {
    String save = """
        *nat
        :OUTPUT ACCEPT [0:0]
        :CAPGATE_OUTPUT - [0:0]
        -A OUTPUT -m comment --comment "capgate: send pod egress through the sidecar" -j CAPGATE_OUTPUT
        COMMIT
        *filter
        :OUTPUT ACCEPT [0:0]
        -A OUTPUT -m comment --comment "capgate: drop egress the sidecar cannot see" -j CAPGATE_EGRESS
        COMMIT
        """;
    assertThat(rules.render(IpFamily.IPV4, save)).isEqualTo(golden("rerun.rules", rules.render(IpFamily.IPV4, save)));
  }

  @Test
  void a_jump_in_another_table_does_not_count() {
    String save = "*filter\n-A OUTPUT -j CAPGATE_OUTPUT\nCOMMIT\n";
    assertThat(rules.render(IpFamily.IPV4, save)).contains("-I OUTPUT 1 -m comment --comment \"capgate: send pod egress through the sidecar\" -j CAPGATE_OUTPUT");
  }

  @Test
  void every_rule_carries_a_comment() {
    for (String line : rules.render(IpFamily.IPV4, "").split("\n")) {
      if (line.startsWith("-A ") || line.startsWith("-I ")) {
        assertThat(line).contains("-m comment --comment \"capgate: ");
      }
    }
  }

  @Test
  void ports_and_uid_come_from_the_config() {
    String text = new InterceptionRules(new InterceptionConfig(2000, 16001, 16053)).render(IpFamily.IPV4, "");
    assertThat(text).contains("--uid-owner 2000", "--to-ports 16001", "--to-ports 16053")
        .doesNotContain("1337", "15001", "15053");
  }

  @Test
  void root_as_proxy_uid_is_refused() {
    assertThatThrownBy(() -> new InterceptionConfig(0, 15001, 15053)).hasMessageContaining("non-root");
  }

  /**
   * The expected text; {@code -Dgolden.update=true} first rewrites the file from {@code actual}
   * (then review the diff before committing it).
   */
  private static String golden(String name, String actual) throws IOException {
    if (Boolean.getBoolean("golden.update")) {
      java.nio.file.Files.writeString(java.nio.file.Path.of("src/test/resources/init", name), actual);
      return actual;
    }
    try (InputStream in = InterceptionRulesTest.class.getResourceAsStream("/init/" + name)) {
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
  }
}
