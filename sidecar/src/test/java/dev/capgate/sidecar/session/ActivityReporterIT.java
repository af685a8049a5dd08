package dev.capgate.sidecar.session;

import static dev.capgate.sidecar.stack.Sessions.rule;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.capgate.api.sidecar.LeaseLedger;
import dev.capgate.api.v1alpha1.Phase;
import dev.capgate.sidecar.admin.Metrics;
import dev.capgate.sidecar.audit.AuditEvent;
import dev.capgate.sidecar.audit.AuditLog;
import dev.capgate.sidecar.audit.AuditRecorder;
import dev.capgate.sidecar.audit.Decision;
import dev.capgate.sidecar.audit.Flow;
import dev.capgate.sidecar.policy.PolicySource;
import dev.capgate.sidecar.stack.AgentSessionCrd;
import dev.capgate.sidecar.stack.Sessions;
import dev.capgate.sidecar.stack.SidecarAccount;
import dev.capgate.testkit.KubeControlPlane;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.Watch;
import io.fabric8.kubernetes.client.Watcher;
import io.fabric8.kubernetes.client.WatcherException;
import java.io.ByteArrayOutputStream;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The sidecar's activity writer on the real API server, with the sidecar's own RBAC: it writes
 * {@code activity.<pod>} into the session's ledger, only when the counts changed, at most once per
 * tick, and leaves the ledger's other keys alone.
 */
class ActivityReporterIT {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Duration TICK = Duration.ofMillis(500);
  private static KubeControlPlane kube;
  private static KubernetesClient admin;
  private static String namespace;
  private static SidecarAccount account;
  private static SessionRuntime runtime;

  @BeforeAll
  static void start() {
    kube = KubeControlPlane.shared();
    AgentSessionCrd.install(kube);
    admin = kube.client();
    namespace = kube.newNamespace("activity");
    Sessions.create(
        admin,
        namespace,
        "busy",
        Sessions.spec(null, List.of(), rule("api", "api.example.com", "/**")));
    Sessions.setPhase(admin, namespace, "busy", Phase.Active);
    account = SidecarAccount.create(kube, namespace, "busy");
  }

  @AfterAll
  static void stop() {
    if (runtime != null) {
      runtime.close();
    }
    if (account != null) {
      account.close();
    }
  }

  @Test
  void writesItsOwnKeyOnlyWhenSomethingChangedAtMostOncePerTick() throws Exception {
    String ledger = account.ledger();
    admin
        .configMaps()
        .inNamespace(namespace)
        .withName(ledger)
        .edit(
            cm -> {
              cm.setData(new java.util.HashMap<>(java.util.Map.of("lease.abc", "kv/lease/1")));
              return cm;
            });
    AtomicInteger writes = new AtomicInteger();
    Watch watch =
        admin
            .configMaps()
            .inNamespace(namespace)
            .withName(ledger)
            .watch(
                new Watcher<>() {
                  @Override
                  public void eventReceived(Action action, ConfigMap resource) {
                    if (action == Action.MODIFIED) {
                      writes.incrementAndGet();
                    }
                  }

                  @Override
                  public void onClose(WatcherException cause) {}
                });
    try {
      AuditRecorder recorder =
          new AuditRecorder(
              new AuditLog(new ByteArrayOutputStream(), Clock.systemUTC()), new Metrics());
      runtime =
          SessionRuntime.start(
              SessionSettings.of(namespace, "busy"), new PolicySource(), account.apiServer());
      runtime.reportActivity("agent-7f9c", recorder.activity()::snapshot, TICK);

      // Nothing happened yet: nothing is written, however many ticks pass.
      Thread.sleep(TICK.multipliedBy(4).toMillis());
      assertThat(writes.get()).as("no write without activity").isZero();

      // A burst of 1000 decisions between two ticks: one write (two if a tick fell inside it).
      for (int i = 0; i < 1000; i++) {
        recorder.record(
            AuditEvent.request(
                "r-" + i,
                null,
                "api.example.com",
                "GET",
                "/x",
                "api",
                i % 10 == 0 ? Decision.DENY : Decision.ALLOW,
                null,
                null,
                5,
                i % 10 == 0 ? "path-not-allowed" : null,
                Flow.NONE));
      }
      await()
          .atMost(Duration.ofSeconds(10))
          .until(() -> entry(ledger) != null && entry(ledger).path("requests").asLong() == 1000);
      Thread.sleep(TICK.multipliedBy(4).toMillis());
      System.out.printf("[measured] 1000 decisions -> %d ledger write(s)%n", writes.get());
      assertThat(writes.get()).isBetween(1, 2);

      JsonNode entry = entry(ledger);
      assertThat(entry.path("denials").asLong()).isEqualTo(100);
      assertThat(entry.path("lastDenial").path("host").asText()).isEqualTo("api.example.com");
      assertThat(entry.path("lastDenial").path("reason").asText()).isEqualTo("path-not-allowed");
      assertThat(entry.path("lastDenial").path("requestId").asText()).isEqualTo("r-990");
      assertThat(entry.path("lastActivity").asText()).isNotEmpty();
      assertThat(admin.configMaps().inNamespace(namespace).withName(ledger).get().getData())
          .as("the lease entries are left alone")
          .containsEntry("lease.abc", "kv/lease/1");

      // One more, then the sidecar stops: the last change is written on close.
      int before = writes.get();
      recorder.record(
          AuditEvent.request(
              "r-last",
              null,
              "api.example.com",
              "GET",
              "/y",
              "api",
              Decision.ALLOW,
              null,
              200,
              5,
              null,
              Flow.NONE));
      runtime.close();
      runtime = null;
      await()
          .atMost(Duration.ofSeconds(10))
          .until(() -> entry(ledger).path("requests").asLong() == 1001);
      assertThat(writes.get()).isEqualTo(before + 1);
    } finally {
      watch.close();
    }
  }

  private static JsonNode entry(String ledger) throws Exception {
    ConfigMap cm = admin.configMaps().inNamespace(namespace).withName(ledger).get();
    String value =
        cm.getData() == null ? null : cm.getData().get(LeaseLedger.activityKey("agent-7f9c"));
    return value == null ? null : JSON.readTree(value);
  }
}
