package dev.capgate.bench;

import dev.capgate.sidecar.netns.Command;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The one load generator of every data-plane row: nghttp2's h2load (Debian {@code nghttp2-client}),
 * run inside the pod namespace as the agent's uid (through the proxy) or the proxy's uid (direct,
 * exempt from interception). Latency percentiles come from its per-request {@code --log-file}
 * (microseconds from request start to end of response), since h2load itself prints only
 * min/mean/max.
 */
final class H2load {
  private static final Pattern FINISHED =
      Pattern.compile("finished in ([\\d.]+)(ms|s), ([\\d.]+) req/s");
  private static final Pattern REQUESTS =
      Pattern.compile(
          "requests: (\\d+) total, (\\d+) started, (\\d+) done, (\\d+) succeeded, (\\d+) failed, (\\d+) errored, (\\d+) timeout");
  private static final Pattern STATUS =
      Pattern.compile("status codes: (\\d+) 2xx, (\\d+) 3xx, (\\d+) 4xx, (\\d+) 5xx");
  private static final Pattern PROTOCOL = Pattern.compile("Application protocol: (\\S+)");

  /** What one run did. Latencies in milliseconds; null when no log was asked for. */
  record Result(
      double seconds,
      double rps,
      long done,
      long succeeded,
      long failed,
      long errored,
      long non2xx,
      String protocol,
      Stats latencyMs,
      String output) {
    boolean clean() {
      return done > 0 && failed == 0 && errored == 0 && non2xx == 0;
    }

    String problems() {
      return clean() ? "" : "failed " + failed + ", errored " + errored + ", non-2xx " + non2xx;
    }
  }

  private final BenchPod pod;
  private final String url;

  H2load(BenchPod pod, String url) {
    this.pod = pod;
    this.url = url;
  }

  /**
   * @param uid who sends: {@link BenchPod#AGENT_UID} (intercepted) or {@link BenchPod#PROXY_UID}
   *     (direct)
   * @param h1 HTTP/1.1 ({@code --h1}) or HTTP/2 (ALPN h2)
   * @param args the rest: -c, -D, --rps, -r ...
   * @param withLatencies whether to keep and read a per-request log
   */
  Result run(int uid, boolean h1, List<String> args, boolean withLatencies, Duration timeout) {
    Path log = pod.scratch().resolve("h2load-" + System.nanoTime() + ".log");
    List<String> cmd = new ArrayList<>(List.of("h2load", "-t", "1", "-m", "1"));
    if (h1) {
      cmd.add("--h1");
    }
    cmd.addAll(args);
    if (withLatencies) {
      cmd.add("--log-file=" + log);
    }
    cmd.add(url);
    Command.Result r = pod.runInPod(uid, timeout, cmd);
    if (r.exitCode() == -1 && !FINISHED.matcher(r.stdout()).find()) {
      // h2load -D now and then never returns after "Stopped all clients": once more.
      Bench.say("  h2load did not finish within " + timeout.toSeconds() + " s; running it again");
      try {
        Files.deleteIfExists(log);
      } catch (IOException ignored) {
        // overwritten below
      }
      r = pod.runInPod(uid, timeout, cmd);
    }
    String out = r.stdout() + r.stderr();
    try {
      Stats latencies = withLatencies ? latencies(log) : null;
      return parse(out, latencies);
    } finally {
      try {
        Files.deleteIfExists(log);
      } catch (IOException ignored) {
        // scratch is wiped with the pod
      }
    }
  }

  static Result parse(String out, Stats latencies) {
    Matcher f = FINISHED.matcher(out);
    Matcher q = REQUESTS.matcher(out);
    if (!f.find() || !q.find()) {
      throw new IllegalStateException("h2load gave no summary:\n" + out);
    }
    double seconds = Double.parseDouble(f.group(1)) / (f.group(2).equals("ms") ? 1000 : 1);
    Matcher s = STATUS.matcher(out);
    long non2xx =
        s.find()
            ? Long.parseLong(s.group(2)) + Long.parseLong(s.group(3)) + Long.parseLong(s.group(4))
            : 0;
    Matcher p = PROTOCOL.matcher(out);
    return new Result(
        seconds,
        Double.parseDouble(f.group(3)),
        Long.parseLong(q.group(3)),
        Long.parseLong(q.group(4)),
        Long.parseLong(q.group(5)),
        Long.parseLong(q.group(6)),
        non2xx,
        p.find() ? p.group(1) : "?",
        latencies,
        out);
  }

  /** Third column of h2load's log: microseconds until the end of the response. */
  private static Stats latencies(Path log) {
    try {
      List<Double> ms = new ArrayList<>();
      for (String line : Files.readAllLines(log)) {
        String[] f = line.split("\t");
        if (f.length >= 3) {
          ms.add(Long.parseLong(f[2].trim()) / 1000.0);
        }
      }
      return Stats.of(ms);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
