package dev.capgate.bench;

import dev.capgate.sidecar.init.InterceptionRules;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.DoubleAccumulator;
import java.util.function.ToDoubleFunction;

/**
 * Section "dataplane-ab": two sidecars from the same jar, A and B, differing in one thing, started
 * once in the same pod and measured in short interleaved runs, so that the machine's drift (other
 * work on a shared machine moves the direct path's rate by a third within minutes) cancels instead
 * of landing on one side.
 *
 * <p>Variants: {@code limits} (B enforces the session with every rule and session limit on at the
 * CRD maxima: the limiter's cost, issue 16 §4) and {@code c1} (B adds {@code
 * -XX:TieredStopAtLevel=1} to the image's JVM flags: issue 13's C1-only question) and {@code
 * agent-tls} (the agent side's TLS on the JDK engine in A, on BoringSSL in B: issue 13's engine
 * question for the side the agent talks to), {@code flags} (B adds the JVM flags of {@code
 * -Dcapgate.bench.ab.flags}, space-separated), {@code jar} (A runs the sidecar jar of {@code
 * -Dcapgate.bench.ab.jarA}, another build with its lib/ and native/ beside it, B the one under
 * test: a code change measured against the build before it).
 *
 * <p>Method: A listens on 14001, B on 14002; the pod's one REDIRECT rule ({@link
 * InterceptionRules#REDIRECT_CHAIN}) is pointed at the sidecar being measured before each run (new
 * connections only, and every h2load run opens its own). For each cell (keep-alive c=16 and 1,000
 * rps, HTTP/1.1 and HTTP/2) the rounds run back to back in ABBA order (A B, B A, A B, ...): each
 * round's B − A is a pair measured seconds apart, and linear drift cancels over two rounds. The
 * noise floor is the same difference between two runs of the same sidecar next to each other (the A
 * A and B B at the round boundaries), measured in the same minutes. Every run checks that the idle
 * sidecar stayed idle (the traffic went where it was sent).
 */
final class DataPlaneAbBench {
  static final int PORT_B = 14002;

  record Options(
      String variant,
      int rounds,
      Duration duration,
      Duration warmUp,
      Path sidecarJar,
      List<String> sidecarJvmFlags) {}

  /** One sidecar under test. */
  private static final class Side {
    final String label;
    final String what;
    final int port;
    ProxyUnderTest proxy;
    double rssIdle = Double.NaN;
    final DoubleAccumulator rssLoad = new DoubleAccumulator(Math::max, 0);
    double rssAfter = Double.NaN;

    Side(String label, String what, int port) {
      this.label = label;
      this.what = what;
      this.port = port;
    }
  }

  /** One load shape on one protocol. */
  private record Cell(String name, boolean h1, boolean paced) {}

  /** One run: which side, where it stood in the sequence, what it measured. */
  private record Run(Side side, int round, int index, H2load.Result result, double cpuSeconds) {}

  /** A figure read from a run, the name it has in the table. */
  private record Figure(String name, ToDoubleFunction<Run> value, int decimals) {}

  private static final List<Cell> CELLS =
      List.of(
          new Cell("HTTP/1.1 keep-alive c=16", true, false),
          new Cell("HTTP/1.1 at 1,000 rps", true, true),
          new Cell("HTTP/2 keep-alive c=16", false, false),
          new Cell("HTTP/2 at 1,000 rps", false, true));

  private static final List<Figure> KEEP_ALIVE_FIGURES =
      List.of(
          new Figure("rps", r -> r.result().rps(), 0),
          new Figure("proxy CPU µs/request", r -> r.cpuSeconds() * 1e6 / r.result().done(), 1));

  private static final List<Figure> PACED_FIGURES =
      List.of(
          new Figure("p50 ms", r -> r.result().latencyMs().percentile(50), 3),
          new Figure("p99 ms", r -> r.result().latencyMs().percentile(99), 3),
          new Figure("proxy CPU µs/request", r -> r.cpuSeconds() * 1e6 / r.result().done(), 1));

  private final Options options;
  private final Section section;
  private final Map<String, String> setups = new LinkedHashMap<>();
  private DataPlaneFixture fixture;
  private Side a;
  private Side b;

  DataPlaneAbBench(Options options, Section section) {
    this.options = options;
    this.section = section;
  }

  void run() throws Exception {
    try (DataPlaneFixture f =
        DataPlaneFixture.open("bench-ab-" + options.variant(), options.sidecarJar(), setups)) {
      fixture = f;
      Path sessionB;
      Path jarA = options.sidecarJar();
      List<String> flagsA = new ArrayList<>(options.sidecarJvmFlags());
      List<String> flagsB = new ArrayList<>(options.sidecarJvmFlags());
      switch (options.variant()) {
        case "limits" -> {
          a = new Side("A", "Capgate", 14001);
          b = new Side("B", "Capgate + limits (every limit at the CRD maxima)", PORT_B);
          sessionB = f.limitedSessionFile;
        }
        case "c1" -> {
          a = new Side("A", "Capgate, image flags (C1 + C2)", 14001);
          b = new Side("B", "Capgate, image flags + -XX:TieredStopAtLevel=1 (C1 only)", PORT_B);
          sessionB = f.sessionFile;
          flagsB.add("-XX:TieredStopAtLevel=1");
        }
        case "agent-tls" -> {
          a = new Side("A", "Capgate, agent-side TLS on the JDK engine", 14001);
          b = new Side("B", "Capgate, agent-side TLS on BoringSSL", PORT_B);
          sessionB = f.sessionFile;
          flagsA.add("-Dcapgate.tls.agent-engine=jdk");
          flagsB.add("-Dcapgate.tls.agent-engine=openssl");
        }
        case "flags" -> {
          // B adds the JVM flags of -Dcapgate.bench.ab.flags (space-separated): a flag's CPU cost.
          List<String> extra =
              List.of(System.getProperty("capgate.bench.ab.flags", "").trim().split("\\s+"));
          a = new Side("A", "Capgate, image flags", 14001);
          b = new Side("B", "Capgate, image flags + " + String.join(" ", extra), PORT_B);
          sessionB = f.sessionFile;
          flagsB.addAll(extra);
        }
        case "jar" -> {
          // A runs another build of the sidecar (-Dcapgate.bench.ab.jarA, e.g. a copy of the
          // target/ jar, lib/ and native/ before a change), B this one: a code change's cost.
          jarA =
              Bench.snapshot(
                  Path.of(System.getProperty("capgate.bench.ab.jarA", "")).toAbsolutePath(),
                  "sidecar-a");
          a = new Side("A", "Capgate, " + jarA, 14001);
          b = new Side("B", "Capgate, " + options.sidecarJar(), PORT_B);
          sessionB = f.sessionFile;
        }
        default ->
            throw new IllegalArgumentException(
                "--ab "
                    + options.variant()
                    + ": limits, c1, agent-tls, flags or jar (see Bench's javadoc)");
      }
      try {
        routeTo(a);
        a.proxy = f.capgate(jarA, flagsA, f.sessionFile, List.of());
        a.rssIdle = DataPlaneFixture.settledRss(a.proxy.pid());
        routeTo(b);
        b.proxy =
            f.capgate(
                options.sidecarJar(),
                flagsB,
                sessionB,
                List.of(
                    "--proxy-port", "" + PORT_B, "--dns-port", "14054", "--admin-port", "14022"));
        b.rssIdle = DataPlaneFixture.settledRss(b.proxy.pid());
        setups.put("A", a.what + ": " + a.proxy.setup());
        setups.put("B", b.what + ": " + b.proxy.setup());
        for (Side s : List.of(a, b)) {
          routeTo(s);
          f.warmUp(s.label, BenchPod.AGENT_UID, true, options.warmUp());
          f.warmUp(s.label, BenchPod.AGENT_UID, false, options.warmUp());
        }
        List<Table> tables = new ArrayList<>();
        JsonArray cells = new JsonArray();
        Table t =
            new Table(
                "Data plane A/B — "
                    + options.variant()
                    + ": A = "
                    + a.what
                    + ", B = "
                    + b.what
                    + " ("
                    + options.rounds()
                    + " rounds of "
                    + options.duration().toSeconds()
                    + " s per cell, ABBA order)",
                "cell",
                "figure",
                "A median",
                "B median",
                "B − A median",
                "B − A min..max",
                "B − A %",
                "B > A",
                "noise: same sidecar twice, min..max",
                "beyond the noise?");
        for (Cell c : CELLS) {
          List<Run> runs = measure(c);
          for (Figure fig : c.paced() ? PACED_FIGURES : KEEP_ALIVE_FIGURES) {
            cells.add(compare(t, c, fig, runs));
          }
        }
        for (Side s : List.of(a, b)) {
          s.rssAfter = DataPlaneFixture.settledRss(s.proxy.pid());
        }
        t.note(
            "B − A: per round, the two runs next to each other; noise: the later minus the earlier of"
                + " two runs of the same sidecar next to each other (round boundaries), same cell.");
        t.note(
            "beyond the noise: B − A has the same sign in every round and its median lies outside the"
                + " noise pairs' min..max; otherwise it is not told apart from drift in "
                + options.rounds()
                + " rounds.");
        tables.add(t);
        Table m =
            new Table(
                "Data plane A/B — " + options.variant() + ": sidecar memory (VmRSS, MiB)",
                "sidecar",
                "idle (started, 1 request)",
                "under load (max)",
                "idle after the runs");
        JsonObject rss = new JsonObject();
        for (Side s : List.of(a, b)) {
          m.row(
              s.label + " " + s.what,
              DataPlaneBench.f1(s.rssIdle),
              DataPlaneBench.f1(s.rssLoad.get()),
              DataPlaneBench.f1(s.rssAfter));
          rss.put(
              s.label,
              new JsonObject()
                  .put("what", s.what)
                  .put("idleMiB", s.rssIdle)
                  .put("underLoadMiB", s.rssLoad.get())
                  .put("afterMiB", s.rssAfter));
        }
        tables.add(m);
        Table setup = new Table("Data plane A/B — setup", "what", "how");
        setups.forEach(setup::row);
        tables.add(setup);
        tables.forEach(section::add);
        section
            .json
            .put("variant", options.variant())
            .put("rounds", options.rounds())
            .put("secondsPerRun", options.duration().toSeconds())
            .put("cells", cells)
            .put("rss", rss)
            .put("setup", new JsonObject(new LinkedHashMap<>(setups)));
      } finally {
        for (Side s : List.of(a, b)) {
          if (s != null && s.proxy != null) {
            s.proxy.close();
          }
        }
        routeTo(new Side("-", "-", 14001));
      }
    }
  }

  /** Points the pod's REDIRECT rule (IPv4 and IPv6) at {@code side}'s listener. */
  private void routeTo(Side side) {
    for (String tool : List.of("iptables", "ip6tables")) {
      fixture
          .pod
          .runInPod(
              null,
              Duration.ofSeconds(20),
              List.of(
                  tool,
                  "-w",
                  "-t",
                  "nat",
                  "-R",
                  InterceptionRules.REDIRECT_CHAIN,
                  "1",
                  "-p",
                  "tcp",
                  "-j",
                  "REDIRECT",
                  "--to-ports",
                  "" + side.port))
          .requireSuccess();
    }
  }

  /** The rounds of one cell, ABBA order. */
  private List<Run> measure(Cell c) {
    Bench.say("data plane A/B: " + c.name() + " (load " + Proc.loadAverage() + ")");
    List<Run> runs = new ArrayList<>();
    int index = 0;
    for (int round = 0; round < options.rounds(); round++) {
      for (Side s : round % 2 == 0 ? List.of(a, b) : List.of(b, a)) {
        runs.add(runOnce(c, s, round, index++));
      }
    }
    return runs;
  }

  private Run runOnce(Cell c, Side s, int round, int index) {
    Side other = s == a ? b : a;
    routeTo(s);
    long pid = s.proxy.pid();
    double cpu0 = Proc.cpuSeconds(pid);
    double otherCpu0 = Proc.cpuSeconds(other.proxy.pid());
    AtomicBoolean sampling = new AtomicBoolean(!c.paced());
    Thread sampler =
        Thread.ofVirtual()
            .start(
                () -> {
                  while (sampling.get()) {
                    s.rssLoad.accumulate(Proc.rssMiB(pid));
                    DataPlaneFixture.sleep(200);
                  }
                });
    H2load.Result r =
        c.paced()
            ? fixture.paced(BenchPod.AGENT_UID, c.h1(), options.duration())
            : fixture.keepAlive(BenchPod.AGENT_UID, c.h1(), options.duration());
    double cpu = Proc.cpuSeconds(pid) - cpu0;
    double otherCpu = Proc.cpuSeconds(other.proxy.pid()) - otherCpu0;
    sampling.set(false);
    try {
      sampler.join();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    if (!r.clean()) {
      throw new IllegalStateException(c.name() + " on " + s.label + ": " + r.problems());
    }
    // The other sidecar does next to nothing idle; half of this one's CPU would mean misrouting.
    if (otherCpu > Math.max(0.2, cpu * 0.5)) {
      throw new IllegalStateException(
          c.name()
              + ": "
              + other.label
              + " used "
              + otherCpu
              + " CPU s while "
              + s.label
              + " was measured ("
              + cpu
              + "): the traffic did not go where it was sent");
    }
    Bench.say(
        "  round "
            + (round + 1)
            + " "
            + s.label
            + ": "
            + DataPlaneBench.f0(r.rps())
            + " rps"
            + (c.paced()
                ? ", p50 "
                    + DataPlaneBench.f3(r.latencyMs().percentile(50))
                    + " ms, p99 "
                    + DataPlaneBench.f3(r.latencyMs().percentile(99))
                    + " ms"
                : "")
            + ", CPU "
            + DataPlaneBench.f2(cpu)
            + " s");
    return new Run(s, round, index, r, cpu);
  }

  /** Adds the row of one figure of one cell; returns its figures for results.json. */
  private JsonObject compare(Table t, Cell c, Figure fig, List<Run> runs) {
    List<Double> av = new ArrayList<>();
    List<Double> bv = new ArrayList<>();
    List<Double> diffs = new ArrayList<>();
    List<Double> noise = new ArrayList<>();
    for (int round = 0; round < options.rounds(); round++) {
      Run ra = runs.get(2 * round).side() == a ? runs.get(2 * round) : runs.get(2 * round + 1);
      Run rb = ra == runs.get(2 * round) ? runs.get(2 * round + 1) : runs.get(2 * round);
      double va = fig.value().applyAsDouble(ra);
      double vb = fig.value().applyAsDouble(rb);
      av.add(va);
      bv.add(vb);
      diffs.add(vb - va);
    }
    for (int i = 1; i < runs.size(); i++) {
      Run earlier = runs.get(i - 1);
      Run later = runs.get(i);
      if (earlier.side() == later.side()) {
        noise.add(fig.value().applyAsDouble(later) - fig.value().applyAsDouble(earlier));
      }
    }
    Stats sa = Stats.of(av);
    Stats sb = Stats.of(bv);
    Stats sd = Stats.of(diffs);
    Stats sn = Stats.of(noise);
    double medianDiff = median(diffs);
    double noiseMin = sn.percentile(0);
    double noiseMax = sn.max();
    long bHigher = diffs.stream().filter(d -> d > 0).count();
    // Beyond the noise only when every round agrees on the sign (a sign test: 6 of 6 has p ≈ 0.03)
    // and the median difference lies outside what two runs of the same sidecar differed by.
    boolean sameSign = bHigher == 0 || bHigher == diffs.size();
    boolean beyond =
        sameSign && (noise.isEmpty() || medianDiff < noiseMin || medianDiff > noiseMax);
    int dec = fig.decimals();
    t.row(
        c.name(),
        fig.name(),
        Proc.fmt(median(av), dec),
        Proc.fmt(median(bv), dec),
        signed(medianDiff, dec),
        signed(sd.percentile(0), dec) + ".." + signed(sd.max(), dec),
        signed(medianDiff / median(av) * 100, 1) + " %",
        bHigher + "/" + diffs.size(),
        noise.isEmpty() ? "—" : signed(noiseMin, dec) + ".." + signed(noiseMax, dec),
        beyond ? (medianDiff > 0 ? "yes, B higher" : "yes, B lower") : "no");
    return new JsonObject()
        .put("cell", c.name())
        .put("figure", fig.name())
        .put("a", new JsonArray(av))
        .put("b", new JsonArray(bv))
        .put("medianA", median(av))
        .put("medianB", median(bv))
        .put("bMinusA", new JsonArray(diffs))
        .put("medianBMinusA", medianDiff)
        .put("noiseSameSidecar", new JsonArray(noise))
        .put("beyondNoise", beyond)
        .put("meanA", sa.mean())
        .put("meanB", sb.mean());
  }

  /** The middle value (mean of the two middle ones for an even count). */
  static double median(List<Double> values) {
    double[] v = values.stream().mapToDouble(Double::doubleValue).sorted().toArray();
    if (v.length == 0) {
      return Double.NaN;
    }
    return v.length % 2 == 1 ? v[v.length / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
  }

  private static String signed(double v, int decimals) {
    return Double.isNaN(v) ? "—" : (v >= 0 ? "+" : "") + Proc.fmt(v, decimals);
  }
}
