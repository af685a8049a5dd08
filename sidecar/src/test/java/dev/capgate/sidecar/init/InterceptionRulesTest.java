package dev.capgate.sidecar.init;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

class InterceptionRulesTest {
  private final InterceptionRules rules = new InterceptionRules(InterceptionConfig.DEFAULTS);

  @Test
  void first_run_matches_the_golden_file() throws IOException {
    assertThat(rules.render(IpFamily.IPV4, ""))
        .isEqualTo(golden("first-run.rules", rules.render(IpFamily.IPV4, "")));
  }

  @Test
  void ipv6_gets_the_same_rules_with_its_own_loopback_and_neighbour_discovery() {
    String v6 = rules.render(IpFamily.IPV6, "");
    String withoutNd =
        v6.lines()
            .filter(l -> !l.contains("--icmpv6-type"))
            .collect(java.util.stream.Collectors.joining("\n", "", "\n"));
    assertThat(withoutNd)
        .isEqualTo(rules.render(IpFamily.IPV4, "").replace("-d 127.0.0.1/32", "-d ::1/128"));
    // Neighbour discovery before the final drop, or IPv6 stops working at all.
    assertThat(v6.indexOf("--icmpv6-type 135"))
        .isPositive()
        .isLessThan(v6.indexOf("capgate: no other inbound traffic"));
  }

  @Test
  void inbound_is_dropped_except_replies_loopback_admin_and_declared_ports() throws IOException {
    InterceptionRules declared =
        new InterceptionRules(
            new InterceptionConfig(
                1447, 14001, 14053, 14021, InterceptionConfig.parsePorts("9090, 8080")));
    String text = declared.render(IpFamily.IPV4, "");
    assertThat(text).isEqualTo(golden("inbound-ports.rules", text));
    List<String> inbound = text.lines().filter(l -> l.startsWith("-A CAPGATE_INBOUND")).toList();
    assertThat(inbound.getLast()).endsWith("-j DROP").doesNotContain("--dport", "-p ");
    assertThat(inbound)
        .filteredOn(l -> l.contains("--dport"))
        .extracting(l -> l.replaceAll(".*--dport (\\d+).*", "$1"))
        .containsExactly("14021", "8080", "9090");
    assertThat(text)
        .contains(
            "-I INPUT 1 -m comment --comment \"capgate: drop inbound the pod did not declare\" -j CAPGATE_INBOUND");
  }

  @Test
  void the_sidecars_own_connections_get_a_conntrack_zone_of_their_own() {
    // Without it, a sidecar connect that reuses the port of a half-closed agent connection is
    // redirected to the sidecar itself (NewConnectionFloodIT floods it).
    String text = rules.render(IpFamily.IPV4, "");
    assertThat(text)
        .startsWith("*raw\n:CAPGATE_CONNTRACK - [0:0]\n")
        .contains(
            "-A CAPGATE_CONNTRACK -m owner --uid-owner 1447 -m comment --comment \"capgate: the"
                + " sidecar's own connections in a conntrack zone of their own\" -j CT --zone-orig 1\n",
            "-I OUTPUT 1 -m comment --comment \"capgate: the sidecar's connections never meet the"
                + " agents' in conntrack\" -j CAPGATE_CONNTRACK\n");
    assertThat(rules.render(IpFamily.IPV6, "")).contains("-j CT --zone-orig 1\n");
  }

  @Test
  void invalid_tcp_is_dropped_before_any_egress_exception() {
    String first =
        rules
            .render(IpFamily.IPV4, "")
            .lines()
            .filter(l -> l.startsWith("-A CAPGATE_EGRESS"))
            .findFirst()
            .orElseThrow();
    assertThat(first).contains("-p tcp -m conntrack --ctstate INVALID").endsWith("-j DROP");
  }

  @Test
  void the_sidecars_own_listeners_cannot_be_opened_to_peers() {
    assertThatThrownBy(
            () ->
                new InterceptionConfig(
                    1447, 14001, 14053, 14021, InterceptionConfig.parsePorts("8080,14001")))
        .hasMessageContaining("may not open the sidecar's own proxy port 14001");
    assertThatThrownBy(
            () ->
                new InterceptionConfig(
                    1447, 14001, 14053, 14021, InterceptionConfig.parsePorts("14053")))
        .hasMessageContaining("DNS port 14053");
  }

  @Test
  void bad_inbound_port_lists_are_refused_with_the_offending_entries() {
    assertThat(InterceptionConfig.parsePorts("")).isEmpty();
    assertThat(InterceptionConfig.parsePorts("443,80,443")).containsExactly(80, 443);
    assertThatThrownBy(() -> InterceptionConfig.parsePorts("80,http,70000,,0"))
        .hasMessageContaining("'http'")
        .hasMessageContaining("'70000'")
        .hasMessageContaining("''")
        .hasMessageContaining("'0'")
        .hasMessageNotContaining("'80'");
  }

  @Test
  void jumps_already_in_place_are_not_inserted_again() throws IOException {
    String save =
        """
        *raw
        :OUTPUT ACCEPT [0:0]
        -A OUTPUT -m comment --comment "capgate: the sidecar's connections never meet the agents' in conntrack" -j CAPGATE_CONNTRACK
        COMMIT
        *nat
        :OUTPUT ACCEPT [0:0]
        :CAPGATE_OUTPUT - [0:0]
        -A OUTPUT -m comment --comment "capgate: send pod egress through the sidecar" -j CAPGATE_OUTPUT
        COMMIT
        *filter
        :OUTPUT ACCEPT [0:0]
        -A OUTPUT -m comment --comment "capgate: drop egress the sidecar cannot see" -j CAPGATE_EGRESS
        -A INPUT -m comment --comment "capgate: drop inbound the pod did not declare" -j CAPGATE_INBOUND
        COMMIT
        """;
    assertThat(rules.render(IpFamily.IPV4, save))
        .isEqualTo(golden("rerun.rules", rules.render(IpFamily.IPV4, save)));
  }

  @Test
  void a_jump_in_another_table_does_not_count() {
    String save = "*filter\n-A OUTPUT -j CAPGATE_OUTPUT\nCOMMIT\n";
    assertThat(rules.render(IpFamily.IPV4, save))
        .contains(
            "-I OUTPUT 1 -m comment --comment \"capgate: send pod egress through the sidecar\" -j CAPGATE_OUTPUT");
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
    String text =
        new InterceptionRules(new InterceptionConfig(2000, 16001, 16053)).render(IpFamily.IPV4, "");
    assertThat(text)
        .contains("--uid-owner 2000", "--to-ports 16001", "--to-ports 16053")
        .doesNotContain("1447", "14001", "14053");
  }

  /** Beside a mesh's sidecar: its uid is left alone in nat and in filter, right after ours. */
  @Test
  void a_mesh_proxys_uids_are_exempt_next_to_the_sidecars() {
    InterceptionConfig config =
        new InterceptionConfig(
            new dev.capgate.api.sidecar.SidecarPorts(
                1447, 14001, 14053, 14021, new java.util.TreeSet<>(java.util.List.of(2102, 1337))),
            new java.util.TreeSet<>());
    String text = new InterceptionRules(config).render(IpFamily.IPV4, "");
    List<String> exempt = text.lines().filter(l -> l.contains("-m owner --uid-owner")).toList();
    assertThat(exempt)
        .containsExactly(
            "-A CAPGATE_CONNTRACK -m owner --uid-owner 1447 -m comment --comment \"capgate: the sidecar's own connections in a conntrack zone of their own\" -j CT --zone-orig 1",
            "-A CAPGATE_CONNTRACK -m owner --uid-owner 1337 -m comment --comment \"capgate: another proxy's connections in a conntrack zone of their own\" -j CT --zone-orig 2",
            "-A CAPGATE_CONNTRACK -m owner --uid-owner 2102 -m comment --comment \"capgate: another proxy's connections in a conntrack zone of their own\" -j CT --zone-orig 2",
            "-A CAPGATE_OUTPUT -m owner --uid-owner 1447 -m comment --comment \"capgate: the sidecar's own traffic is exempt\" -j RETURN",
            "-A CAPGATE_OUTPUT -m owner --uid-owner 1337 -m comment --comment \"capgate: another proxy's traffic is exempt (--exempt-uids)\" -j RETURN",
            "-A CAPGATE_OUTPUT -m owner --uid-owner 2102 -m comment --comment \"capgate: another proxy's traffic is exempt (--exempt-uids)\" -j RETURN",
            "-A CAPGATE_EGRESS -m owner --uid-owner 1447 -m comment --comment \"capgate: the sidecar's own traffic is exempt\" -j RETURN",
            "-A CAPGATE_EGRESS -m owner --uid-owner 1337 -m comment --comment \"capgate: another proxy's traffic is exempt (--exempt-uids)\" -j RETURN",
            "-A CAPGATE_EGRESS -m owner --uid-owner 2102 -m comment --comment \"capgate: another proxy's traffic is exempt (--exempt-uids)\" -j RETURN");
    // Without a mesh the rules are exactly the golden ones: no exempt uid but the sidecar's.
    assertThat(new InterceptionRules(InterceptionConfig.DEFAULTS).render(IpFamily.IPV4, ""))
        .doesNotContain("--exempt-uids");
  }

  @Test
  void root_as_proxy_uid_is_refused() {
    assertThatThrownBy(() -> new InterceptionConfig(0, 14001, 14053))
        .hasMessageContaining("non-root");
  }

  /**
   * The expected text; {@code -Dgolden.update=true} first rewrites the file from {@code actual}
   * (then review the diff before committing it).
   */
  private static String golden(String name, String actual) throws IOException {
    if (Boolean.getBoolean("golden.update")) {
      java.nio.file.Files.writeString(
          java.nio.file.Path.of("src/test/resources/init", name), actual);
      return actual;
    }
    try (InputStream in = InterceptionRulesTest.class.getResourceAsStream("/init/" + name)) {
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
  }
}
