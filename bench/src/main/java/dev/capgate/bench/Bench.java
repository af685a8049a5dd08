package dev.capgate.bench;

import dev.capgate.sidecar.netns.Command;
import io.vertx.core.json.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;

/**
 * {@code make bench}: runs the sections, prints their tables, writes {@code
 * target/bench/results.json} (and {@code results.md}) in the bench module's directory.
 *
 * <pre>
 *   Bench [--sections dataplane,controlplane,memory,sidecar-memory,operator-memory,startup,limiter,dataplane-ab] [--sidecar-flag F] [--duration 10] [--warm-up 5] [--pods 200]
 *         [--trials 20] [--sidecars 3] [--starts 10] [--sessions 1000] [--no-peers] [--quick]
 *         [--scale-pods 2000] [--scale-rate 50] [--scale-sessions 200]
 *         [--steps admission,admission-at-scale,start-to-ready,revocation]
 *         [--ab limits|c1|agent-tls|flags|jar] [--rounds 6]
 * </pre>
 *
 * Not in the default sections: {@code limiter} (the limiter's per-request cost in-process, {@link
 * LimiterBench}) and {@code dataplane-ab} (two sidecars measured interleaved, {@link
 * DataPlaneAbBench}; {@code --ab} picks what differs, {@code --duration} is then the length of one
 * run, {@code --rounds} how many ABBA rounds per cell).
 *
 * <p>Needs root (network namespaces, iptables), h2load, squid-openssl, a mitmproxy venv ({@code
 * bench/bench-tools.sh} installs them) and the tools of {@code make tools}.
 */
public final class Bench {
  /**
   * The JVM_FLAGS of sidecar/Dockerfile (keep the two the same), but for {@code
   * -Djava.library.path}, whose directory is where the jar is: see {@link #sidecarFlags(Path)}.
   */
  static final List<String> IMAGE_JVM_FLAGS =
      List.of(
          "-XX:+UseSerialGC",
          "-XX:MaxRAMPercentage=75",
          "-XX:+ExitOnOutOfMemoryError",
          "-XX:+UseCompactObjectHeaders",
          "-XX:TrimNativeHeapInterval=5000",
          "-XX:MinHeapFreeRatio=10",
          "-XX:MaxHeapFreeRatio=20");

  private Bench() {}

  static void say(String line) {
    System.out.println("[bench " + Instant.now().toString().substring(11, 19) + "] " + line);
    System.out.flush();
  }

  public static void main(String[] args) throws Exception {
    Options o = Options.parse(args);
    Path out = Path.of("target", "bench").toAbsolutePath();
    Files.createDirectories(out);
    JsonObject results = new JsonObject();
    results.put("machine", machine());
    say("Capgate benchmarks — " + results.getJsonObject("machine").getString("summary"));
    List<Section> sections = new ArrayList<>();
    DataPlaneBench data = null;
    ControlPlaneBench control = null;
    SidecarMemoryBench sidecarMemory = null;
    try {
      if (o.sections.contains("dataplane")) {
        Section s = new Section("data plane");
        sections.add(s);
        try {
          data =
              new DataPlaneBench(
                  new DataPlaneBench.Options(
                      o.duration,
                      o.warmUp,
                      o.sidecarJar,
                      o.mitmVenv,
                      sidecarFlags(o.sidecarJar),
                      o.peers),
                  s);
          data.run();
        } catch (Exception e) {
          failed(s, e);
        }
        s.end();
      }
      if (o.sections.contains("limiter")) {
        Section s = new Section("limiter");
        sections.add(s);
        try {
          new LimiterBench(new LimiterBench.Options(41, 60), s).run();
        } catch (Exception e) {
          failed(s, e);
        }
        s.end();
      }
      if (o.sections.contains("dataplane-ab")) {
        Section s = new Section("data plane ab " + o.ab);
        sections.add(s);
        try {
          new DataPlaneAbBench(
                  new DataPlaneAbBench.Options(
                      o.ab,
                      o.rounds,
                      o.duration,
                      o.warmUp,
                      o.sidecarJar,
                      sidecarFlags(o.sidecarJar)),
                  s)
              .run();
        } catch (Exception e) {
          failed(s, e);
        }
        s.end();
      }
      if (o.sections.contains("memory") || o.sections.contains("sidecar-memory")) {
        // The sidecar's rows of the memory section (no API server needed: file mode).
        Section s = new Section("sidecar memory");
        sections.add(s);
        try {
          sidecarMemory =
              new SidecarMemoryBench(
                  new SidecarMemoryBench.Options(o.sidecarJar, sidecarFlags(o.sidecarJar)), s);
          sidecarMemory.run();
        } catch (Exception e) {
          failed(s, e);
        }
        s.end();
      }
      if (o.sections.contains("controlplane")
          || operatorMemory(o)
          || o.sections.contains("startup")) {
        control =
            new ControlPlaneBench(
                new ControlPlaneBench.Options(
                    o.pods,
                    o.trials,
                    o.sidecars,
                    o.starts,
                    o.sessions,
                    o.sidecarJar,
                    o.operatorJar,
                    sidecarFlags(o.sidecarJar),
                    o.sections.contains("controlplane"),
                    operatorMemory(o),
                    // Start-to-ready is part of the control plane section; "startup" runs it alone
                    // (no API server, no operator).
                    o.sections.contains("startup") && !o.sections.contains("controlplane"),
                    o.scalePods,
                    o.scaleRate,
                    o.scaleSessions,
                    o.steps),
                sections);
        control.run();
      }
    } finally {
      Section targets = new Section("targets");
      sections.add(targets);
      Targets.print(targets, data, control, sidecarMemory);
      targets.end();
      JsonObject bySection = new JsonObject();
      for (Section s : sections) {
        bySection.put(s.name.replace(' ', '-'), s.json);
      }
      results.put("sections", bySection);
      results.put("finishedAt", Instant.now().toString());
      results.put("loadAverageAtEnd", Proc.loadAverage());
      Files.writeString(out.resolve("results.json"), results.encodePrettily());
      StringBuilder md = new StringBuilder();
      for (Section s : sections) {
        for (Table t : s.tables) {
          md.append("**").append(t.title()).append("**\n\n").append(t.markdown()).append('\n');
        }
      }
      Files.writeString(out.resolve("results.md"), md);
      say("wrote " + out.resolve("results.json") + " and results.md");
    }
    System.exit(0);
  }

  private static final List<String> EXTRA_SIDECAR_FLAGS = new ArrayList<>();

  /**
   * The sidecar image's JVM flags, with the pod's 256 MiB memory limit as the JVM's RAM: the JNI
   * libraries from native/ beside the jar (the image's /opt/capgate/native), as the image loads
   * them.
   */
  static List<String> sidecarFlags(Path sidecarJar) {
    List<String> flags = new ArrayList<>(IMAGE_JVM_FLAGS);
    flags.add("-Djava.library.path=" + sidecarJar.resolveSibling("native"));
    flags.add("-XX:MaxRAM=256m");
    flags.addAll(EXTRA_SIDECAR_FLAGS);
    return flags;
  }

  /**
   * The operator's rows of the memory section: "memory" runs them with the sidecar's,
   * "operator-memory" alone (with "controlplane": the operator-only subset of the bench).
   */
  private static boolean operatorMemory(Options o) {
    return o.sections.contains("memory") || o.sections.contains("operator-memory");
  }

  private static void failed(Section s, Exception e) {
    say(s.name + " FAILED: " + e);
    e.printStackTrace(System.out);
    s.json.put("error", String.valueOf(e));
  }

  private static JsonObject machine() {
    String cpu =
        Command.run(List.of("sh", "-c", "grep -m1 'model name' /proc/cpuinfo | cut -d: -f2"))
            .stdout()
            .strip();
    int cores = Runtime.getRuntime().availableProcessors();
    String mem =
        Command.run(List.of("sh", "-c", "grep MemTotal /proc/meminfo | awk '{print int($2/1024)}'"))
            .stdout()
            .strip();
    String kernel = Command.run(List.of("uname", "-r")).stdout().strip();
    String java =
        System.getProperty("java.vm.name") + " " + System.getProperty("java.runtime.version");
    return new JsonObject()
        .put(
            "summary",
            cores
                + " cores ("
                + cpu
                + "), "
                + mem
                + " MiB, Linux "
                + kernel
                + ", "
                + java
                + "; load average "
                + Proc.loadAverage())
        .put("cores", cores)
        .put("cpu", cpu)
        .put("memoryMiB", mem)
        .put("kernel", kernel)
        .put("java", java)
        .put("loadAverageAtStart", Proc.loadAverage())
        .put("startedAt", Instant.now().toString())
        .put(
            "note",
            "shared machine: other work may run at the same time; see the load averages per section");
  }

  /** Command-line options. */
  static final class Options {
    Set<String> sections = Set.of("dataplane", "controlplane", "memory");
    Duration duration = Duration.ofSeconds(10);
    Duration warmUp = Duration.ofSeconds(20);
    int pods = 200;
    int trials = 20;
    int sidecars = 3;
    int starts = 10;
    int sessions = 1000;
    int scalePods = 2000;
    int scaleRate = 50;
    int scaleSessions = 200;
    Set<String> steps = Set.of("admission", "admission-at-scale", "start-to-ready", "revocation");
    boolean peers = true;
    String ab = "limits";
    int rounds = 6;
    Path sidecarJar =
        Path.of(
                System.getProperty(
                    "capgate.bench.sidecarJar", "../sidecar/target/capgate-sidecar.jar"))
            .toAbsolutePath()
            .normalize();
    Path operatorJar =
        Path.of(
                System.getProperty(
                    "capgate.bench.operatorJar", "../operator/target/capgate-operator.jar"))
            .toAbsolutePath()
            .normalize();
    Path mitmVenv =
        Path.of(
            System.getenv().getOrDefault("CAPGATE_BENCH_CACHE", "/var/cache/capgate/bench"),
            "mitmproxy-venv");

    static Options parse(String[] args) {
      Options o = new Options();
      for (int i = 0; i < args.length; i++) {
        String a = args[i];
        switch (a) {
          case "--sections" -> o.sections = Set.copyOf(Arrays.asList(args[++i].split(",")));
          case "--duration" -> o.duration = Duration.ofSeconds(Long.parseLong(args[++i]));
          case "--warm-up" -> o.warmUp = Duration.ofSeconds(Long.parseLong(args[++i]));
          case "--pods" -> o.pods = Integer.parseInt(args[++i]);
          case "--trials" -> o.trials = Integer.parseInt(args[++i]);
          case "--sidecars" -> o.sidecars = Integer.parseInt(args[++i]);
          case "--starts" -> o.starts = Integer.parseInt(args[++i]);
          case "--sessions" -> o.sessions = Integer.parseInt(args[++i]);
          case "--no-peers" -> o.peers = false;
          // A/B runs: e.g. --sidecar-flag -Dcapgate.tls.engine=jdk (repeatable).
          case "--sidecar-flag" -> EXTRA_SIDECAR_FLAGS.add(args[++i]);
          case "--scale-pods" -> o.scalePods = Integer.parseInt(args[++i]);
          case "--scale-rate" -> o.scaleRate = Integer.parseInt(args[++i]);
          case "--scale-sessions" -> o.scaleSessions = Integer.parseInt(args[++i]);
          case "--ab" -> o.ab = args[++i];
          case "--rounds" -> o.rounds = Integer.parseInt(args[++i]);
          case "--steps" -> o.steps = Set.copyOf(Arrays.asList(args[++i].split(",")));
          case "--quick" -> {
            o.duration = Duration.ofSeconds(3);
            o.warmUp = Duration.ofSeconds(2);
            o.pods = 20;
            o.trials = 3;
            o.starts = 2;
            o.sessions = 50;
            o.scalePods = 100;
            o.scaleSessions = 20;
          }
          default ->
              throw new IllegalArgumentException("unknown option " + a + " (see Bench's javadoc)");
        }
      }
      // The start-up section alone runs no operator.
      boolean operator = o.sections.contains("controlplane") || operatorMemory(o);
      // The limiter section alone runs in this JVM: no jar.
      boolean sidecar = !o.sections.equals(Set.of("limiter"));
      for (Path p :
          operator
              ? List.of(o.sidecarJar, o.operatorJar)
              : sidecar ? List.of(o.sidecarJar) : List.<Path>of()) {
        if (!Files.exists(p)) {
          throw new IllegalStateException(p + " is missing: build first (make build)");
        }
      }
      // Run copies: a build in another shell must not swap a jar under a running process.
      if (sidecar) {
        o.sidecarJar = snapshot(o.sidecarJar, "sidecar");
      }
      if (operator) {
        o.operatorJar = snapshot(o.operatorJar, "operator");
      }
      return o;
    }
  }

  /**
   * Copies {@code jar} and the lib/ (and native/, if any) beside it to target/bench/jars/{@code
   * name}/; returns the copy.
   */
  static Path snapshot(Path jar, String name) {
    try {
      Path dir = Path.of("target", "bench", "jars", name).toAbsolutePath();
      if (Files.exists(dir)) {
        try (var walk = Files.walk(dir)) {
          walk.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
      }
      Files.createDirectories(dir.resolve("lib"));
      // With their times: an AOT cache (-XX:AOTCache) trained on this copy checks the jars' mtimes,
      // so a copy made by the next run must look the same.
      var keep = java.nio.file.StandardCopyOption.COPY_ATTRIBUTES;
      try (var libs = Files.list(jar.resolveSibling("lib"))) {
        for (Path lib : libs.toList()) {
          Files.copy(lib, dir.resolve("lib").resolve(lib.getFileName()), keep);
        }
      }
      // The sidecar's JNI libraries (sidecar/pom.xml unpacks them), loaded through
      // java.library.path as in the image.
      Path natives = jar.resolveSibling("native");
      if (Files.isDirectory(natives)) {
        Files.createDirectories(dir.resolve("native"));
        try (var files = Files.list(natives)) {
          for (Path so : files.toList()) {
            Files.copy(so, dir.resolve("native").resolve(so.getFileName()), keep);
          }
        }
      }
      Path copy = Files.copy(jar, dir.resolve(jar.getFileName()), keep);
      // Readable by the proxy's uid on the way down (target/ is root's).
      Command.run(List.of("chmod", "-R", "a+rX", Path.of("target").toAbsolutePath().toString()))
          .requireSuccess();
      return copy;
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }
}
