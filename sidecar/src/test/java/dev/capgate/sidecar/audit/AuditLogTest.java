package dev.capgate.sidecar.audit;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.capgate.api.v1alpha1.Injection;
import dev.capgate.api.v1alpha1.InjectionType;
import dev.capgate.sidecar.credentials.CredentialInjector;
import dev.capgate.sidecar.credentials.InjectedHeader;
import dev.capgate.sidecar.credentials.SecretValue;
import dev.capgate.sidecar.policy.SessionIdentity;
import java.io.ByteArrayOutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.junit.jupiter.api.Test;

class AuditLogTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Clock CLOCK =
      Clock.fixed(Instant.parse("2025-06-01T12:00:00.123456Z"), ZoneOffset.UTC);
  private static final SessionIdentity SESSION =
      new SessionIdentity("agents", "fix-issue-42", "alice@example.com", "coding-agent", null);

  private static AuditEvent event(String requestId, String path, String reason) {
    return AuditEvent.request(
        requestId,
        SESSION,
        "api.github.com",
        "GET",
        path,
        "github-api",
        Decision.ALLOW,
        "github",
        200,
        1234L,
        reason,
        Flow.NONE);
  }

  /** An HTTP/1.1 request whose agent sent {@code traceparent}; the rest is beside the point. */
  private static AuditEvent tracedBy(String traceparent) {
    return AuditEvent.request(
        "r-1",
        SESSION,
        "api.github.com",
        "GET",
        "/",
        "github-api",
        Decision.ALLOW,
        null,
        200,
        1L,
        null,
        new Flow("http/1.1", null, 0, 0, traceparent));
  }

  private static List<String> lines(ByteArrayOutputStream out) {
    return out.toString(StandardCharsets.UTF_8).lines().toList();
  }

  @Test
  void writes_one_json_line_per_event_with_a_timestamp() throws Exception {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (AuditLog log = new AuditLog(out, CLOCK)) {
      log.record(event("r-1", "/repos/acme/repo-a", "allowed by rule 'github-api'"));
      log.record(
          AuditEvent.request(
              "r-2",
              SESSION,
              "evil.com",
              "POST",
              "/x",
              null,
              Decision.DENY,
              null,
              null,
              12L,
              "no egress rule allows evil.com:443",
              Flow.NONE));
    }

    List<String> lines = lines(out);
    assertThat(lines).hasSize(2);
    JsonNode first = JSON.readTree(lines.get(0));
    assertThat(first.get("ts").asText()).isEqualTo("2025-06-01T12:00:00.123456Z");
    assertThat(first.get("requestId").asText()).isEqualTo("r-1");
    assertThat(first.get("credential").asText()).isEqualTo("github");
    assertThat(first.get("upstreamStatus").asInt()).isEqualTo(200);
    assertThat(first.get("latencyMicros").asLong()).isEqualTo(1234L);
    JsonNode second = JSON.readTree(lines.get(1));
    assertThat(second.get("decision").asText()).isEqualTo("deny");
    assertThat(second.has("rule")).isFalse();
    assertThat(second.has("upstreamStatus")).isFalse();
  }

  /**
   * The line users and tests grep, byte for byte: the fields of before the decision became a type,
   * in the same order, then issue 14's ({@code type}, {@code durationMs} here), {@code kind} last.
   */
  @Test
  void a_request_line_keeps_its_fields_and_their_order() {
    assertThat(AuditLog.line(event("r-1", "/repos/acme/repo-a", "allowed"), CLOCK.instant()))
        .isEqualTo(
            "{\"ts\":\"2025-06-01T12:00:00.123456Z\",\"requestId\":\"r-1\","
                + "\"session\":\"fix-issue-42\",\"namespace\":\"agents\","
                + "\"user\":\"alice@example.com\",\"agent\":\"coding-agent\","
                + "\"decision\":\"allow\",\"host\":\"api.github.com\",\"method\":\"GET\","
                + "\"path\":\"/repos/acme/repo-a\",\"rule\":\"github-api\","
                + "\"credential\":\"github\",\"upstreamStatus\":200,\"latencyMicros\":1234,"
                + "\"reason\":\"allowed\",\"type\":\"http.request\",\"durationMs\":1,"
                + "\"kind\":\"request\"}");
  }

  @Test
  void a_request_line_carries_pod_protocol_destination_bytes_duration_and_trace_context() {
    String traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    AuditEvent event =
        AuditEvent.request(
            "r-1",
            SESSION,
            "api.github.com",
            "POST",
            "/repos/acme/repo-a/issues",
            "github-api",
            Decision.ALLOW,
            "github",
            201,
            2_345_678L,
            "allowed",
            new Flow("h2", new InetSocketAddress("140.82.112.6", 443), 120, 4_096, traceparent));

    assertThat(AuditLog.line(event, CLOCK.instant(), new PodRef("agent-1", "agents", "u-1")))
        .endsWith(
            "\"type\":\"http.request\","
                + "\"pod\":{\"name\":\"agent-1\",\"namespace\":\"agents\",\"uid\":\"u-1\"},"
                + "\"protocol\":\"h2\",\"destination\":{\"ip\":\"140.82.112.6\",\"port\":443},"
                + "\"bytesOut\":120,\"bytesIn\":4096,\"durationMs\":2345,"
                + "\"traceparent\":\""
                + traceparent
                + "\",\"kind\":\"request\"}");
  }

  @Test
  void a_line_of_every_kind_matches_the_published_schema_and_a_broken_one_does_not() {
    PodRef pod = new PodRef("agent-1", "agents", "u-1");
    InetSocketAddress dst = new InetSocketAddress("10.1.2.4", 443);
    List<AuditEvent> events =
        List.of(
            AuditEvent.request(
                "abc-1",
                SESSION,
                "api.github.com",
                "GET",
                "/",
                "github-api",
                Decision.ALLOW,
                "github",
                200,
                1_500L,
                "allowed",
                new Flow(
                    "h2", dst, 0, 12, "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")),
            AuditEvent.connection(
                "abc-2",
                SESSION,
                "pypi.org",
                null,
                null,
                "packages",
                Decision.ALLOW,
                40L,
                "passthrough",
                Flow.of("tls", dst)),
            AuditEvent.connection(
                "abc-5",
                SESSION,
                "api.other.com",
                null,
                null,
                null,
                Decision.WOULD_DENY,
                40L,
                "no egress rule allows api.other.com:443",
                Flow.of("tls", dst)),
            AuditEvent.dns("abc-3", null, "evil.test", "A", DnsOutcome.NXDOMAIN, "no rule"),
            AuditEvent.tlsFailure(
                "abc-4",
                SESSION,
                "api.github.com",
                "github-api",
                9L,
                "agent-rejected-pod-ca: alert unknown_ca",
                new InetSocketAddress("2001:db8::1", 443)));
    for (AuditEvent e : events) {
      String line = AuditLog.line(e, CLOCK.instant(), pod);
      assertThat(AuditSchema.violations(line)).as(line).isEmpty();
    }
    String line = AuditLog.line(events.getFirst(), CLOCK.instant(), pod);
    assertThat(AuditSchema.violations(line.replace("\"kind\":\"request\"", "\"kind\":\"dns\"")))
        .isNotEmpty();
    assertThat(AuditSchema.violations(line.replace("\"bytesIn\":12,", ""))).isNotEmpty();
    assertThat(AuditSchema.violations(line.replace("\"ts\"", "\"time\""))).isNotEmpty();
  }

  @Test
  void a_malformed_traceparent_is_left_out() {
    for (String bad :
        List.of(
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
            "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",
            "ghp_0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMN")) {
      assertThat(AuditLog.line(tracedBy(bad), CLOCK.instant()))
          .as(bad)
          .doesNotContain("traceparent");
    }
  }

  @Test
  void a_later_traceparent_version_is_kept_to_the_fields_this_version_knows() {
    AuditEvent event =
        tracedBy("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-future-field");
    assertThat(AuditLog.line(event, CLOCK.instant()))
        .contains("\"traceparent\":\"01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01\"");
  }

  @Test
  void hostile_fields_stay_inside_their_one_line() throws Exception {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    String path = "/a\n{\"decision\":\"allow\"}\r\n\"\\\u0000\u2028";
    try (AuditLog log = new AuditLog(out, CLOCK)) {
      log.record(event("r-1", path, "reason with \"quotes\""));
    }

    List<String> lines = lines(out);
    assertThat(lines).hasSize(1);
    assertThat(JSON.readTree(lines.getFirst()).get("path").asText()).isEqualTo(path);
  }

  @Test
  void an_event_about_an_injected_credential_carries_its_name_only() throws Exception {
    String secret = "ghp_7Hx9LiveToken0000000000000000000";
    SecretValue value = new SecretValue("github", secret, Instant.parse("2030-01-01T00:00:00Z"));
    InjectedHeader header =
        CredentialInjector.render(new Injection(InjectionType.BEARER, null, null, null), value);
    // Fields that look like secrets, as a careless caller might fill them from objects at hand.
    AuditEvent event =
        AuditEvent.request(
            "r-1",
            SESSION,
            "api.github.com",
            "GET",
            "/user",
            "github-api",
            Decision.ALLOW,
            value.credential(),
            200,
            10L,
            "injected " + header + " from " + value,
            new Flow(
                "http/1.1",
                new InetSocketAddress("10.1.2.4", 443),
                7,
                9,
                // a value the agent could have sent as its traceparent: not well-formed, not
                // written
                value.reveal()));

    String line =
        AuditLog.line(
            event,
            CLOCK.instant(),
            new PodRef("agent-7d9f", "agents", "0b5c7d1e-2f3a-4b5c-8d9e-0f1a2b3c4d5e"));

    assertThat(line)
        .contains("\"credential\":\"github\"")
        .doesNotContain(secret)
        .doesNotContain("Bearer");
    List<String> names = new ArrayList<>();
    Iterator<String> it = JSON.readTree(line).fieldNames();
    it.forEachRemaining(names::add);
    assertThat(names)
        .containsExactly(
            "ts",
            "requestId",
            "session",
            "namespace",
            "user",
            "agent",
            "decision",
            "host",
            "method",
            "path",
            "rule",
            "credential",
            "upstreamStatus",
            "latencyMicros",
            "reason",
            "type",
            "pod",
            "protocol",
            "destination",
            "bytesOut",
            "bytesIn",
            "durationMs",
            "kind");
  }

  @Test
  void concurrent_records_each_become_one_whole_line() throws Exception {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    int threads = 8;
    int perThread = 2_000;
    try (AuditLog log = new AuditLog(out, CLOCK);
        ExecutorService pool = Executors.newFixedThreadPool(threads)) {
      CountDownLatch start = new CountDownLatch(1);
      for (int t = 0; t < threads; t++) {
        int thread = t;
        pool.submit(
            () -> {
              start.await();
              for (int i = 0; i < perThread; i++) {
                log.record(event(thread + "-" + i, "/p", "r"));
              }
              return null;
            });
      }
      start.countDown();
      pool.shutdown();
      pool.awaitTermination(30, java.util.concurrent.TimeUnit.SECONDS);
    }

    List<String> lines = lines(out);
    assertThat(lines).hasSize(threads * perThread);
    assertThat(
            lines.stream()
                .map(
                    l -> {
                      try {
                        return JSON.readTree(l).get("requestId").asText();
                      } catch (Exception e) {
                        throw new AssertionError(l, e);
                      }
                    })
                .distinct()
                .count())
        .isEqualTo(threads * perThread);
  }
}
