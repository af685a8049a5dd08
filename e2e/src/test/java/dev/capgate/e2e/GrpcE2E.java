package dev.capgate.e2e;

import static dev.capgate.api.v1alpha1.AgentSessionBuilder.kv2;
import static dev.capgate.api.v1alpha1.AgentSessionBuilder.rule;
import static dev.capgate.api.v1alpha1.HttpMethod.POST;
import static org.assertj.core.api.Assertions.assertThat;

import dev.capgate.api.v1alpha1.AgentSessionBuilder;
import dev.capgate.testkit.ProcessResult;
import io.vertx.core.json.JsonObject;
import java.util.List;
import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * Issue 16 §6 on the real cluster: grpcurl (the agent image's copy of make tools' build) in the
 * agent pod, through the sidecar, to the stack's gRPC upstream {@code grpc.test} (grpc-go's interop
 * TestService with reflection, hack/grpc-testserver, TLS from the upstreams' CA; it refuses every
 * call without alice's gRPC token from OpenBao with UNAUTHENTICATED and echoes the {@code
 * authorization} it received in the trailer {@code x-seen-authorization}). The agent sends no token
 * and trusts only the pod's bundle ({@code SSL_CERT_FILE}, which Go reads). The rule allows
 * UnaryCall, StreamingOutputCall, FullDuplexCall and reflection, not EmptyCall: a unary call
 * succeeds (so the server saw the injected token; its echo comes back masked), EmptyCall is the
 * PERMISSION_DENIED grpcurl prints with the reason, a server-streaming and a bidi call pass every
 * message; the audit lines carry decision, rule and gRPC method. Local stack only (e2e/README.md,
 * "Kind parity").
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class GrpcE2E {
  static final String RULE = "grpc-e2e";
  static final String SERVICE = "grpc.testing.TestService/";
  static final Evidence EVIDENCE = new Evidence("grpc.txt");
  @AutoClose // the secret sweep
  static AgentSandbox agent;

  static AgentSessionBuilder session(String name) {
    return Sessions.alice(name)
        // The gRPC server's own token (secret/grpc/<user>): only grpc.test accepts it.
        .credential(kv2("grpc", "secret/data/grpc/{{user}}", "token").bearer())
        .egress(
            rule(RULE)
                .hosts("grpc.test")
                .methods(POST)
                .credential("grpc")
                .grpc(
                    SERVICE + "UnaryCall",
                    SERVICE + "StreamingOutputCall",
                    SERVICE + "FullDuplexCall",
                    // grpcurl learns the schema by reflection first (v1, else v1alpha).
                    "grpc.reflection.v1.ServerReflection/*",
                    "grpc.reflection.v1alpha.ServerReflection/*"));
  }

  @BeforeAll
  static void start() {
    agent = AgentSandbox.start("grpc", session("grpc"));
  }

  @Test
  @Order(1)
  void aUnaryCallWithoutATokenReachesTheServerWithTheInjectedOne() {
    String names = "env | grep -i token | grep -vi capgate | wc -l";
    ProcessResult env = agent.sh(names);
    EVIDENCE.command("unary", names, env);
    assertThat(env.stdout().strip()).as("the agent's environment names no token").isEqualTo("0");
    ProcessResult r =
        grpcurl("unary", "UnaryCall", "{\"response_size\": 3, \"payload\": {\"body\": \"AAAA\"}}");
    assertThat(r.exitCode()).as(all(r)).isZero();
    assertThat(r.stdout()).contains("\"body\": \"AAAA\"");
    // The server answers OK only with its token; its echo of it comes back masked.
    assertThat(all(r)).contains("x-seen-authorization: Bearer *****");
  }

  @Test
  @Order(2)
  void emptyCallIsPermissionDeniedWithTheReasonGrpcurlPrints() {
    ProcessResult r = grpcurl("denied", "EmptyCall", "{}");
    assertThat(r.exitCode()).as(all(r)).isNotZero();
    assertThat(all(r))
        .contains("Code: PermissionDenied")
        .contains(
            "Message: capgate: grpc-method-denied: method '"
                + SERVICE
                + "EmptyCall' is not allowed by rule '"
                + RULE
                + "'");
  }

  @Test
  @Order(3)
  void serverStreamingPassesEveryMessage() {
    ProcessResult r =
        grpcurl(
            "server-streaming",
            "StreamingOutputCall",
            "{\"response_parameters\": [{\"size\": 1}, {\"size\": 2}, {\"size\": 3},"
                + " {\"size\": 300000}]}");
    assertThat(r.exitCode()).as(all(r)).isZero();
    assertThat(count(r.stdout(), "\"payload\"")).as(r.stdout()).isEqualTo(4);
  }

  @Test
  @Order(4)
  void bidiStreamingPassesBothWays() {
    ProcessResult r =
        grpcurl(
            "bidi",
            "FullDuplexCall",
            "{\"response_parameters\": [{\"size\": 4}]} {\"response_parameters\": [{\"size\": 5},"
                + " {\"size\": 6}]} {\"response_parameters\": [{\"size\": 7}]}");
    assertThat(r.exitCode()).as(all(r)).isZero();
    assertThat(count(r.stdout(), "\"payload\"")).as(r.stdout()).isEqualTo(4);
  }

  @Test
  @Order(5)
  void theAuditLinesCarryDecisionRuleAndMethod() {
    List<JsonObject> allowed =
        SidecarAudit.await(
            agent,
            "grpc UnaryCall allowed",
            1,
            l ->
                "allow".equals(l.getString("decision"))
                    && l.getString("reason", "")
                        .contains("grpc: " + SERVICE + "UnaryCall, grpc-status 0 OK"));
    assertThat(allowed.getFirst().getString("rule")).isEqualTo(RULE);
    assertThat(allowed.getFirst().getString("credential")).isEqualTo("grpc");
    for (String method : List.of("StreamingOutputCall", "FullDuplexCall")) {
      SidecarAudit.await(
          agent,
          "grpc " + method + " allowed",
          1,
          l ->
              "allow".equals(l.getString("decision"))
                  && l.getString("reason", "").contains("grpc: " + SERVICE + method + ", "));
    }
    List<JsonObject> denied =
        SidecarAudit.await(
            agent,
            "grpc EmptyCall denied",
            1,
            SidecarAudit.reasonStarts(
                "deny", "grpc-method-denied: method '" + SERVICE + "EmptyCall'"));
    JsonObject deny = denied.getFirst();
    assertThat(deny.getString("rule")).isEqualTo(RULE);
    assertThat(deny.getString("reason")).contains("grpc-status 7 PERMISSION_DENIED");
    assertThat(deny.getString("credential")).as("no credential fetched for it").isNull();
    EVIDENCE.note("audit", SidecarAudit.brief(allowed.getFirst()));
    EVIDENCE.note("audit", SidecarAudit.brief(deny));
  }

  /** grpcurl as the agent: no token, the pod's trust bundle, verbose (trailers shown). */
  private static ProcessResult grpcurl(String label, String method, String json) {
    // Long lines (the 300000-byte payload) cut for the evidence; grpcurl's exit status kept.
    String command =
        "grpcurl -v -max-time 30 -d '"
            + json
            + "' grpc.test:443 "
            + SERVICE
            + method
            + " > /tmp/grpcurl.out; rc=$?; cut -c1-160 /tmp/grpcurl.out; exit $rc";
    long t0 = System.nanoTime();
    ProcessResult r = agent.sh(command);
    EVIDENCE.command(label, command, r);
    EVIDENCE.note(label, "took " + (System.nanoTime() - t0) / 1_000_000 + " ms");
    return r;
  }

  private static String all(ProcessResult r) {
    return r.stdout() + r.stderr();
  }

  private static int count(String text, String what) {
    int n = 0;
    for (int i = text.indexOf(what); i >= 0; i = text.indexOf(what, i + 1)) {
      n++;
    }
    return n;
  }
}
