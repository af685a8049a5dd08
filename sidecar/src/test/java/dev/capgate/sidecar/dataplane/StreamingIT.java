package dev.capgate.sidecar.dataplane;

import static dev.capgate.api.v1alpha1.HttpMethod.GET;
import static dev.capgate.api.v1alpha1.HttpMethod.POST;
import static dev.capgate.sidecar.dataplane.AgentCurl.status;
import static dev.capgate.sidecar.dataplane.SessionSpecs.bearer;
import static dev.capgate.sidecar.dataplane.SessionSpecs.rule;
import static dev.capgate.sidecar.dataplane.UpstreamLog.headerValues;
import static org.assertj.core.api.Assertions.assertThat;

import dev.capgate.sidecar.netns.Command;
import dev.capgate.sidecar.netns.PodNetns;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * Streaming and upgrades (issue 8) through the real sidecar, run with a 96 MiB heap: a 1 GiB
 * download and a 256 MiB upload with the sidecar's resident memory sampled from /proc while they
 * run, server-sent events that reach the agent as they are sent, and a WebSocket upgrade that
 * policy checks at the upgrade request (credential injected) before the connection becomes a
 * splice. Every route here injects a credential, so the response scrubber is in the path
 * throughout.
 *
 * <p>Every test makes the traffic it checks; {@code @Order} only orders the report. The sweep of
 * every log for the secret runs once after the last test, over the whole run ({@link
 * #no_log_line_of_the_run_contains_the_secret}).
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class StreamingIT {
  private static final String SECRET = "ghp_" + HexFormat.of().formatHex(SecureRandom.getSeed(12));
  private static final long GIB = 1L << 30;

  /** Closed by JUnit after the last test, whichever test failed. */
  @AutoClose private static PodNetns pod;

  private static Process sidecar;
  private static String ca;

  @BeforeAll
  static void startPod() {
    VaultKv vault = new VaultKv().put("github", "token", SECRET);
    pod = DataPlanePod.start("StreamingIT", vault.address());
    // Paranoid leak tracking records every buffer access: unaffordable for a gibibyte. The heap
    // stays at 96 MiB.
    pod.sidecarLeakDetection("disabled");
    sidecar =
        pod.startSidecar(
            SessionSpecs.session("streaming")
                .credential(bearer("github", vault.path("github"), "token"))
                .egress(
                    rule("github-api")
                        .hosts("api.github.test")
                        .methods(GET, POST)
                        .paths("/repos/acme/repo-a/**")
                        .credential("github"))
                .json(),
            vault.readerToken(),
            List.of());
    ca = pod.podCaCert().toString();
  }

  @Test
  @Order(1)
  void a_gibibyte_download_streams_through_with_flat_memory() throws Exception {
    Command.Result r;
    RssSampler rss = new RssSampler(sidecar.pid());
    try (rss) {
      r =
          pod.asAgent(
              Map.of(),
              Duration.ofSeconds(300),
              "curl",
              "-s",
              "-m",
              "280",
              "--http1.1",
              "--cacert",
              ca,
              "-o",
              "/dev/null",
              "-w",
              "%{http_code} %{size_download} %{time_total} %{speed_download}",
              "https://api.github.test/repos/acme/repo-a/download?bytes=" + GIB);
    }
    String[] out = r.stdout().strip().split(" ");
    assertThat(out[0] + " " + out[1]).as(r.all()).isEqualTo("200 " + GIB);
    System.out.printf(
        "1 GiB download through the sidecar (-Xmx96m, TLS both sides, scrubber on): %.1f s, %.0f MiB/s;"
            + " sidecar RSS before %d MiB, max during %d MiB, max in the first quarter %d MiB, in the last quarter %d MiB"
            + " (%d samples)%n",
        Double.parseDouble(out[2]),
        Double.parseDouble(out[3]) / (1 << 20),
        rss.first() / 1024,
        rss.max() / 1024,
        rss.maxInQuarter(0) / 1024,
        rss.maxInQuarter(3) / 1024,
        rss.count());
    System.out.println(
        "sidecar RSS (MiB), max of each tenth of the download: " + rss.maxPerTenth());
    // Flat: what the sidecar holds does not grow with the bytes that went through it.
    assertThat(rss.maxInQuarter(3) - rss.maxInQuarter(0))
        .as("RSS growth from the first to the last quarter (KiB)")
        .isLessThan(48 * 1024);
    assertThat(rss.max()).as("max RSS (KiB)").isLessThan(512 * 1024);
  }

  @Test
  @Order(2)
  void a_large_upload_streams_through_with_flat_memory() throws Exception {
    Command.Result r;
    RssSampler rss = new RssSampler(sidecar.pid());
    try (rss) {
      r =
          pod.asAgent(
              Map.of(),
              Duration.ofSeconds(240),
              "python3",
              "-c",
              """
          import http.client, json, ssl, time
          ctx = ssl.create_default_context(cafile='%s')
          c = http.client.HTTPSConnection('api.github.test', context=ctx, timeout=120)
          chunk = b'u' * 262144
          def body():
              for _ in range(1024):
                  yield chunk
          t0 = time.monotonic()
          c.request('POST', '/repos/acme/repo-a/count', body=body(), encode_chunked=True)
          r = c.getresponse()
          print(r.status, json.loads(r.read())['bodyLength'], '%%.1f' %% (time.monotonic() - t0))
          """
                  .formatted(ca));
    }
    String[] out = r.stdout().strip().split(" ");
    assertThat(out[0] + " " + out[1]).as(r.all()).isEqualTo("200 " + (256L << 20));
    System.out.printf(
        "256 MiB chunked upload through the sidecar: %s s; sidecar RSS before %d MiB, max during %d MiB,"
            + " max in the first quarter %d MiB, in the last quarter %d MiB%n",
        out[2],
        rss.first() / 1024,
        rss.max() / 1024,
        rss.maxInQuarter(0) / 1024,
        rss.maxInQuarter(3) / 1024);
    assertThat(rss.maxInQuarter(3) - rss.maxInQuarter(0))
        .as("RSS growth (KiB)")
        .isLessThan(48 * 1024);
  }

  @Test
  @Order(3)
  void server_sent_events_reach_the_agent_as_they_are_sent() {
    Command.Result r =
        pod.asAgent(
            Map.of(),
            Duration.ofSeconds(60),
            "python3",
            "-c",
            """
        import subprocess, time
        for proto in ('--http1.1', '--http2'):
            t0 = time.monotonic()
            p = subprocess.Popen(['curl', '-sN', proto, '-m', '20', '--cacert', '%s',
                                  'https://api.github.test/repos/acme/repo-a/events'], stdout=subprocess.PIPE, bufsize=0)
            events = []
            for line in iter(p.stdout.readline, b''):
                if line.startswith(b'data:'):
                    events.append((time.monotonic() - t0, line.strip().decode()))
            p.wait()
            end = time.monotonic() - t0
            print(proto, 'end=%%.3f' %% end, ' '.join('%%.3f' %% t for t, _ in events), '|', ' '.join(d[5:].strip() for _, d in events))
        """
                .formatted(ca));
    List<String> lines = r.stdout().lines().toList();
    assertThat(lines).as(r.all()).hasSize(2);
    for (String line : lines) {
      System.out.println("server-sent events (arrival times in s since the request): " + line);
      String[] halves = line.split(" \\| ");
      String[] timing = halves[0].split(" ");
      double end = Double.parseDouble(timing[1].substring("end=".length()));
      List<Double> arrivals = new ArrayList<>();
      for (int i = 2; i < timing.length; i++) {
        arrivals.add(Double.parseDouble(timing[i]));
      }
      assertThat(halves[1].split(" "))
          .as(line)
          .containsExactly(
              "{\"event\":1}",
              "{\"event\":2}",
              "{\"event\":3}",
              "{\"event\":4}",
              "{\"event\":5}",
              "{\"event\":6}",
              "{\"event\":7}",
              "{\"event\":8}",
              "{\"event\":9}",
              "{\"event\":10}");
      assertThat(arrivals).as(line).isSorted();
      // Not buffered until the end: the first event is there while the stream still runs.
      assertThat(arrivals.getFirst()).as(line).isLessThan(arrivals.getLast());
      assertThat(arrivals.getFirst()).as(line).isLessThan(end);
    }
  }

  @Test
  @Order(4)
  void a_websocket_upgrade_is_policed_at_the_upgrade_then_spliced_both_ways() {
    Command.Result r =
        pod.asAgent(
            Map.of(),
            Duration.ofSeconds(30),
            "python3",
            "-c",
            AgentPrograms.WEBSOCKET_CLIENT.formatted(ca, "/repos/acme/repo-a/ws"));
    List<String> lines = r.stdout().lines().toList();
    assertThat(lines).as(r.all()).hasSizeGreaterThanOrEqualTo(5);
    assertThat(lines.get(0)).isEqualTo("HTTP/1.1 101 Switching Protocols");
    assertThat(lines.get(1)).isEqualTo("accept ok");
    // The upstream echoes the injected credential in its first message: the agent reads it masked.
    assertThat(lines.get(2)).startsWith("authorization=Bearer ****").doesNotContain(SECRET);
    assertThat(lines.subList(3, lines.size()))
        .containsExactly("echo: ping 1", "echo: " + "x".repeat(60000), "echo: ping 3");
    JsonObject saw = UpstreamLog.lastRequest(pod, "/repos/acme/repo-a/ws");
    assertThat(saw.getBoolean("websocket")).isTrue();
    assertThat(headerValues(saw, "authorization")).containsExactly("Bearer " + SECRET);
    // A credential went in: no compression, or the scrubber could not see an echoed value.
    assertThat(headerValues(saw, "sec-websocket-extensions")).isEmpty();
    org.awaitility.Awaitility.await()
        .atMost(java.time.Duration.ofSeconds(10))
        .untilAsserted(
            () ->
                assertThat(pod.log("sidecar.log"))
                    .contains("\"upstreamStatus\":101", "upgraded to websocket"));
  }

  @Test
  @Order(5)
  void a_denied_upgrade_gets_a_json_403_and_the_connection_ends() {
    Command.Result r =
        pod.asAgent(
            Map.of(),
            Duration.ofSeconds(30),
            "python3",
            "-c",
            AgentPrograms.WEBSOCKET_CLIENT.formatted(ca, "/repos/acme/other/ws"));
    List<String> lines = r.stdout().lines().toList();
    assertThat(lines).as(r.all()).isNotEmpty();
    assertThat(lines.get(0)).isEqualTo("HTTP/1.1 403 Forbidden");
    assertThat(lines).contains("closed");
    assertThat(pod.log("upstream.log")).doesNotContain("/repos/acme/other/ws");
  }

  /**
   * The sweep over the whole run, after the last test whichever ran: no log holds the secret, after
   * a request of its own that injects it ({@link PodLogs#sweep}).
   */
  @AfterAll
  static void no_log_line_of_the_run_contains_the_secret() {
    PodLogs.sweep(
        pod,
        () -> {
          Command.Result r =
              AgentCurl.trusting(
                  pod, ca, "https://api.github.test/repos/acme/repo-a/after-all-sweep");
          assertThat(status(r)).as(r.all()).isEqualTo(200);
          assertThat(r.stdout()).doesNotContain(SECRET);
        },
        "/repos/acme/repo-a/after-all-sweep",
        List.of(SECRET));
  }

  /** Samples a process's resident set size (VmRSS, KiB) from /proc every 100 ms until closed. */
  static final class RssSampler implements AutoCloseable {
    private final Path status;
    private final List<Long> samples = Collections.synchronizedList(new ArrayList<>());
    private final Thread thread;
    private volatile boolean stop;

    RssSampler(long pid) {
      this.status = Path.of("/proc", Long.toString(pid), "status");
      samples.add(read());
      thread =
          Thread.ofPlatform()
              .daemon()
              .name("rss-sampler")
              .start(
                  () -> {
                    while (!stop) {
                      long kb = read();
                      if (kb > 0) {
                        samples.add(kb);
                      }
                      try {
                        Thread.sleep(100);
                      } catch (InterruptedException e) {
                        return;
                      }
                    }
                  });
    }

    private long read() {
      try {
        for (String line : Files.readAllLines(status)) {
          if (line.startsWith("VmRSS:")) {
            return Long.parseLong(line.replaceAll("[^0-9]", ""));
          }
        }
      } catch (IOException | NumberFormatException e) {
        return -1;
      }
      return -1;
    }

    long first() {
      return samples.getFirst();
    }

    long max() {
      synchronized (samples) {
        return samples.stream().mapToLong(Long::longValue).max().orElse(-1);
      }
    }

    int count() {
      return samples.size();
    }

    /** The largest sample of each tenth of the sampling period, in MiB. */
    List<Long> maxPerTenth() {
      synchronized (samples) {
        List<Long> out = new ArrayList<>();
        int n = samples.size();
        for (int t = 0; t < 10; t++) {
          int from = n * t / 10;
          int to = Math.max(from + 1, n * (t + 1) / 10);
          out.add(
              samples.subList(from, Math.min(to, n)).stream()
                      .mapToLong(Long::longValue)
                      .max()
                      .orElse(-1)
                  / 1024);
        }
        return out;
      }
    }

    /** The largest sample of one quarter (0..3) of the sampling period. */
    long maxInQuarter(int quarter) {
      synchronized (samples) {
        int n = samples.size();
        int from = n * quarter / 4;
        int to = Math.max(from + 1, n * (quarter + 1) / 4);
        return samples.subList(from, Math.min(to, n)).stream()
            .mapToLong(Long::longValue)
            .max()
            .orElse(-1);
      }
    }

    @Override
    public void close() {
      stop = true;
      thread.interrupt();
      try {
        thread.join(1000);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }
}
