package dev.capgate.sidecar.http;

import static org.assertj.core.api.Assertions.assertThat;

import dev.capgate.api.v1alpha1.AgentSessionSpec;
import dev.capgate.api.v1alpha1.Credential;
import dev.capgate.api.v1alpha1.EgressRule;
import dev.capgate.api.v1alpha1.Injection;
import dev.capgate.api.v1alpha1.InjectionType;
import dev.capgate.api.v1alpha1.VaultAuth;
import dev.capgate.api.v1alpha1.VaultSecret;
import dev.capgate.sidecar.audit.Decision;
import dev.capgate.sidecar.credentials.CredentialResolver;
import dev.capgate.sidecar.credentials.CredentialUnavailableException;
import dev.capgate.sidecar.credentials.InjectedHeader;
import dev.capgate.sidecar.credentials.Placeholders;
import dev.capgate.sidecar.credentials.SecretValue;
import dev.capgate.sidecar.policy.ConnectionKind;
import dev.capgate.sidecar.policy.Policy;
import dev.capgate.sidecar.policy.PolicySource;
import dev.capgate.sidecar.policy.RawRequest;
import dev.capgate.sidecar.policy.SessionIdentity;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import org.junit.jupiter.api.Test;

/**
 * The admission step as a pure function of the request head, the policy in force and what the
 * resolver answers: no Netty channel, no socket, no Vault.
 */
class AdmissionTest {
  private static final String HOST = "api.github.test";
  private static final String PLACEHOLDER = "capgate-ph-github-abcdefghijklmnopqrstuvwxyz234567";
  private static final SessionIdentity SESSION =
      new SessionIdentity(
          "agents", "fix-issue-42", "alice@example.com", "coding-agent", "payments");
  private static final AgentConnection CONNECTION =
      new AgentConnection(
          "c1",
          new InetSocketAddress("10.0.0.5", 40000),
          new InetSocketAddress("192.0.2.10", 443),
          ConnectionKind.TLS,
          HOST,
          "github-api",
          System.nanoTime());

  /** Resolves every credential to {@code ghp_<name>}, for an hour. */
  private static final CredentialResolver VAULT =
      (credential, session) ->
          CompletableFuture.completedFuture(
              new SecretValue(
                  credential.name(),
                  "ghp_" + credential.name(),
                  Instant.now().plus(Duration.ofHours(1))));

  private static final CredentialResolver VAULT_DOWN =
      (credential, session) ->
          CompletableFuture.failedFuture(
              new CredentialUnavailableException(credential.name(), "Vault unreachable"));

  private static PolicySource policy() {
    Credential github =
        new Credential(
            "github",
            new VaultSecret("secret/data/github/{{user}}", "token", null),
            new Injection(InjectionType.BEARER, null, null, null),
            null);
    EgressRule repos =
        new EgressRule(
            "github-api",
            List.of(HOST),
            null,
            null,
            null,
            List.of("/repos/**"),
            "github",
            null,
            null);
    PolicySource source = new PolicySource();
    source.install(
        Policy.compile(
            SESSION,
            new AgentSessionSpec(
                "alice@example.com",
                "coding-agent",
                null,
                null,
                null,
                new VaultAuth("capgate-agent", null),
                List.of(github),
                List.of(repos))));
    return source;
  }

  private static Admission.Head head(String method, String target, Map<String, String> headers) {
    return new Admission.Head(
        "c1-1",
        CONNECTION,
        method,
        target,
        new RawRequest(method, target, null, List.of(HOST), List.of(), List.of(), false),
        headers.entrySet(),
        false,
        null,
        false);
  }

  /** The whole step, as the relay runs it (minus the body it feeds in between). */
  private static Admission.Outcome admit(Admission admission, Admission.Head head) {
    Admission.Outcome decided = admission.decide(head);
    if (!(decided instanceof Admission.Allowed allowed)) {
      return decided;
    }
    return admission
        .resolve(allowed)
        .handle((values, failure) -> admission.inject(head, allowed, values, failure))
        .toCompletableFuture()
        .join();
  }

  private static Admission admission(PolicySource policies, CredentialResolver resolver) {
    return new Admission(policies, resolver, Placeholders.none(), new KnownSecrets());
  }

  @Test
  void an_allowed_request_is_forwarded_normalized_with_its_credential_injected() {
    KnownSecrets known = new KnownSecrets();
    Admission admission = new Admission(policy(), VAULT, Placeholders.none(), known);

    Admission.Outcome outcome =
        admit(admission, head("GET", "/repos/acme/./a/../b?x=1", Map.of("Accept", "*/*")));

    assertThat(outcome).isInstanceOf(Admission.Forward.class);
    Admission.Forward plan = (Admission.Forward) outcome;
    assertThat(plan.allowed().rule()).isEqualTo("github-api");
    assertThat(plan.allowed().session()).isEqualTo(SESSION);
    assertThat(plan.allowed().request().target()).isEqualTo("/repos/acme/b?x=1");
    assertThat(plan.allowed().credentialNames()).containsExactly("github");
    assertThat(plan.inject())
        .containsExactly(new InjectedHeader("Authorization", "Bearer ghp_github"));
    assertThat(plan.valuesExpireAt()).isNotNull();
    // From now on every response is scrubbed of the value, whatever route it comes from.
    assertThat(known.newScrubber()).isNotNull();
  }

  @Test
  void a_request_policy_does_not_allow_is_answered_403_without_reading_a_credential() {
    CredentialResolver never =
        (credential, session) -> {
          throw new AssertionError("a denied request must not resolve " + credential.name());
        };

    Admission.Outcome outcome =
        admit(admission(policy(), never), head("DELETE", "/user", Map.of()));

    Admission.LocalAnswer answer = (Admission.LocalAnswer) outcome;
    assertThat(answer.status()).isEqualTo(403);
    assertThat(answer.decision()).isEqualTo(Decision.DENY);
    assertThat(answer.leak()).isNull();
    assertThat(answer.closeConnection()).isFalse();
    assertThat(answer.body()).contains("\"path\":\"/user\"", "\"requestId\":\"c1-1\"");
    assertThat(answer.reason()).isNotBlank();
  }

  @Test
  void a_request_over_the_session_budget_is_403_without_reading_a_credential() {
    CredentialResolver never =
        (credential, session) -> {
          throw new AssertionError("a refused request must not resolve " + credential.name());
        };
    PolicySource limited = new PolicySource();
    limited.install(
        Policy.compile(
            SESSION,
            dev.capgate.api.v1alpha1.AgentSessionBuilder.specOnly()
                .user("alice@example.com")
                .agent("coding-agent")
                .egress(dev.capgate.api.v1alpha1.AgentSessionBuilder.rule("free").hosts(HOST))
                .limits(new dev.capgate.api.v1alpha1.Limits(null, null, null, 1L, null))
                .spec()));
    Admission admission = admission(limited, never);

    Admission.Outcome first = admit(admission, head("GET", "/one", Map.of()));
    assertThat(first).isInstanceOf(Admission.Forward.class);
    Admission.Outcome second = admit(admission, head("GET", "/two", Map.of()));

    Admission.LocalAnswer answer = (Admission.LocalAnswer) second;
    assertThat(answer.status()).isEqualTo(403);
    assertThat(answer.decision()).isEqualTo(Decision.DENY);
    assertThat(answer.rule()).isEqualTo("free");
    assertThat(answer.limited().kind())
        .isEqualTo(dev.capgate.sidecar.limits.LimitKind.REQUEST_BUDGET);
    assertThat(answer.limited().retryAfterSeconds()).isZero();
    assertThat(answer.reason())
        .isEqualTo("budget-exhausted: the session has used its budget of 1 requests in this pod");
    assertThat(answer.body())
        .contains(
            "\"type\":\"tag:capgate.dev,2026:problem:budget-exhausted\"",
            "\"error\":\"budget-exhausted\"",
            "\"rule\":\"free\"");
  }

  @Test
  void without_a_policy_in_force_everything_is_denied() {
    Admission.Outcome outcome =
        admit(admission(new PolicySource(), VAULT), head("GET", "/repos/acme/a", Map.of()));

    Admission.LocalAnswer answer = (Admission.LocalAnswer) outcome;
    assertThat(answer.status()).isEqualTo(403);
    assertThat(answer.reason()).startsWith("no valid policy: ");
    assertThat(answer.session()).isNull();
  }

  @Test
  void a_placeholder_outside_the_headers_of_its_route_is_refused_as_exfiltration() {
    Admission admission =
        new Admission(
            policy(), VAULT, Placeholders.of(Map.of("github", PLACEHOLDER)), new KnownSecrets());

    Admission.Outcome outcome =
        admit(admission, head("GET", "/repos/acme/a?leak=" + PLACEHOLDER, Map.of()));

    Admission.LocalAnswer answer = (Admission.LocalAnswer) outcome;
    assertThat(answer.status()).isEqualTo(403);
    assertThat(answer.decision()).isEqualTo(Decision.DENY);
    assertThat(answer.leak().credential()).isEqualTo("github");
    assertThat(answer.credentialNames()).containsExactly("github");
    assertThat(answer.reason()).startsWith("placeholder-exfiltration: likely exfiltration attempt");
    assertThat(answer.body()).contains("placeholder-exfiltration").doesNotContain(PLACEHOLDER);
  }

  @Test
  void the_placeholder_in_a_header_of_its_route_is_swapped_for_the_value() {
    Admission admission =
        new Admission(
            policy(), VAULT, Placeholders.of(Map.of("github", PLACEHOLDER)), new KnownSecrets());

    Admission.Outcome outcome =
        admit(
            admission,
            head("GET", "/repos/acme/a", Map.of("X-GitHub-Token", "token " + PLACEHOLDER)));

    Admission.Forward plan = (Admission.Forward) outcome;
    assertThat(plan.placeholderValues()).containsExactly(Map.entry("github", "ghp_github"));
  }

  @Test
  void an_unavailable_credential_is_a_503_naming_it_and_never_a_value() {
    Admission.Outcome outcome =
        admit(admission(policy(), VAULT_DOWN), head("GET", "/repos/acme/a", Map.of()));

    Admission.LocalAnswer answer = (Admission.LocalAnswer) outcome;
    assertThat(answer.status()).isEqualTo(503);
    assertThat(answer.decision()).isEqualTo(Decision.ERROR);
    assertThat(answer.reason()).contains("github", "Vault unreachable");
    assertThat(answer.body()).contains("credential unavailable: github");
    assertThat(answer.credentialNames()).containsExactly("github");
  }

  @Test
  void a_resolver_failure_wrapped_by_the_future_still_names_the_credential() {
    Admission admission = admission(policy(), VAULT);
    Admission.Head head = head("GET", "/repos/acme/a", Map.of());
    Admission.Allowed allowed = (Admission.Allowed) admission.decide(head);

    Admission.Outcome outcome =
        admission.inject(
            head,
            allowed,
            null,
            new CompletionException(new CredentialUnavailableException("github", "lease expired")));

    assertThat(((Admission.LocalAnswer) outcome).reason()).contains("github", "lease expired");
  }

  @Test
  void an_ambiguous_request_is_a_400_that_ends_the_connection() {
    Admission.Head twoHosts =
        new Admission.Head(
            "c1-1",
            CONNECTION,
            "GET",
            "/repos/acme/a",
            new RawRequest(
                "GET",
                "/repos/acme/a",
                null,
                List.of(HOST, "evil.test"),
                List.of(),
                List.of(),
                false),
            List.of(),
            false,
            null,
            false);

    Admission.LocalAnswer answer =
        (Admission.LocalAnswer) admit(admission(policy(), VAULT), twoHosts);

    assertThat(answer.status()).isEqualTo(400);
    assertThat(answer.decision()).isEqualTo(Decision.DENY);
    assertThat(answer.closeConnection()).isTrue();
    assertThat(answer.request()).isNull();
  }

  @Test
  void a_head_the_decoder_could_not_parse_is_a_400() {
    Admission.Head garbled =
        new Admission.Head("c1-1", CONNECTION, "GET", "/bad?x", null, List.of(), true, null, false);

    Admission.LocalAnswer answer =
        (Admission.LocalAnswer) admit(admission(policy(), VAULT), garbled);

    assertThat(answer.status()).isEqualTo(400);
    assertThat(answer.reason()).isEqualTo("malformed-request");
    assertThat(answer.body()).contains("\"host\":\"" + HOST + "\"", "\"path\":\"/bad\"");
  }

  @Test
  void a_method_override_header_is_refused_because_policy_judged_another_method() {
    Admission.LocalAnswer answer =
        (Admission.LocalAnswer)
            admit(
                admission(policy(), VAULT),
                head("GET", "/repos/acme/a", Map.of("X-HTTP-Method-Override", "DELETE")));

    assertThat(answer.status()).isEqualTo(403);
    assertThat(answer.reason()).startsWith("override-header: ");
    assertThat(answer.rule()).isEqualTo("github-api");
  }
}
