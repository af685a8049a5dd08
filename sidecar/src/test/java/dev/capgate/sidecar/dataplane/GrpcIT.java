package dev.capgate.sidecar.dataplane;

import static dev.capgate.api.v1alpha1.AgentSessionBuilder.kv2;
import static dev.capgate.api.v1alpha1.AgentSessionBuilder.rule;
import static dev.capgate.api.v1alpha1.HttpMethod.POST;
import static org.assertj.core.api.Assertions.assertThat;

import dev.capgate.sidecar.netns.Command;
import dev.capgate.sidecar.netns.PodNetns;
import dev.capgate.testkit.Tools;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Issue 16 §6, gRPC through the sidecar, on real components: grpcurl (the agent's client, built by
 * {@code make tools}) through the real sidecar (TLS intercepted with the pod CA, a bearer token
 * from a real OpenBao injected as {@code authorization} metadata, HTTP/2 upstream with trailers) to
 * grpc-go's interop TestService ({@code hack/grpc-testserver}: TLS, reflection, every call without
 * that token refused with UNAUTHENTICATED, and the {@code authorization} it received echoed in the
 * trailer {@code x-seen-authorization}). The agent sends no token. The rule allows four methods of
 * the TestService (not EmptyCall) and reflection, which grpcurl uses to learn the schema.
 */
class GrpcIT {
  private static final String SECRET = "grpc_" + HexFormat.of().formatHex(SecureRandom.getSeed(12));
  private static final String USER = "alice@example.com";
  private static final String RULE = "grpc-test";
  private static final String HOST = "api.github.test";
  private static final String SERVICE = "grpc.testing.TestService/";

  @AutoClose private static PodNetns pod;

  @BeforeAll
  static void startPod() throws IOException {
    // Fail loudly, saying make tools, before anything starts.
    Path server = Tools.bin("grpc-testserver");
    Tools.bin("grpcurl");
    VaultKv vault = new VaultKv().put("grpc/" + USER, "token", SECRET);
    pod = DataPlanePod.start("GrpcIT", vault.address());
    Path tokenFile = pod.dir().resolve("grpc-server-token");
    Files.createFile(
        tokenFile,
        PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
    Files.writeString(tokenFile, SECRET);
    Path up = pod.dir().resolve("upstream");
    pod.startInPeer(
        "grpc-server.log",
        "listening",
        server.toString(),
        "-addr",
        "0.0.0.0:9445",
        "-cert",
        up.resolve("server.crt").toString(),
        "-key",
        up.resolve("server.key").toString(),
        "-token-file",
        tokenFile.toString());
    // An upstream whose TLS completes without ALPN (an HTTP/1.1 server): gRPC cannot go there.
    // (Offered h2 with only http/1.1 configured, OpenSSL refuses the handshake itself instead.)
    pod.startInPeer(
        "http1-only-server.log",
        "ACCEPT",
        "openssl",
        "s_server",
        "-accept",
        "9447",
        "-cert",
        up.resolve("server.crt").toString(),
        "-key",
        up.resolve("server.key").toString(),
        "-www");
    pod.startSidecar(
        SessionSpecs.session("grpc")
            .user(USER)
            .credential(kv2("grpc-token", vault.path("grpc/{{user}}"), "token").bearer().build())
            .credential(
                kv2("missing-token", vault.path("nothing-here/{{user}}"), "token").bearer().build())
            .egress(
                rule(RULE)
                    .hosts(HOST)
                    .ports(9445)
                    .methods(POST)
                    .credential("grpc-token")
                    .grpc(
                        SERVICE + "UnaryCall",
                        SERVICE + "StreamingOutputCall",
                        SERVICE + "StreamingInputCall",
                        SERVICE + "FullDuplexCall",
                        "grpc.reflection.v1.ServerReflection/*",
                        "grpc.reflection.v1alpha.ServerReflection/*"),
                rule("grpc-no-credential")
                    .hosts(HOST)
                    .ports(9446)
                    .methods(POST)
                    .credential("missing-token")
                    .grpc(
                        SERVICE + "*",
                        "grpc.reflection.v1.ServerReflection/*",
                        "grpc.reflection.v1alpha.ServerReflection/*"),
                rule("grpc-http1-upstream")
                    .hosts(HOST)
                    .ports(9447)
                    .methods(POST)
                    .grpc(
                        SERVICE + "*",
                        "grpc.reflection.v1.ServerReflection/*",
                        "grpc.reflection.v1alpha.ServerReflection/*"))
            .json(),
        vault.readerToken(),
        List.of());
  }

  @Test
  void an_allowed_unary_call_carries_the_injected_token_the_agent_never_had() {
    Command.Result r =
        grpcurl(
            9445,
            "UnaryCall",
            "{\"response_size\": 3, \"payload\": {\"body\": \"AAAA\"}, \"fill_username\": true}");
    assertThat(r.exitCode()).as(r.all()).isZero();
    assertThat(r.stdout()).contains("\"body\": \"AAAA\"");
    // The server's echo of what it received: the token, masked before the agent saw it.
    assertThat(r.all()).contains("x-seen-authorization: Bearer *****").doesNotContain(SECRET);
    JsonObject audit =
        AuditLines.awaitLast(
            pod, HOST, "allowed by rule 'grpc-test'; grpc: " + SERVICE + "UnaryCall");
    assertThat(audit.getString("decision")).isEqualTo("allow");
    assertThat(audit.getString("reason")).contains("grpc-status 0 OK");
    assertThat(audit.getString("credential")).isEqualTo("grpc-token");
  }

  @Test
  void a_denied_method_is_a_permission_denied_status_grpcurl_prints_with_the_reason() {
    Command.Result r = grpcurl(9445, "EmptyCall", "{}");
    assertThat(r.exitCode()).as(r.all()).isNotZero();
    assertThat(r.all())
        .contains("Code: PermissionDenied")
        .contains(
            "Message: capgate: grpc-method-denied: method '"
                + SERVICE
                + "EmptyCall' is not allowed by rule 'grpc-test'");
    JsonObject audit =
        AuditLines.awaitLast(pod, HOST, "grpc-method-denied: method '" + SERVICE + "EmptyCall'");
    assertThat(audit.getString("decision")).isEqualTo("deny");
    assertThat(audit.getString("rule")).isEqualTo(RULE);
    assertThat(audit.getString("reason")).contains("grpc-status 7 PERMISSION_DENIED");
    assertThat(audit.getString("credential")).as("none fetched").isNull();
  }

  @Test
  void server_streaming_passes_every_message() {
    Command.Result r =
        grpcurl(
            9445,
            "StreamingOutputCall",
            "{\"response_parameters\": [{\"size\": 1}, {\"size\": 2}, {\"size\": 3}, {\"size\": 300000}]}");
    assertThat(r.exitCode()).as(r.all()).isZero();
    assertThat(count(r.stdout(), "\"payload\"")).as(r.stdout()).isEqualTo(4);
    assertThat(r.all()).doesNotContain(SECRET);
  }

  @Test
  void client_streaming_passes_every_message() {
    Command.Result r =
        grpcurl(
            9445,
            "StreamingInputCall",
            "{\"payload\": {\"body\": \"AAAA\"}} {\"payload\": {\"body\": \"AAAAAAAA\"}}");
    assertThat(r.exitCode()).as(r.all()).isZero();
    assertThat(r.stdout()).contains("\"aggregatedPayloadSize\": 9");
  }

  @Test
  void bidi_streaming_passes_both_ways() {
    Command.Result r =
        grpcurl(
            9445,
            "FullDuplexCall",
            "{\"response_parameters\": [{\"size\": 4}]} {\"response_parameters\": [{\"size\": 5},"
                + " {\"size\": 6}]} {\"response_parameters\": [{\"size\": 7}]}");
    assertThat(r.exitCode()).as(r.all()).isZero();
    assertThat(count(r.stdout(), "\"payload\"")).as(r.stdout()).isEqualTo(4);
  }

  @Test
  void a_credential_that_cannot_be_fetched_is_unavailable() {
    // grpcurl's first call, to reflection, already gets the answer: nothing leaves without it.
    Command.Result r = grpcurl(9446, "UnaryCall", "{}");
    assertThat(r.exitCode()).as(r.all()).isNotZero();
    assertThat(r.all())
        .contains("code = Unavailable")
        .contains("capgate: ")
        .contains("missing-token")
        .doesNotContain("PermissionDenied");
  }

  @Test
  void an_upstream_that_does_not_agree_to_http2_is_refused_not_downgraded() {
    Command.Result r = grpcurl(9447, "UnaryCall", "{}");
    assertThat(r.exitCode()).as(r.all()).isNotZero();
    assertThat(r.all()).contains("capgate: ").contains("HTTP/2");
    JsonObject audit = AuditLines.awaitLast(pod, HOST, "upstream-tls-handshake-failed: ");
    assertThat(audit.getString("reason")).contains("did not agree to HTTP/2 (ALPN h2)");
    assertThat(audit.getString("decision")).isEqualTo("error");
    assertThat(audit.getString("rule")).isEqualTo("grpc-http1-upstream");
    assertThat(pod.log("http1-only-server.log"))
        .as("no request reached the HTTP/1.1 upstream")
        .doesNotContain("POST /");
  }

  @Test
  void grpc_calls_are_counted_by_rule_method_and_status() {
    grpcurl(9445, "UnaryCall", "{}");
    grpcurl(9445, "EmptyCall", "{}");
    Awaitility.await()
        .atMost(Duration.ofSeconds(10))
        .untilAsserted(
            () -> {
              List<String> series = pod.metricSeries("capgate_grpc_calls_total");
              assertThat(series)
                  .anyMatch(
                      l ->
                          l.contains("method=\"" + SERVICE + "UnaryCall\"")
                              && l.contains("grpc_status=\"OK\""))
                  .anyMatch(
                      l ->
                          l.contains("method=\"(other)\"")
                              && l.contains("grpc_status=\"PERMISSION_DENIED\""))
                  .anyMatch(l -> l.contains("method=\"grpc.reflection.v1.ServerReflection/*\""));
            });
  }

  @Test
  void no_log_and_no_client_output_holds_the_credential() {
    Command.Result r = grpcurl(9445, "UnaryCall", "{}");
    assertThat(r.all()).doesNotContain(SECRET);
    for (Path file : pod.logFiles()) {
      if (file.getFileName().toString().equals("grpc-server-token")) {
        continue;
      }
      assertThat(pod.log(file.getFileName().toString())).as(file.toString()).doesNotContain(SECRET);
    }
  }

  // ------------------------------------------------------------------ helpers

  /** grpcurl as the agent: the pod CA trusted, no token, verbose (headers and trailers shown). */
  private static Command.Result grpcurl(int port, String method, String json) {
    List<String> command = new ArrayList<>();
    command.add(Tools.bin("grpcurl").toString());
    command.addAll(List.of("-v", "-cacert", pod.podCaCert().toString(), "-max-time", "30"));
    command.addAll(List.of("-d", json, HOST + ":" + port, SERVICE + method));
    Command.Result r =
        pod.asRootInPod(Map.of(), Duration.ofSeconds(60), command.toArray(String[]::new));
    System.out.println(
        "---- grpcurl " + method + " :" + port + ": exit " + r.exitCode() + "\n" + r.all());
    return r;
  }

  private static int count(String text, String what) {
    int n = 0;
    for (int i = text.indexOf(what); i >= 0; i = text.indexOf(what, i + 1)) {
      n++;
    }
    return n;
  }
}
