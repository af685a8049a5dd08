package dev.capgate.operator.session;

import static dev.capgate.api.v1alpha1.AgentSessionBuilder.dynamic;
import static dev.capgate.api.v1alpha1.AgentSessionBuilder.kv2;
import static dev.capgate.api.v1alpha1.AgentSessionBuilder.rule;
import static org.assertj.core.api.Assertions.assertThat;

import dev.capgate.api.v1alpha1.AgentSession;
import dev.capgate.api.v1alpha1.AgentSessionBuilder;
import dev.capgate.api.v1alpha1.VaultAuth;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/** Which ledger entries the operator revokes with its own Vault token, and which it refuses. */
class LedgerScopeTest {
  private static final List<String> PATHS =
      List.of("database/creds/app", "aws/creds/agents-fix-42");
  private static final LedgerScope SCOPE =
      new LedgerScope(PATHS, "agents", "fix-42", "capgate-agent", "capgate-jwt");

  @ParameterizedTest(name = "{0} is the session''s")
  @CsvSource({
    "database/creds/app/AbCdEf0123456789xyzQWErt, database/creds/app/AbCdEf0123456789xyzQWErt",
    "aws/creds/agents-fix-42/abc.ns1, aws/creds/agents-fix-42/abc.ns1",
    "database//creds/app/abc, database/creds/app/abc",
    "/database/creds/app/abc/, database/creds/app/abc",
    "'  database/creds/app/abc  ', database/creds/app/abc"
  })
  void aLeaseOfADynamicCredentialPathIsRevoked(String lease, String normalized) {
    LedgerScope.Verdict verdict = SCOPE.lease(lease);
    assertThat(verdict.allowed()).as(verdict.reason()).isTrue();
    assertThat(verdict.value()).isEqualTo(normalized);
  }

  @ParameterizedTest(name = "{0} is refused")
  @ValueSource(
      strings = {
        "database/creds/app-evil/abc", // a longer name with the same prefix
        "database/creds/appx/abc",
        "database/creds/app", // the path itself, no lease part
        "database/creds/app/", // nothing after the slash
        "database/creds/app/x/abc", // a deeper path: not what one read of the path creates
        "database/creds/app/../admin/abc", // dot segments climb out of the path
        "database/creds/app/../../../sys/abc",
        "database/creds/app/./abc",
        "database/creds/app/..",
        "database/creds/ap/abc",
        "Database/creds/app/abc", // Vault paths are case-sensitive
        "pki/issue/agent/abc", // another engine altogether
        "database/creds/app/ab c",
        "database/creds/app/a\nbc",
        "database/creds/app/abc%2f..",
        "database/creds/app\\abc",
        "aws/creds/agents-fix-42-other/abc",
        ""
      })
  void anythingElseIsRefused(String lease) {
    LedgerScope.Verdict verdict = SCOPE.lease(lease);
    assertThat(verdict.allowed()).isFalse();
    assertThat(verdict.reason()).isNotBlank();
  }

  @Test
  void aLeaseOfTheAbsurdlyLongKindIsRefused() {
    assertThat(SCOPE.lease("database/creds/app/" + "a".repeat(600)).allowed()).isFalse();
  }

  @Test
  void withoutDynamicCredentialsNoLeaseIsTheSessions() {
    LedgerScope none =
        new LedgerScope(List.of(), "agents", "fix-42", "capgate-agent", "capgate-jwt");
    assertThat(none.lease("database/creds/app/abc").reason()).contains("no dynamic credential");
  }

  @Test
  void templatedPathsAreComparedResolved() {
    AgentSession session =
        AgentSessionBuilder.session("fix-42")
            .namespace("agents")
            .user("alice@example.com")
            .agent("coding-agent")
            .vault(new VaultAuth("capgate-agent", "k8s/prod"))
            .credential(
                dynamic("db", "database/creds/{{agent}}-{{namespace}}", "password").bearer(),
                kv2("kv", "secret/data/{{user}}", "token").bearer())
            .egress(rule("api").hosts("api.example.com"))
            .build();
    LedgerScope scope = LedgerScope.of(session);

    assertThat(scope.dynamicPaths()).containsExactly("database/creds/coding-agent-agents");
    assertThat(scope.lease("database/creds/coding-agent-agents/abc").allowed()).isTrue();
    assertThat(scope.lease("database/creds/{{agent}}-{{namespace}}/abc").allowed()).isFalse();
    assertThat(scope.lease("secret/data/alice@example.com/abc").allowed())
        .as("kv2 paths hold no lease")
        .isFalse();
    assertThat(
            scope
                .token(
                    "acc",
                    new VaultRevoker.TokenOrigin(
                        "auth/k8s/prod/login",
                        Map.of(
                            "role", "capgate-agent", "namespace", "agents", "session", "fix-42")))
                .allowed())
        .isTrue();
  }

  @Test
  void leaseUnderIsThePureMatch() {
    assertThat(LedgerScope.leaseUnder("database/creds/app/abc", List.of("database/creds/app/")))
        .contains("database/creds/app/abc");
    assertThat(LedgerScope.leaseUnder("database/creds/app/abc", List.of("database//creds/app")))
        .contains("database/creds/app/abc");
    assertThat(LedgerScope.leaseUnder("database/creds/app-evil/abc", List.of("database/creds/app")))
        .isEmpty();
    assertThat(LedgerScope.leaseUnder("database/creds/app/abc", List.of("/", ""))).isEmpty();
    assertThat(LedgerScope.leaseUnder("database/creds/app/abc", List.of())).isEmpty();
  }

  @Test
  void aTokenOfTheSessionsSidecarsIsRevoked() {
    LedgerScope.Verdict verdict = SCOPE.token("acc1", sidecarLogin("agents", "capgate-agent"));
    assertThat(verdict.allowed()).isTrue();
    assertThat(verdict.value()).isEqualTo("acc1");
  }

  @Test
  void aTokenOfAnotherNamespaceIsRefusedWithoutSayingWhichOne() {
    LedgerScope.Verdict verdict = SCOPE.token("acc1", sidecarLogin("payments", "capgate-agent"));
    assertThat(verdict.allowed()).isFalse();
    assertThat(verdict.reason()).contains("another namespace").doesNotContain("payments");
  }

  @Test
  void aTokenOfAnotherSessionOfTheNamespaceIsRefused() {
    LedgerScope.Verdict verdict =
        SCOPE.token(
            "acc1",
            new VaultRevoker.TokenOrigin(
                "auth/capgate-jwt/login",
                Map.of("role", "capgate-agent", "namespace", "agents", "session", "fix-43")));
    assertThat(verdict.allowed()).isFalse();
    assertThat(verdict.reason()).isEqualTo("another session").doesNotContain("fix-43");
  }

  @Test
  void aKubernetesAuthLoginIsNoSessionsToken() {
    // What the old model's tokens carried: a service account, no session.
    var kubernetes =
        new VaultRevoker.TokenOrigin(
            "auth/capgate-jwt/login",
            Map.of(
                "role",
                "capgate-agent",
                "service_account_namespace",
                "agents",
                "service_account_name",
                "coding-agent"));
    assertThat(SCOPE.token("acc1", kubernetes).allowed()).isFalse();
  }

  @Test
  void aTokenOfAnotherRoleIsRefused() {
    LedgerScope.Verdict verdict = SCOPE.token("acc1", sidecarLogin("agents", "admin"));
    assertThat(verdict.allowed()).isFalse();
    assertThat(verdict.reason()).isEqualTo("another Vault role");
  }

  @Test
  void aTokenWithForgedMetadataFromTokenCreateIsRefused() {
    // auth/token/create takes any "meta": only the path tells a JWT login apart.
    var forged =
        new VaultRevoker.TokenOrigin(
            "auth/token/create",
            Map.of("role", "capgate-agent", "namespace", "agents", "session", "fix-42"));
    assertThat(SCOPE.token("acc1", forged).reason())
        .contains("not issued by auth/capgate-jwt/login");
  }

  @Test
  void aTokenOfAnotherAuthMountIsRefused() {
    var other =
        new VaultRevoker.TokenOrigin(
            "auth/capgate-jwt-other/login",
            Map.of("role", "capgate-agent", "namespace", "agents", "session", "fix-42"));
    assertThat(SCOPE.token("acc1", other).allowed()).isFalse();
    assertThat(SCOPE.token("acc1", new VaultRevoker.TokenOrigin("", Map.of())).allowed()).isFalse();
  }

  @Test
  void withoutSpecVaultNoTokenIsTheSessions() {
    LedgerScope none = new LedgerScope(PATHS, "agents", "fix-42", null, null);
    assertThat(none.token("acc1", sidecarLogin("agents", "capgate-agent")).allowed()).isFalse();
  }

  @ParameterizedTest(name = "accessor ''{0}'' is malformed")
  @ValueSource(strings = {"a b", "acc/1", "acc\n1", "{\"x\":1}", "ac\u00e7"})
  void malformedAccessorsAreRefusedWithoutAskingVault(String accessor) {
    assertThat(SCOPE.malformedAccessor(accessor)).isPresent();
  }

  @Test
  void wellFormedAccessorsAreAskedAbout() {
    assertThat(SCOPE.malformedAccessor("Xb3kZ0PqLm9RtYv2WcNs8AeD")).isEmpty();
    assertThat(SCOPE.malformedAccessor("Xb3kZ0PqLm9RtYv2WcNs8AeD.ns1")).isEmpty();
    assertThat(SCOPE.malformedAccessor("a".repeat(600))).isPresent();
  }

  @Test
  void printableKeepsRefusedValuesOnOneBoundedLine() {
    assertThat(SessionRevocation.printable("a\nb\u0000c")).isEqualTo("a?b?c");
    assertThat(SessionRevocation.printable("x".repeat(300))).hasSize(203).endsWith("...");
  }

  @Test
  void collapseSlashes() {
    assertThat(LedgerScope.collapseSlashes("//a///b/")).isEqualTo("a/b");
    assertThat(LedgerScope.collapseSlashes("/")).isEmpty();
    assertThat(LedgerScope.normalizeLeaseId("a/./b")).isEqualTo(Optional.empty());
  }

  /**
   * What a JWT login with the documented claim_mappings carries: the role and the mapped claims.
   */
  private static VaultRevoker.TokenOrigin sidecarLogin(String namespace, String role) {
    return new VaultRevoker.TokenOrigin(
        "auth/capgate-jwt/login",
        Map.of(
            "role",
            role,
            "namespace",
            namespace,
            "session",
            "fix-42",
            "agent",
            "coding-agent",
            "pod",
            "agent-0"));
  }
}
