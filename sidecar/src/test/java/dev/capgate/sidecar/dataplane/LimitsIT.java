package dev.capgate.sidecar.dataplane;

import static dev.capgate.sidecar.dataplane.AgentCurl.body;
import static dev.capgate.sidecar.dataplane.AgentCurl.status;
import static dev.capgate.sidecar.dataplane.SessionSpecs.rule;
import static org.assertj.core.api.Assertions.assertThat;

import dev.capgate.api.v1alpha1.Limits;
import dev.capgate.sidecar.netns.Command;
import dev.capgate.sidecar.netns.PodNetns;
import io.vertx.core.json.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Issue 16 §4 through the real sidecar, with real clients as the agent: a rule's rate (429 with
 * Retry-After once the burst is spent, over HTTP/1.1 and HTTP/2), a rule's concurrency cap with a
 * slow upstream (server-sent events for 2 s), and a rule's byte budget used up (403
 * budget-exhausted, the upstream never asked). Each rule has its own limits, so the tests do not
 * share a bucket.
 */
class LimitsIT {
  private static final String HOST = "https://api.github.test";
  private static final Pattern OUTCOME = Pattern.compile("<<(\\d{3}) HTTP/(\\S+) ?([^>]*)>>");

  /** Closed by JUnit after the last test, whichever test failed. */
  @AutoClose private static PodNetns pod;

  private static String ca;

  @BeforeAll
  static void startPod() {
    pod = DataPlanePod.start("LimitsIT", null);
    pod.startSidecar(
        SessionSpecs.session("limits")
            // On top of the rules' own: generous, so that it never refuses here but is counted.
            .limits(new Limits(null, null, null, 100_000L, null))
            .egress(
                rule("rated")
                    .hosts("api.github.test")
                    .paths("/rated/**")
                    .limits(new Limits(1, 3, null, null, null)),
                rule("slow")
                    .hosts("api.github.test")
                    .paths("/slow/**")
                    .limits(new Limits(null, null, 2, null, null)),
                rule("metered")
                    .hosts("api.github.test")
                    .paths("/metered/**")
                    .limits(new Limits(null, null, null, null, 64_000L)),
                rule("free").hosts("api.github.test"))
            .json(),
        null,
        List.of());
    ca = pod.podCaCert().toString();
  }

  @Test
  void over_the_rate_is_a_429_with_retry_after_over_http1_and_http2() throws Exception {
    for (String http : List.of("--http1.1", "--http2")) {
      // One curl, eight requests on one connection: the burst of 3 goes, then 1 per second.
      List<String> args =
          new ArrayList<>(
              List.of(
                  "curl",
                  "-s",
                  "-m",
                  "20",
                  http,
                  "--cacert",
                  ca,
                  "-w",
                  // Not starting with @, which would make curl read the format from a file.
                  "<<%{http_code} HTTP/%{http_version} %header{retry-after}>>\n"));
      for (int i = 0; i < 8; i++) {
        args.add(HOST + "/rated/" + http.substring(2) + "/" + i);
      }
      Command.Result r = pod.asAgent(args.toArray(String[]::new));
      assertThat(r.exitCode()).as(r.all()).isZero();
      Matcher m = OUTCOME.matcher(r.stdout());
      List<String> outcomes = new ArrayList<>();
      List<String> versions = new ArrayList<>();
      while (m.find()) {
        versions.add(m.group(2));
        outcomes.add(m.group(1) + (m.group(3).isBlank() ? "" : " retry-after=" + m.group(3)));
      }
      assertThat(versions).as("what curl spoke").containsOnly(http.equals("--http2") ? "2" : "1.1");
      System.out.println("[limits] " + http + " rate 1/s burst 3, 8 requests: " + outcomes);
      assertThat(outcomes).as(r.all()).hasSize(8);
      assertThat(outcomes.subList(0, 3)).containsOnly("200");
      assertThat(outcomes).contains("429 retry-after=1");
      assertThat(outcomes.stream().filter(o -> o.startsWith("429")))
          .allMatch(o -> o.equals("429 retry-after=1"));
      // The 429's body names the rule and the reason.
      String denial =
          r.stdout().lines().filter(l -> l.contains("rate-limited")).findFirst().orElseThrow();
      JsonObject problem = new JsonObject(denial.substring(0, denial.indexOf("<<")));
      assertThat(problem.getString("type")).isEqualTo("tag:capgate.dev,2026:problem:rate-limited");
      assertThat(problem.getString("error")).isEqualTo("rate-limited");
      assertThat(problem.getString("rule")).isEqualTo("rated");
      assertThat(problem.getString("detail"))
          .contains("rule 'rated' allows 1 requests/s, burst 3 (per pod)");
      assertThat(problem.getInteger("status")).isEqualTo(429);
      Thread.sleep(3_500); // the bucket refills for the next protocol
    }
    JsonObject audit = AuditLines.awaitLast(pod, "api.github.test", "rate-limited: rule 'rated'");
    assertThat(audit.getString("decision")).isEqualTo("deny");
    assertThat(audit.getString("rule")).isEqualTo("rated");
    assertThat(metric("rated", "rate", "rule")).isGreaterThanOrEqualTo(2);
  }

  @Test
  void a_request_over_the_concurrency_cap_is_a_429_while_two_slow_ones_are_in_flight() {
    Command.Result r =
        pod.asAgent(
            "python3",
            "-c",
            """
        import http.client, json, ssl, threading
        ctx = ssl.create_default_context(cafile='%s')
        def get(path):
            c = http.client.HTTPSConnection('api.github.test', 443, context=ctx, timeout=20)
            c.request('GET', path)
            return c.getresponse()
        heads = threading.Barrier(3)
        statuses = {}
        def slow(i):
            r = get('/slow/%%d/events' %% i)   # the upstream streams for 2 s
            statuses[i] = r.status
            heads.wait()                      # both heads are here: both are in flight
            r.read()
        threads = [threading.Thread(target=slow, args=(i,)) for i in (1, 2)]
        for t in threads: t.start()
        heads.wait()
        third = get('/slow/3/events')
        body = third.read()
        print(json.dumps({'third': third.status, 'retryAfter': third.getheader('Retry-After'),
                          'body': json.loads(body)}))
        for t in threads: t.join()
        after = get('/slow/4/events'); after.read()
        print(json.dumps({'slow': [statuses[1], statuses[2]], 'after': after.status}))
        """
                .formatted(ca));
    assertThat(r.exitCode()).as(r.all()).isZero();
    List<String> lines = r.stdout().lines().toList();
    System.out.println("[limits] maxConcurrent 2, slow upstream: " + lines);
    JsonObject third = new JsonObject(lines.get(0));
    JsonObject rest = new JsonObject(lines.get(1));
    assertThat(rest.getJsonArray("slow").getList()).containsExactly(200, 200);
    assertThat(third.getInteger("third")).isEqualTo(429);
    assertThat(third.getString("retryAfter")).isEqualTo("1");
    assertThat(third.getJsonObject("body").getString("error")).isEqualTo("concurrency-limited");
    assertThat(third.getJsonObject("body").getString("rule")).isEqualTo("slow");
    assertThat(rest.getInteger("after")).as("the slots are free again").isEqualTo(200);
    assertThat(pod.log("upstream.log")).doesNotContain("/slow/3/events");
    assertThat(metric("slow", "concurrency", "rule")).isEqualTo(1);
  }

  @Test
  void once_the_byte_budget_is_used_up_requests_are_403_budget_exhausted() throws Exception {
    // 40,000 bytes down, then 30,000 up: both admitted (checked when each starts), 70,000 > 64,000.
    Command.Result down =
        AgentCurl.trusting(pod, ca, "-o", "/dev/null", HOST + "/metered/download?bytes=40000");
    assertThat(status(down)).as(down.all()).isEqualTo(200);
    Path upload = pod.dir().resolve("upload.bin");
    Files.write(upload, new byte[30_000]);
    upload.toFile().setReadable(true, false);
    Command.Result up =
        AgentCurl.trusting(pod, ca, "--data-binary", "@" + upload, HOST + "/metered/upload/count");
    assertThat(status(up)).as(up.all()).isEqualTo(200);
    assertThat(new JsonObject(body(up)).getLong("bodyLength")).isEqualTo(30_000);

    Command.Result refused = AgentCurl.trusting(pod, ca, HOST + "/metered/after-budget");
    assertThat(status(refused)).as(refused.all()).isEqualTo(403);
    JsonObject problem = new JsonObject(body(refused));
    System.out.println("[limits] maxBytes 64000 after 40000 down + 30000 up: 403 " + problem);
    assertThat(problem.getString("type"))
        .isEqualTo("tag:capgate.dev,2026:problem:budget-exhausted");
    assertThat(problem.getString("error")).isEqualTo("budget-exhausted");
    assertThat(problem.getString("rule")).isEqualTo("metered");
    assertThat(problem.getString("detail")).contains("64000 body bytes");
    assertThat(pod.log("upstream.log")).doesNotContain("/metered/after-budget");
    assertThat(AgentCurl.trusting(pod, ca, "-o", "/dev/null", HOST + "/other"))
        .as("another rule is not limited")
        .satisfies(r -> assertThat(status(r)).isEqualTo(200));
    JsonObject audit = AuditLines.awaitPath(pod, "/metered/after-budget");
    assertThat(audit.getString("decision")).isEqualTo("deny");
    assertThat(audit.getString("reason")).startsWith("budget-exhausted: rule 'metered'");
    assertThat(metric("metered", "bytes-budget", "rule")).isEqualTo(1);
  }

  /** The value of capgate_limit_refusals_total for a rule, limit and scope (0 when absent). */
  private static long metric(String rule, String limit, String scope) {
    String metrics = pod.inPod("curl", "-s", "http://127.0.0.1:14021/metrics").stdout();
    return metrics
        .lines()
        .filter(l -> l.startsWith("capgate_limit_refusals_total{"))
        .filter(
            l ->
                l.contains("rule=\"" + rule + "\"")
                    && l.contains("limit=\"" + limit + "\"")
                    && l.contains("scope=\"" + scope + "\""))
        .mapToLong(l -> (long) Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1)))
        .sum();
  }
}
