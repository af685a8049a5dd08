package dev.capgate.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import dev.capgate.testkit.ProcessResult;
import io.vertx.core.json.JsonObject;
import java.util.List;
import org.assertj.core.api.SoftAssertions;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * Vault itself enforces each session's scope (issue 11): two sessions of two users, alice and bob,
 * each with an injected agent pod. Bob's policy has no route to alice's repo (the sidecar's 403),
 * and — the real point — when bob's session names alice's secret literally ({@code vault.path:
 * secret/data/github/alice@example.com}, not templated), bob's sidecar's Vault token cannot read
 * it: Vault answers 403 (permission denied), shown from Vault's own audit log, while alice's
 * session reads it. The plain pod with the agents' service account is AdmissionBypassE2E (g).
 * Evidence: {@code [vault-scope]} lines and {@code target/e2e-logs/vault-scope.txt}.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class VaultScopeE2E {
  static final Evidence EVIDENCE = new Evidence("vault-scope.txt");
  static final String ALICE_PATH = "secret/data/github/alice@example.com";
  static AgentSandbox alice;
  static AgentSandbox bob;

  @BeforeAll
  static void start() {
    alice = AgentSandbox.start("scope-alice", Sessions.article("alice"));
    bob = AgentSandbox.start("scope-bob", Sessions.bobBorrowingAlicesPath("bob"));
  }

  @AfterAll
  static void stop() {
    for (AgentSandbox box : new AgentSandbox[] {bob, alice}) {
      if (box != null) {
        box.close();
      }
    }
  }

  private static ProcessResult curl(String who, AgentSandbox box, String url) {
    String script = "curl -s --max-time 20 -w '\\nHTTP %{http_code}\\n' '" + url + "'";
    ProcessResult r = box.sh(script);
    EVIDENCE.command(
        "vault-scope " + who,
        "kubectl -n " + box.namespace() + " exec agent -c agent -- sh -c \"" + script + "\"",
        r);
    return r;
  }

  /**
   * Issue 14: the stack's OpenBao serves https with a private CA, the chart's vault.caCert; the
   * webhook gave the sidecar exactly that CA, so the credential reads below go over verified TLS
   * (without it they would all be 503: VaultTlsIT).
   */
  @Test
  @Order(0)
  void vaultIsHttpsWithAPrivateCaAndTheSidecarCarriesIt() {
    Stack stack = Stack.get();
    assertThat(stack.vaultAddress()).startsWith("https://");
    assertThat(stack.vaultCaPem()).as("CAPGATE_E2E_VAULT_CA").contains("BEGIN CERTIFICATE");
    ProcessResult env =
        alice
            .kubectl()
            .run(
                "-n",
                alice.namespace(),
                "get",
                "pod",
                AgentSandbox.POD,
                "-o",
                "jsonpath={.spec.initContainers[?(@.name==\"capgate-proxy\")].env[?(@.name==\"CAPGATE_VAULT_CA\")].value}");
    EVIDENCE.command(
        "vault-scope tls",
        "kubectl -n " + alice.namespace() + " get pod agent -o jsonpath=...CAPGATE_VAULT_CA",
        env);
    assertThat(env.stdout().strip()).isEqualTo(stack.vaultCaPem().strip());
  }

  @Test
  @Order(1)
  void alicesSessionReadsAlicesRepo() {
    ProcessResult r = curl("alice", alice, "https://api.github.test/repos/acme/repo-a");
    assertThat(r.stdout()).as("alice's agent, alice's repo (control)").contains("HTTP 200");
  }

  @Test
  @Order(2)
  void bobsSidecarHasNoRouteToAlicesRepo() {
    ProcessResult r = curl("bob", bob, "https://api.github.test/repos/acme/repo-a");
    assertThat(r.stdout())
        .as("bob's agent asks for alice's repo through the API")
        .contains("HTTP 403")
        .contains("no egress rule for api.github.test allows GET /repos/acme/repo-a");
  }

  @Test
  @Order(3)
  void bobsSidecarsVaultTokenCannotReadAlicesSecret() {
    VaultAuditLog audit = VaultAuditLog.ofStack(Stack.get());
    long mark = audit.end();
    ProcessResult r =
        curl("bob", bob, "https://github.test/acme/repo-a.git/info/refs?service=git-upload-pack");
    // The audit device writes after the answer; give it the moment the sidecar's retries take.
    List<JsonObject> entries = List.of();
    for (int i = 0; i < 20 && entries.isEmpty(); i++) {
      AgentSandbox.sleep(500);
      entries = audit.responsesSince(mark, ALICE_PATH);
    }
    EVIDENCE.note(
        "vault-scope bob",
        "Vault's audit log, responses for "
            + ALICE_PATH
            + " during bob's request: "
            + (entries.isEmpty() ? "none" : ""));
    entries.forEach(e -> EVIDENCE.note("vault-scope bob", "  " + VaultAuditLog.describe(e)));
    List<String> sidecar =
        bob.sidecarLog().lines().filter(l -> l.contains("alices-github")).toList();
    EVIDENCE.note(
        "vault-scope bob",
        "bob's sidecar on the credential alices-github:\n" + String.join("\n", sidecar));
    SoftAssertions soft = new SoftAssertions();
    soft.assertThat(r.stdout())
        .as("bob's agent on the route whose credential names alice's secret")
        .doesNotContain("HTTP 200")
        .contains("credential unavailable: alices-github");
    soft.assertThat(entries)
        .as("Vault's answers to bob's sidecar for alice's path")
        .isNotEmpty()
        .allMatch(
            e -> e.getString("error", "").contains("permission denied"),
            "permission denied (403) from Vault itself");
    soft.assertThat(sidecar)
        .as("bob's sidecar reports Vault's refusal")
        .anyMatch(l -> l.contains("Vault denied access to " + ALICE_PATH + " (HTTP 403)"));
    soft.assertAll();
  }

  @Test
  @Order(4)
  void alicesSessionStillWorks() {
    ProcessResult r =
        curl(
            "alice",
            alice,
            "https://github.test/acme/repo-a.git/info/refs?service=git-upload-pack");
    assertThat(r.stdout())
        .as("alice's git fetch of her repo, with her secret")
        .contains("HTTP 200");
  }
}
