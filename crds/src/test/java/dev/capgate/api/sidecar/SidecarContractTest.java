package dev.capgate.api.sidecar;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

class SidecarContractTest {
  @Test
  void settingsRoundTripThroughTheEnvironment() {
    InjectedSettings written =
        InjectedSettings.forSession(
                "team-a",
                "fix-42",
                "https://vault:8200",
                "-----BEGIN VAULT CA-----",
                "https://op:8443",
                "-----BEGIN X-----")
            .withHostAliases("[{\"ip\":\"10.0.0.1\",\"hostnames\":[\"git.corp\"]}]")
            .withUpstreamCaFile(SidecarContract.UPSTREAM_CA_FILE);

    assertThat(InjectedSettings.read(written.toEnvValues())).isEqualTo(written);
    InjectedSettings otherPorts = written.withPorts(new SidecarPorts(4242, 20001, 20053, 20021));
    assertThat(InjectedSettings.read(otherPorts.toEnvValues())).isEqualTo(otherPorts);
    InjectedSettings metrics = written.withAdminExposeMetrics(true);
    assertThat(metrics.toEnvValues()).containsEntry("CAPGATE_ADMIN_EXPOSE_METRICS", "true");
    assertThat(InjectedSettings.read(metrics.toEnvValues())).isEqualTo(metrics);
    // Off is the default and is not written: the golden pods keep their variables.
    assertThat(written.toEnvValues()).doesNotContainKey("CAPGATE_ADMIN_EXPOSE_METRICS");
    assertThat(written.toEnvValues())
        .containsEntry("CAPGATE_LEASE_CONFIGMAP", "capgate-leases-fix-42")
        .containsEntry("CAPGATE_PROXY_PORT", "14001")
        .containsEntry("CAPGATE_CA_DIR", "/var/run/secrets/capgate/ca")
        .containsEntry("CAPGATE_VAULT_CA", "-----BEGIN VAULT CA-----");
    // The pod's own name and uid come from the downward API, not from the webhook.
    assertThat(written.toEnv())
        .filteredOn(e -> e.fieldPath() != null)
        .extracting(InjectedSettings.EnvEntry::name)
        .containsExactly("CAPGATE_POD_NAME", "CAPGATE_POD_UID");
  }

  @Test
  void absentSettingsAreLeftOutAndReadBackAsDefaults() {
    InjectedSettings minimal = InjectedSettings.forSession("ns", "s", null, null, null, null);
    Map<String, String> env = minimal.toEnvValues();
    assertThat(env)
        .doesNotContainKeys("CAPGATE_VAULT_ADDR", "CAPGATE_VAULT_CA", "CAPGATE_HOST_ALIASES");
    assertThat(InjectedSettings.read(env)).isEqualTo(minimal);

    Map<String, String> bare = new LinkedHashMap<>();
    bare.put("CAPGATE_SESSION_NAMESPACE", "ns");
    bare.put("CAPGATE_SESSION_NAME", "s");
    assertThat(InjectedSettings.read(bare)).isEqualTo(minimal);
  }

  @Test
  void malformedSettingsAreRefusedByName() {
    assertThatThrownBy(
            () ->
                InjectedSettings.read(
                    Map.of(
                        "CAPGATE_SESSION_NAMESPACE", "ns",
                        "CAPGATE_SESSION_NAME", "s",
                        "CAPGATE_DNS_PORT", "53x")))
        .hasMessageContaining("CAPGATE_DNS_PORT (--dns-port) must be a number, got '53x'");
    assertThatThrownBy(
            () ->
                InjectedSettings.read(
                    Map.of(
                        "CAPGATE_SESSION_NAMESPACE", "ns",
                        "CAPGATE_SESSION_NAME", "s",
                        "CAPGATE_ADMIN_EXPOSE_METRICS", "yes")))
        .hasMessageContaining(
            "CAPGATE_ADMIN_EXPOSE_METRICS (--admin-expose-metrics) must be true or false, got 'yes'");
    assertThatThrownBy(() -> InjectedSettings.read(Map.of("CAPGATE_SESSION_NAMESPACE", "ns")))
        .hasMessageContaining("CAPGATE_SESSION_NAME (--session-name) is required");
    assertThatThrownBy(() -> SidecarPorts.read(name -> java.util.Optional.of("0")))
        .hasMessageContaining("non-root uid");
  }

  @Test
  void flagsAndVariablesNameEachOther() {
    assertThat(SidecarContract.envOf("lease-configmap")).isEqualTo("CAPGATE_LEASE_CONFIGMAP");
    assertThat(SidecarContract.flagOf(SidecarContract.ENV_IDENTITY_TOKEN_FILE))
        .isEqualTo("identity-token-file");
    assertThatThrownBy(() -> SidecarContract.flagOf("HOME"))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void inboundPortsAreWrittenAndReadInOneFormat() {
    java.util.SortedSet<Integer> ports = new java.util.TreeSet<>(java.util.List.of(9090, 8080));
    assertThat(InboundPortList.format(ports)).isEqualTo("8080,9090");
    java.util.List<String> bad = new java.util.ArrayList<>();
    assertThat(InboundPortList.parse(InboundPortList.format(ports), bad)).isEqualTo(ports);
    assertThat(bad).isEmpty();
    assertThat(InboundPortList.parse("80, http,70000,,0", bad)).containsExactly(80);
    assertThat(bad).containsExactly("'http'", "'70000'", "''", "'0'");
  }

  @Test
  void ledgerKeysDeriveFromTheIdAlone() {
    String lease = "database/creds/app/AbC123";
    assertThat(LeaseLedger.leaseKey(lease))
        .matches("lease\\.[0-9a-f]{20}")
        .isEqualTo(LeaseLedger.leaseKey(lease))
        .isNotEqualTo(LeaseLedger.leaseKey(lease + "x"));
    assertThat(LeaseLedger.accessorKey("hmac-accessor.1")).matches("accessor\\.[0-9a-f]{20}");
    assertThat(LeaseLedger.isLeaseKey(LeaseLedger.leaseKey(lease))).isTrue();
    assertThat(LeaseLedger.isAccessorKey(LeaseLedger.leaseKey(lease))).isFalse();
    // A key is a valid ConfigMap key: no '/' from the lease id.
    assertThat(LeaseLedger.leaseKey(lease)).matches("[-._a-zA-Z0-9]+");
  }

  @Test
  void ledgerNamesFitAnObjectNameAndStayDistinct() {
    assertThat(LeaseLedger.configMapName("fix-42")).isEqualTo("capgate-leases-fix-42");
    String a = "a".repeat(250);
    String b = "a".repeat(249) + "b";
    assertThat(LeaseLedger.configMapName(a))
        .hasSizeLessThanOrEqualTo(SessionObjectNames.MAX_NAME)
        .startsWith("capgate-leases-aaa")
        .isNotEqualTo(LeaseLedger.configMapName(b));
  }

  @Test
  void anAwsKeyIdIsDerivedFromItsPlaceholderAndLooksLikeOne() {
    String one = PlaceholderFormat.generate("s3");
    String two = PlaceholderFormat.generate("s3");
    assertThat(PlaceholderFormat.awsAccessKeyId(one))
        .matches("AKIA[A-Z2-7]{16}")
        .isEqualTo(PlaceholderFormat.awsAccessKeyId(one))
        .isNotEqualTo(PlaceholderFormat.awsAccessKeyId(two));
  }

  @Test
  void placeholdersAreGeneratedAndParsedInOneFormat() {
    String value = PlaceholderFormat.generate("github");
    assertThat(value).matches("capgate-ph-github-[a-z2-7]{32}");
    assertThat(PlaceholderFormat.isWellFormed(value)).isTrue();
    assertThat(PlaceholderFormat.generate("github")).isNotEqualTo(value);

    Map<String, String> byCredential = new LinkedHashMap<>();
    byCredential.put("github", value);
    byCredential.put("openai", PlaceholderFormat.generate("openai"));
    String json = PlaceholderFormat.toJson(byCredential);
    assertThat(PlaceholderFormat.parseJson(json)).containsExactlyEntriesOf(byCredential);
    assertThat(PlaceholderFormat.parseJson("{}")).isEmpty();
  }

  /** A real token put in the file by mistake is refused without being repeated. */
  @Test
  void aValueNotOfThePlaceholderFormIsRefusedWithoutBeingRepeated() {
    assertThatThrownBy(() -> PlaceholderFormat.parseJson("{\"github\":\"ghp_RealTokenValue\"}"))
        .hasMessageContaining("github")
        .hasMessageNotContaining("ghp_RealTokenValue");
    assertThatThrownBy(() -> PlaceholderFormat.parseJson("{\"github\": "))
        .hasMessage("not valid JSON");
    assertThatThrownBy(() -> PlaceholderFormat.parseJson("[]")).hasMessage("not a JSON object");
    assertThatThrownBy(() -> PlaceholderFormat.parseJson("{\"x\": 1}"))
        .hasMessageContaining("not a string");
    assertThat(PlaceholderFormat.isWellFormed("capgate-ph-UPPER-abcdefgh")).isFalse();
    assertThat(PlaceholderFormat.isWellFormed("capgate-ph-x")).isFalse();
  }
}
