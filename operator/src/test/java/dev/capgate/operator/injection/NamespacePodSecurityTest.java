package dev.capgate.operator.injection;

import static org.assertj.core.api.Assertions.assertThat;

import dev.capgate.operator.injection.NamespacePodSecurity.Verdict;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Which Pod Security labels of an agent namespace refuse, warn about or admit an injected pod. */
class NamespacePodSecurityTest {
  private static final String ENFORCE = "pod-security.kubernetes.io/enforce";
  private static final String WARN = "pod-security.kubernetes.io/warn";
  private static final String AUDIT = "pod-security.kubernetes.io/audit";

  @Test
  void noLabelIsThePrivilegedDefaultAndAdmitsSilently() {
    assertThat(NamespacePodSecurity.judge("agents", Map.of()))
        .isEqualTo(new Verdict.Fits(java.util.List.of()));
  }

  @Test
  void privilegedEverywhereAdmitsSilently() {
    assertThat(
            NamespacePodSecurity.judge(
                "agents",
                Map.of(
                    ENFORCE,
                    "privileged",
                    WARN,
                    "privileged",
                    AUDIT,
                    "privileged",
                    "pod-security.kubernetes.io/enforce-version",
                    "latest")))
        .isEqualTo(new Verdict.Fits(java.util.List.of()));
  }

  @Test
  void baselineOrRestrictedEnforcedRefusesWithTheLevelTheReasonAndTheFix() {
    for (String level : new String[] {"baseline", "restricted"}) {
      Verdict verdict =
          NamespacePodSecurity.judge("agents", Map.of(ENFORCE, level, WARN, "privileged"));
      assertThat(verdict).isInstanceOf(Verdict.Rejects.class);
      assertThat(((Verdict.Rejects) verdict).reason())
          .contains("namespace agents enforces Pod Security level \"" + level + "\"")
          .contains("label " + ENFORCE + "=" + level)
          .contains("capgate-init", "NET_ADMIN", "NET_RAW")
          .contains(
              "kubectl label namespace agents "
                  + "pod-security.kubernetes.io/enforce=privileged --overwrite")
          .contains("exemptions");
    }
  }

  @Test
  void enforcedRefusalWinsOverWarnings() {
    assertThat(
            NamespacePodSecurity.judge(
                "agents", Map.of(ENFORCE, "restricted", WARN, "restricted", AUDIT, "restricted")))
        .isInstanceOf(Verdict.Rejects.class);
  }

  @Test
  void warnOrAuditOnlyAdmitsWithOneWarningEach() {
    Verdict verdict =
        NamespacePodSecurity.judge(
            "agents", Map.of(ENFORCE, "privileged", WARN, "restricted", AUDIT, "baseline"));
    assertThat(verdict).isInstanceOf(Verdict.Fits.class);
    assertThat(((Verdict.Fits) verdict).warnings())
        .containsExactly(
            "capgate: namespace agents sets "
                + WARN
                + "=restricted; capgate-init needs NET_ADMIN, NET_RAW and root: set "
                + WARN
                + "=privileged",
            "capgate: namespace agents sets "
                + AUDIT
                + "=baseline; capgate-init needs NET_ADMIN, NET_RAW and root: set "
                + AUDIT
                + "=privileged");
  }

  @Test
  void aWarningStaysUnderTheApiServersTruncationLimitForTheLongestNamespaceName() {
    String longest = "n".repeat(63);
    Verdict verdict = NamespacePodSecurity.judge(longest, Map.of(AUDIT, "restricted"));
    assertThat(((Verdict.Fits) verdict).warnings())
        .singleElement()
        .satisfies(w -> assertThat(w.length()).isLessThanOrEqualTo(256));
  }

  @Test
  void unknownLevelsAreLeftToPodSecurityAdmission() {
    // The API server refuses a namespace with an invalid level label; none is guessed at here.
    assertThat(NamespacePodSecurity.judge("agents", Map.of(ENFORCE, "Restricted ")))
        .isEqualTo(new Verdict.Fits(java.util.List.of()));
  }
}
