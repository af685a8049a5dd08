package dev.capgate.sidecar.policy;

import static dev.capgate.sidecar.policy.ConnectionAction.DENY;
import static dev.capgate.sidecar.policy.ConnectionAction.INTERCEPT;
import static dev.capgate.sidecar.policy.ConnectionAction.PASSTHROUGH;
import static dev.capgate.sidecar.policy.ConnectionAction.TCP;
import static dev.capgate.sidecar.policy.ConnectionKind.OTHER;
import static dev.capgate.sidecar.policy.ConnectionKind.PLAINTEXT_HTTP;
import static dev.capgate.sidecar.policy.ConnectionKind.TLS;
import static dev.capgate.sidecar.policy.Specs.rule;
import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class PolicyConnectionTest {
  private static final Policy POLICY =
      Specs.policy(
          rule("github-api")
              .hosts("api.github.com")
              .paths("/repos/acme/repo-a", "/repos/acme/repo-a/**")
              .credential("github"),
          rule("packages").hosts("pypi.org", "files.pythonhosted.org").passthrough(),
          rule("example").hosts("*.example.com"),
          rule("internal-api").hosts("api.internal").ports(8443),
          rule("database").cidrs("10.20.0.0/16", "fd00:db::/32").ports(5432),
          rule("single-ip").cidrs("192.0.2.7/32").ports(443));

  static Stream<Arguments> cases() {
    return Stream.of(
        Arguments.of(
            "exact host over TLS on 443 is intercepted",
            "api.github.com",
            "203.0.113.1",
            443,
            TLS,
            INTERCEPT,
            "github-api"),
        Arguments.of(
            "exact host over plaintext HTTP on 80 is intercepted",
            "api.github.com",
            "203.0.113.1",
            80,
            PLAINTEXT_HTTP,
            INTERCEPT,
            "github-api"),
        Arguments.of(
            "host rules default to ports 443 and 80 only",
            "api.github.com",
            "203.0.113.1",
            8443,
            TLS,
            DENY,
            null),
        Arguments.of(
            "SNI is compared case-insensitively, trailing dot ignored",
            "API.GitHub.COM.",
            "203.0.113.1",
            443,
            TLS,
            INTERCEPT,
            "github-api"),
        Arguments.of(
            "wildcard matches one label",
            "a.example.com",
            "203.0.113.1",
            443,
            TLS,
            INTERCEPT,
            "example"),
        Arguments.of(
            "wildcard matches several labels",
            "a.b.example.com",
            "203.0.113.1",
            443,
            TLS,
            INTERCEPT,
            "example"),
        Arguments.of(
            "wildcard does not match the bare domain",
            "example.com",
            "203.0.113.1",
            443,
            TLS,
            DENY,
            null),
        Arguments.of(
            "wildcard does not match a name that only ends the same",
            "badexample.com",
            "203.0.113.1",
            443,
            TLS,
            DENY,
            null),
        Arguments.of(
            "wildcard does not match the domain as a prefix",
            "a.example.com.evil.org",
            "203.0.113.1",
            443,
            TLS,
            DENY,
            null),
        Arguments.of(
            "explicit ports replace the defaults",
            "api.internal",
            "10.0.0.9",
            8443,
            TLS,
            INTERCEPT,
            "internal-api"),
        Arguments.of(
            "explicit ports exclude 443", "api.internal", "10.0.0.9", 443, TLS, DENY, null),
        Arguments.of(
            "passthrough host over TLS is spliced",
            "pypi.org",
            "151.101.0.223",
            443,
            TLS,
            PASSTHROUGH,
            "packages"),
        Arguments.of(
            "passthrough second host over TLS is spliced",
            "files.pythonhosted.org",
            "151.101.0.223",
            443,
            TLS,
            PASSTHROUGH,
            "packages"),
        Arguments.of(
            "passthrough host over plaintext is denied",
            "pypi.org",
            "151.101.0.223",
            80,
            PLAINTEXT_HTTP,
            DENY,
            null),
        Arguments.of("unknown host is denied", "evil.com", "198.51.100.1", 443, TLS, DENY, null),
        Arguments.of("TLS without SNI is denied", null, "203.0.113.1", 443, TLS, DENY, null),
        Arguments.of(
            "a malformed SNI is denied", "api_github.com", "203.0.113.1", 443, TLS, DENY, null),
        Arguments.of(
            "a SNI with an empty label is denied",
            "api..github.com",
            "203.0.113.1",
            443,
            TLS,
            DENY,
            null),
        Arguments.of(
            "host rules need a name: raw TCP with a name is not matched by host",
            "api.github.com",
            "203.0.113.1",
            443,
            OTHER,
            DENY,
            null),
        Arguments.of(
            "raw TCP into an IPv4 range on a listed port",
            null,
            "10.20.3.4",
            5432,
            OTHER,
            TCP,
            "database"),
        Arguments.of(
            "cidrs rules allow any kind of connection",
            "db.example.org",
            "10.20.3.4",
            5432,
            TLS,
            TCP,
            "database"),
        Arguments.of(
            "raw TCP into an IPv4 range on another port is denied",
            null,
            "10.20.3.4",
            5433,
            OTHER,
            DENY,
            null),
        Arguments.of(
            "raw TCP just outside the IPv4 range is denied",
            null,
            "10.21.0.1",
            5432,
            OTHER,
            DENY,
            null),
        Arguments.of(
            "raw TCP into an IPv6 range", null, "fd00:db:0:1::5", 5432, OTHER, TCP, "database"),
        Arguments.of(
            "raw TCP just outside the IPv6 range is denied",
            null,
            "fd00:dc::5",
            5432,
            OTHER,
            DENY,
            null),
        Arguments.of(
            "an IPv4-mapped IPv6 destination counts as IPv4",
            null,
            "::ffff:10.20.3.4",
            5432,
            OTHER,
            TCP,
            "database"),
        Arguments.of(
            "a /32 range matches its one address", null, "192.0.2.7", 443, OTHER, TCP, "single-ip"),
        Arguments.of("a /32 range matches no neighbour", null, "192.0.2.8", 443, OTHER, DENY, null),
        Arguments.of(
            "TLS without SNI to a cidrs address is raw TCP",
            null,
            "192.0.2.7",
            443,
            TLS,
            TCP,
            "single-ip"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("cases")
  void decides_connections(
      String description,
      String serverName,
      String address,
      int port,
      ConnectionKind kind,
      ConnectionAction action,
      String rule)
      throws Exception {
    ConnectionVerdict verdict =
        POLICY.onConnection(
            serverName, new InetSocketAddress(InetAddress.ofLiteral(address), port), kind);

    assertThat(verdict.action()).isEqualTo(action);
    assertThat(verdict.rule()).isEqualTo(rule);
    assertThat(verdict.reason()).isNotBlank();
  }

  static Stream<Arguments> firstMatchCases() {
    return Stream.of(
        Arguments.of(
            "passthrough listed first takes the connection",
            Specs.policy(
                rule("all-github").hosts("*.github.com").passthrough(),
                rule("github-api").hosts("api.github.com").credential("github")),
            PASSTHROUGH,
            "all-github"),
        Arguments.of(
            "intercept listed first takes the connection",
            Specs.policy(
                rule("github-api").hosts("api.github.com").credential("github"),
                rule("all-github").hosts("*.github.com").passthrough()),
            INTERCEPT,
            "github-api"),
        Arguments.of(
            "a cidrs rule listed first wins over a host rule",
            Specs.policy(
                rule("range").cidrs("203.0.113.0/24").ports(443),
                rule("github-api").hosts("api.github.com")),
            TCP,
            "range"),
        Arguments.of(
            "a rule on another port is skipped, not final",
            Specs.policy(
                rule("other-port").hosts("api.github.com").ports(8443),
                rule("github-api").hosts("api.github.com")),
            INTERCEPT,
            "github-api"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("firstMatchCases")
  void first_match_wins(String description, Policy policy, ConnectionAction action, String rule) {
    ConnectionVerdict verdict =
        policy.onConnection(
            "api.github.com",
            new InetSocketAddress(InetAddress.ofLiteral("203.0.113.1"), 443),
            TLS);

    assertThat(verdict.action()).isEqualTo(action);
    assertThat(verdict.rule()).isEqualTo(rule);
  }

  @org.junit.jupiter.api.Test
  void plaintext_to_a_passthrough_host_says_why() {
    ConnectionVerdict verdict =
        POLICY.onConnection(
            "pypi.org",
            new InetSocketAddress(InetAddress.ofLiteral("151.101.0.223"), 80),
            PLAINTEXT_HTTP);

    assertThat(verdict.reason()).contains("packages").contains("TLS passthrough only");
  }
}
