package dev.capgate.operator.injection;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;

/** A fixed plan and settings, so golden files do not change from run to run. */
final class InjectionFixtures {
  static final KubernetesSerialization SERIALIZATION = new KubernetesSerialization();

  /** Stands for the PEM of the operator's serving CA (public); its content does not matter here. */
  static final String OPERATOR_CA =
      "-----BEGIN CERTIFICATE-----\nTUlJQnRlc3Q=\n-----END CERTIFICATE-----\n";

  /** A fixed reference: golden files must not depend on the machine's CA bundle. */
  static final TrustRootsRef TRUST_ROOTS =
      new TrustRootsRef(
          "capgate-trust-roots-0123456789",
          "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef");

  static final SidecarSettings SETTINGS =
      new SidecarSettings(
              "capgate/sidecar:test",
              "IfNotPresent",
              "https://vault.vault.svc:8200",
              "capgate",
              3600,
              Map.of("cpu", "50m", "memory", "96Mi"),
              Map.of("cpu", "1", "memory", "256Mi"))
          .withOperator("https://10.96.0.20:443", OPERATOR_CA);

  static final InjectionPlan PLAN =
      new InjectionPlan(
          "agents",
          "fix-issue-42",
          "capgate-ca-test0test0",
          "sha256:0000000000000000000000000000000000000000000000000000000000000000",
          "capgate-leases-fix-issue-42",
          List.of());

  /** The same with two credential placeholders (fixed values: real ones are random per pod). */
  static final InjectionPlan PLAN_WITH_PLACEHOLDERS =
      new InjectionPlan(
          "agents",
          "fix-issue-42",
          "capgate-ca-test0test0",
          "sha256:0000000000000000000000000000000000000000000000000000000000000000",
          "capgate-leases-fix-issue-42",
          List.of(
              new CredentialPlaceholder(
                  "github", "GH_TOKEN", "capgate-ph-github-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"),
              new CredentialPlaceholder(
                  "openai",
                  "OPENAI_API_KEY",
                  "capgate-ph-openai-bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb")));

  /**
   * Golden files whose name contains "placeholders" are injected with {@link
   * #PLAN_WITH_PLACEHOLDERS}.
   */
  static InjectionPlan planFor(String goldenName) {
    return goldenName.contains("placeholders") ? PLAN_WITH_PLACEHOLDERS : PLAN;
  }

  private InjectionFixtures() {}

  static String resource(String path) {
    try (InputStream in = InjectionFixtures.class.getResourceAsStream(path)) {
      if (in == null) {
        throw new IllegalArgumentException("no test resource " + path);
      }
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static Pod pod(String yaml) {
    return SERIALIZATION.unmarshal(yaml, Pod.class);
  }

  static String yaml(Pod pod) {
    return SERIALIZATION.asYaml(pod);
  }
}
