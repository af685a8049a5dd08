package dev.capgate.sidecar.session;

import static dev.capgate.sidecar.stack.Sessions.rule;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.capgate.api.v1alpha1.AgentSession;
import dev.capgate.api.v1alpha1.AgentSessionSpec;
import dev.capgate.api.v1alpha1.Phase;
import dev.capgate.sidecar.policy.NormalizedRequest;
import dev.capgate.sidecar.policy.Policy;
import dev.capgate.sidecar.policy.PolicySource;
import dev.capgate.sidecar.stack.AgentSessionCrd;
import dev.capgate.sidecar.stack.CapturedLogs;
import dev.capgate.sidecar.stack.Closeables;
import dev.capgate.sidecar.stack.Sessions;
import dev.capgate.sidecar.stack.SidecarAccount;
import dev.capgate.testkit.KubeControlPlane;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The live session on a real kube-apiserver: the sidecar's client authenticates with a TokenRequest
 * token of a service account whose Role allows this one AgentSession and nothing else. No operator
 * runs here: the test writes status.phase as the operator would, so what is observed is the
 * sidecar's own doing (the local expiry timer in particular).
 */
class SessionWatchIT {
  private static final Duration WAIT = Duration.ofSeconds(30);
  private static KubeControlPlane kube;
  private static KubernetesClient admin;
  private static String namespace;
  private static CapturedLogs logs;

  @AutoClose private final Closeables toClose = new Closeables();

  @BeforeAll
  static void cluster() {
    kube = KubeControlPlane.shared();
    AgentSessionCrd.install(kube);
    admin = kube.client();
    namespace = kube.newNamespace("session");
    logs = CapturedLogs.start();
  }

  @AfterAll
  static void stopCapture() {
    logs.close();
  }

  /** A sidecar's session runtime for a new session, and when its policy was revoked. */
  private record Sidecar(
      String session,
      PolicySource policies,
      List<Long> revocationNanos,
      SessionRuntime runtime,
      List<String> endedBecause) {
    boolean allows(String path) {
      return policies.current().map(p -> p.onRequest(request(path)).allowed()).orElse(false);
    }

    boolean denying() {
      return policies.current().isEmpty();
    }
  }

  private Sidecar sidecar(String session, AgentSessionSpec spec, Phase phase, Duration grace) {
    Sessions.create(admin, namespace, session, spec);
    if (phase != null) {
      Sessions.setPhase(admin, namespace, session, phase);
    }
    SidecarAccount account = SidecarAccount.create(kube, namespace, session);
    toClose.add(account);
    PolicySource policies = new PolicySource();
    List<Long> revocations = new CopyOnWriteArrayList<>();
    policies.onRevocation(() -> revocations.add(System.nanoTime()));
    SessionRuntime runtime =
        SessionRuntime.start(
            SessionSettings.of(namespace, session).withApiOutageGrace(grace),
            policies,
            account.apiServer());
    toClose.add(runtime);
    // What the proxy registers there: GitHub App tokens revoked upstream when the session ends.
    List<String> ended = new CopyOnWriteArrayList<>();
    runtime.onSessionEnded(ended::add);
    return new Sidecar(session, policies, revocations, runtime, ended);
  }

  private static NormalizedRequest request(String path) {
    return new NormalizedRequest("GET", "api.example.com", 443, path, path, null, true);
  }

  private static AgentSessionSpec spec(String ttl, String... paths) {
    return Sessions.spec(ttl, List.of(), rule("api", "api.example.com", paths));
  }

  private static long millisSince(long nanos, long laterNanos) {
    return (laterNanos - nanos) / 1_000_000;
  }

  @Test
  void the_role_lets_the_sidecar_read_its_own_session_and_nothing_else() {
    Sidecar sidecar =
        sidecar("own-only", spec(null, "/a/**"), Phase.Active, Duration.ofSeconds(30));
    Sessions.create(admin, namespace, "someone-else", spec(null, "/**"));
    KubernetesClient client = ((SidecarAccount) toClose.getFirst()).client();

    await().atMost(WAIT).until(() -> sidecar.allows("/a/x"));

    assertThat(
            client.resources(AgentSession.class).inNamespace(namespace).withName("own-only").get())
        .isNotNull();
    assertThatThrownBy(
            () ->
                client
                    .resources(AgentSession.class)
                    .inNamespace(namespace)
                    .withName("someone-else")
                    .get())
        .isInstanceOfSatisfying(
            KubernetesClientException.class, e -> assertThat(e.getCode()).isEqualTo(403));
    assertThatThrownBy(() -> client.resources(AgentSession.class).inNamespace(namespace).list())
        .isInstanceOfSatisfying(
            KubernetesClientException.class, e -> assertThat(e.getCode()).isEqualTo(403));
  }

  @Test
  void a_spec_edit_applies_to_the_next_request() {
    Sidecar sidecar = sidecar("edited", spec(null, "/a/**"), Phase.Active, Duration.ofSeconds(30));
    await().atMost(WAIT).until(() -> sidecar.allows("/a/x"));
    assertThat(sidecar.allows("/b/x")).isFalse();
    Policy before = sidecar.policies().current().orElseThrow();

    long t0 = System.nanoTime();
    admin
        .resources(AgentSession.class)
        .inNamespace(namespace)
        .withName("edited")
        .edit(
            s -> {
              s.setSpec(spec(null, "/b/**"));
              return s;
            });
    await().atMost(WAIT).pollInterval(Duration.ofMillis(10)).until(() -> sidecar.allows("/b/x"));
    System.out.printf(
        "[measured] spec edit → new policy in force after %d ms%n",
        millisSince(t0, System.nanoTime()));

    assertThat(sidecar.allows("/a/x")).isFalse();
    assertThat(sidecar.policies().current().orElseThrow()).isNotSameAs(before);
    assertThat(sidecar.revocationNanos())
        .as("an edit swaps the policy, it does not cut connections")
        .isEmpty();
  }

  @Test
  void a_pending_session_denies_until_the_operator_marks_it_active() {
    Sidecar sidecar = sidecar("pending", spec(null, "/a/**"), null, Duration.ofSeconds(30));

    await().atMost(WAIT).until(() -> sidecar.policies().problem().contains("not yet reconciled"));
    assertThat(sidecar.denying()).isTrue();

    Sessions.setPhase(admin, namespace, "pending", Phase.Pending);
    await().atMost(WAIT).until(() -> sidecar.policies().problem().contains("is Pending"));

    Sessions.setPhase(admin, namespace, "pending", Phase.Active);
    await().atMost(WAIT).until(() -> sidecar.allows("/a/x"));
  }

  @Test
  void deleting_the_session_revokes_and_closes_connections() {
    Sidecar sidecar = sidecar("deleted", spec(null, "/a/**"), Phase.Active, Duration.ofSeconds(30));
    await().atMost(WAIT).until(() -> sidecar.allows("/a/x"));

    long t0 = System.nanoTime();
    admin.resources(AgentSession.class).inNamespace(namespace).withName("deleted").delete();
    await().atMost(WAIT).pollInterval(Duration.ofMillis(5)).until(sidecar::denying);
    long seen = System.nanoTime();

    await().atMost(WAIT).until(() -> !sidecar.revocationNanos().isEmpty());
    assertThat(sidecar.revocationNanos())
        .as("the data plane's listener (closes open connections) ran")
        .hasSize(1);
    System.out.printf(
        "[measured] delete → revoked (listener ran) after %d ms; observed by the test after %d ms%n",
        millisSince(t0, sidecar.revocationNanos().getFirst()), millisSince(t0, seen));
    assertThat(sidecar.policies().problem()).contains("deleted");
    await().atMost(WAIT).until(() -> !sidecar.endedBecause().isEmpty());
    assertThat(sidecar.endedBecause())
        .as("the session-end listeners ran once")
        .singleElement(org.assertj.core.api.InstanceOfAssertFactories.STRING)
        .contains("deleted");

    // Gone for good, even if a session of that name comes back: it is another session.
    Sessions.create(admin, namespace, "deleted", spec(null, "/a/**"));
    Sessions.setPhase(admin, namespace, "deleted", Phase.Active);
    await().during(Duration.ofSeconds(3)).atMost(WAIT).until(sidecar::denying);
  }

  @Test
  void phase_revoked_revokes_for_good() {
    Sidecar sidecar = sidecar("revoked", spec(null, "/a/**"), Phase.Active, Duration.ofSeconds(30));
    await().atMost(WAIT).until(() -> sidecar.allows("/a/x"));

    long t0 = System.nanoTime();
    Sessions.setPhase(admin, namespace, "revoked", Phase.Revoked);
    await().atMost(WAIT).pollInterval(Duration.ofMillis(5)).until(sidecar::denying);
    // Denying starts as the policy is swapped; the listeners (closing connections) run just after.
    await().atMost(WAIT).until(() -> !sidecar.revocationNanos().isEmpty());
    System.out.printf(
        "[measured] phase Revoked → revoked after %d ms%n",
        millisSince(t0, sidecar.revocationNanos().getFirst()));
    assertThat(sidecar.policies().problem()).contains("is Revoked");
    await().atMost(WAIT).until(() -> !sidecar.endedBecause().isEmpty());
    assertThat(sidecar.endedBecause()).hasSize(1);

    Sessions.setPhase(admin, namespace, "revoked", Phase.Active);
    await().during(Duration.ofSeconds(2)).atMost(WAIT).until(sidecar::denying);
  }

  @Test
  void a_short_ttl_is_enforced_by_the_sidecar_s_own_timer() {
    Sidecar sidecar =
        sidecar("short-lived", spec("3s", "/a/**"), Phase.Active, Duration.ofSeconds(30));
    AgentSession stored =
        admin.resources(AgentSession.class).inNamespace(namespace).withName("short-lived").get();
    Instant expiresAt = Instant.parse(stored.getMetadata().getCreationTimestamp()).plusSeconds(3);
    await().atMost(WAIT).until(() -> sidecar.allows("/a/x"));

    await().atMost(WAIT).pollInterval(Duration.ofMillis(5)).until(sidecar::denying);
    Instant revokedAt = Instant.now();
    System.out.printf(
        "[measured] ttl 3s: revoked %d ms after creation + ttl (creationTimestamp has 1 s resolution)%n",
        Duration.between(expiresAt, revokedAt).toMillis());

    assertThat(sidecar.policies().problem()).contains("expired");
    assertThat(
            admin
                .resources(AgentSession.class)
                .inNamespace(namespace)
                .withName("short-lived")
                .get()
                .getStatus()
                .phase())
        .as("no operator here: the phase still says Active, the sidecar expired it alone")
        .isEqualTo(Phase.Active);
  }

  @Test
  void
      an_unreachable_api_server_keeps_the_policy_for_the_grace_period_then_denies_until_it_is_back() {
    Sidecar sidecar = sidecar("outage", spec(null, "/a/**"), Phase.Active, Duration.ofSeconds(3));
    await().atMost(WAIT).until(() -> sidecar.allows("/a/x"));

    long t0 = System.nanoTime();
    kube.stopApiServer();
    try {
      long stopped = System.nanoTime();
      boolean heldAfterStop = sidecar.allows("/a/x");
      await().atMost(WAIT).pollInterval(Duration.ofMillis(20)).until(sidecar::denying);
      await().atMost(WAIT).until(() -> !sidecar.revocationNanos().isEmpty());
      long revoked = sidecar.revocationNanos().getFirst();
      System.out.printf(
          "[measured] API server stop began at 0 ms, finished at %d ms (policy still in force: %s);"
              + " policy revoked at %d ms (grace 3 s)%n",
          millisSince(t0, stopped), heldAfterStop, millisSince(t0, revoked));
      assertThat(sidecar.policies().problem())
          .contains("api server unreachable for")
          .contains("grace 3 s");
    } finally {
      long restart = System.nanoTime();
      kube.startApiServer();
      System.out.printf(
          "[measured] API server restarted in %d ms%n", millisSince(restart, System.nanoTime()));
    }

    long back = System.nanoTime();
    await().atMost(WAIT).pollInterval(Duration.ofMillis(20)).until(() -> sidecar.allows("/a/x"));
    System.out.printf(
        "[measured] API server ready → policy reinstated after %d ms%n",
        millisSince(back, System.nanoTime()));
  }
}
