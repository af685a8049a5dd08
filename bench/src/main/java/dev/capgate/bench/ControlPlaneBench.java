package dev.capgate.bench;

import static dev.capgate.api.v1alpha1.AgentSessionBuilder.kv2;
import static dev.capgate.api.v1alpha1.AgentSessionBuilder.rule;
import static dev.capgate.api.v1alpha1.HttpMethod.GET;
import static dev.capgate.api.v1alpha1.HttpMethod.POST;

import dev.capgate.api.sidecar.SidecarContract;
import dev.capgate.api.v1alpha1.AgentSession;
import dev.capgate.api.v1alpha1.AgentSessionBuilder;
import dev.capgate.api.v1alpha1.AgentSessionSpec;
import dev.capgate.api.v1alpha1.Phase;
import dev.capgate.sidecar.netns.Command;
import dev.capgate.sidecar.netns.UnixSocketBridge;
import dev.capgate.sidecar.netns.UpstreamServers;
import dev.capgate.sidecar.stack.AgentSessionCrd;
import dev.capgate.sidecar.stack.Sessions;
import dev.capgate.testkit.KubeControlPlane;
import dev.capgate.testkit.OpenBaoServer;
import dev.capgate.testkit.Pki;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.ServiceAccountBuilder;
import io.fabric8.kubernetes.api.model.rbac.PolicyRuleBuilder;
import io.fabric8.kubernetes.api.model.rbac.RoleBindingBuilder;
import io.fabric8.kubernetes.api.model.rbac.RoleBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.UnixDomainSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Section 2 (control plane) and the operator half of section 3 (memory), on the real API server and
 * OpenBao of the test kit, with the operator jar running in a process of its own:
 *
 * <ul>
 *   <li>admission: client-side pod create latency through the API server round trip, with the
 *       webhook (opted-in pods: CA mint included) and without (pods that do not opt in, which the
 *       webhook's objectSelector lets through untouched), interleaved;
 *   <li>sidecar start-to-ready, with and without a JDK 25 AOT cache made by a training run;
 *   <li>revocation: several sidecars in pod namespaces, in cluster mode against the API server,
 *       agents polling through them; delete the AgentSession, time to the first refusal;
 *   <li>operator RSS with many AgentSessions.
 * </ul>
 */
final class ControlPlaneBench {
  record Options(
      int pods,
      int trials,
      int sidecars,
      int starts,
      int sessions,
      Path sidecarJar,
      Path operatorJar,
      List<String> sidecarJvmFlags,
      boolean controlPlane,
      boolean memory,
      boolean startupOnly,
      int scalePods,
      int scaleRate,
      int scaleSessions,
      java.util.Set<String> steps) {}

  private static final KubernetesSerialization YAML = new KubernetesSerialization();

  private final Options options;
  private final List<Section> sections;
  private KubeControlPlane kube;
  private KubernetesClient admin;
  private OperatorProcess operator;
  private Path work;

  // Figures for the targets table.
  Stats admissionWith;
  Stats admissionWithout;
  OperatorProcess.PatchedAdmissions admissionInOperator;
  Stats scaleWith;
  Stats scaleWithout;
  int scaleErrors = -1;
  double scaleRssStart = Double.NaN;
  double scaleRssPeak = Double.NaN;
  double scaleRssEnd = Double.NaN;

  /**
   * What the webhook writes per injected pod besides the pod (CA Secret, and a ConfigMap before).
   */
  double perPodObjectsKiB = Double.NaN;

  Stats startPlain;
  Stats startAot;
  Stats startImageAot;

  /** CPU time (all threads) of the sidecar process at ready, per variant: same order as above. */
  Stats cpuPlain;

  Stats cpuAot;
  Stats cpuImageAot;
  int imageTrainingExit;
  Stats revocationPerSidecar;
  Stats revocationAll;
  double operatorRssIdle = Double.NaN;
  double operatorRssAfterControlPlane = Double.NaN;
  double operatorRssPeakControlPlane = Double.NaN;
  double operatorRssPeakSessions = Double.NaN;
  double operatorLiveHeapAfterControlPlane = Double.NaN;
  double operatorRssSessions = Double.NaN;
  int sessionsReconciled;

  ControlPlaneBench(Options options, List<Section> sections) {
    this.options = options;
    this.sections = sections;
  }

  void run() throws Exception {
    work = Path.of("target", "bench", "control-plane").toAbsolutePath();
    Files.createDirectories(work);
    Section cp = options.controlPlane() ? new Section("control plane") : null;
    if (cp != null) {
      sections.add(cp);
    }
    if (options.startupOnly()) {
      Section startup = new Section("start-up");
      sections.add(startup);
      step(startup, "start-to-ready", this::startToReady);
      startup.end();
      if (!options.memory()) {
        return;
      }
    }
    try {
      kube = KubeControlPlane.shared();
      admin = kube.client();
      AgentSessionCrd.install(kube);
      operator = OperatorProcess.start(kube, OpenBaoServer.shared(), options.operatorJar(), work);
      operatorRssIdle = settledRss(operator.pid());
      operator.nmt("idle");
      if (cp != null) {
        if (options.steps().contains("admission")) {
          step(cp, "admission", this::admission);
        }
        if (options.steps().contains("admission-at-scale") && options.scalePods() > 0) {
          step(cp, "admission at scale", this::admissionAtScale);
        }
        if (options.steps().contains("start-to-ready")) {
          step(cp, "start-to-ready", this::startToReady);
        }
        if (options.steps().contains("revocation")) {
          step(cp, "revocation", this::revocation);
        }
        cp.end();
      }
      if (options.memory()) {
        Section mem = new Section("memory");
        sections.add(mem);
        if (cp != null) {
          // What admissions and revocations left in the operator's JVM; then a fresh operator, so
          // that
          // the sessions' figure is about sessions only.
          operatorRssAfterControlPlane = settledRss(operator.pid());
          operatorRssPeakControlPlane = operator.peakRssMiB();
          operator.nmt("after-control-plane");
          operatorLiveHeapAfterControlPlane = liveHeapMiB(operator.pid());
          operator.close();
          operator =
              OperatorProcess.start(kube, OpenBaoServer.shared(), options.operatorJar(), work);
          operatorRssIdle = settledRss(operator.pid());
        }
        step(mem, "operator", this::operatorMemory);
        mem.end();
      }
    } finally {
      if (operator != null) {
        operator.close();
      }
    }
  }

  private interface Step {
    void run(Section s) throws Exception;
  }

  private void step(Section s, String name, Step step) {
    try {
      step.run(s);
    } catch (Exception e) {
      Bench.say(s.name + ": " + name + " FAILED: " + e);
      e.printStackTrace(System.out);
      s.json.put("error-" + name, String.valueOf(e));
    }
  }

  // ------------------------------------------------------------------ admission

  private void admission(Section s) {
    String ns = kube.newNamespace("bench-admission");
    admin
        .serviceAccounts()
        .inNamespace(ns)
        .resource(
            new ServiceAccountBuilder()
                .withNewMetadata()
                .withName("coding-agent")
                .endMetadata()
                .build())
        .create();
    AgentSession session =
        AgentSessionBuilder.session("bench-admission")
            .namespace(ns)
            .user("alice@example.com")
            .agent("coding-agent")
            .ttl("2h")
            .vaultRole("capgate-agent")
            .credential(kv2("github", "secret/data/github/{{user}}", "token").bearer())
            .egress(
                rule("github-api")
                    .hosts("api.github.com", "*.githubusercontent.com")
                    .methods(GET, POST)
                    .paths("/repos/acme/repo-a", "/repos/acme/repo-a/**")
                    .credential("github"))
            .build();
    admin.resource(session).create();
    awaitPhase(ns, "bench-admission", Phase.Active, Duration.ofSeconds(60));
    Bench.say(
        "admission: "
            + options.pods()
            + " pods with the webhook, "
            + options.pods()
            + " without, interleaved (+10 of each to warm up)");
    List<Double> with = new ArrayList<>();
    List<Double> without = new ArrayList<>();
    int injected = 0;
    OperatorProcess.PatchedAdmissions inOperatorBefore = null;
    for (int i = -10; i < options.pods(); i++) {
      if (i == 0) {
        inOperatorBefore = operator.patchedAdmissions();
      }
      for (boolean opted : new boolean[] {true, false}) {
        Pod pod = pod((opted ? "agent-" : "plain-") + (i + 10), opted);
        pod.getMetadata().setNamespace(ns);
        long t0 = System.nanoTime();
        Pod stored = admin.resource(pod).create();
        double ms = (System.nanoTime() - t0) / 1e6;
        if (i < 0) {
          continue;
        }
        if (opted) {
          with.add(ms);
          if ("injected"
              .equals(
                  stored.getMetadata().getAnnotations() == null
                      ? null
                      : stored.getMetadata().getAnnotations().get("capgate.dev/status"))) {
            injected++;
          }
        } else {
          without.add(ms);
        }
      }
    }
    admissionWith = Stats.of(with);
    admissionWithout = Stats.of(without);
    admissionInOperator = operator.patchedAdmissions().minus(inOperatorBefore);
    // What each admission writes besides the pod: the per-pod CA's ConfigMap and Secret.
    Pod sample = admin.pods().inNamespace(ns).withName("agent-10").get();
    String caName =
        sample == null || sample.getMetadata().getAnnotations() == null
            ? null
            : sample.getMetadata().getAnnotations().get("capgate.dev/ca");
    double cmKiB = Double.NaN;
    double secretKiB = Double.NaN;
    if (caName != null) {
      var cm = admin.configMaps().inNamespace(ns).withName(caName).get();
      var secret = admin.secrets().inNamespace(ns).withName(caName).get();
      cmKiB = cm == null ? Double.NaN : YAML.asJson(cm).length() / 1024.0;
      secretKiB = secret == null ? Double.NaN : YAML.asJson(secret).length() / 1024.0;
      perPodObjectsKiB = (Double.isNaN(cmKiB) ? 0 : cmKiB) + secretKiB;
    }
    JsonObject j =
        new JsonObject()
            .put("pods", options.pods())
            .put("injected", injected)
            .put("caConfigMapKiB", Double.isNaN(cmKiB) ? null : cmKiB)
            .put("caSecretKiB", Double.isNaN(secretKiB) ? null : secretKiB)
            .put("withWebhook", stats(admissionWith))
            .put("withoutWebhook", stats(admissionWithout))
            .put("inOperatorMeanMs", nan(admissionInOperator.meanMs()))
            .put(
                "method",
                "client-side fabric8 create() (JDK HTTP client, keep-alive) of a Pod, sequential;"
                    + " opted-in pods go through the MutatingWebhook (session lookup, per-pod CA mint: EC P-256 key;"
                    + " since issue 13 the CA Secret is written after the answer), the others are not"
                    + " sent to it (objectSelector)");
    s.json.put("admission", j);
    Table t =
        new Table(
            "Control plane — pod admission through the real API server ("
                + options.pods()
                + " pods each, ms, client-side create latency)",
            "pods",
            "n",
            "p50",
            "p90",
            "p99",
            "max",
            "p50 × without",
            "p99 × without");
    t.row(
        "with the webhook (injected: " + injected + ")",
        admissionWith.count(),
        f2(admissionWith.percentile(50)),
        f2(admissionWith.percentile(90)),
        f2(admissionWith.percentile(99)),
        f2(admissionWith.max()),
        f2(admissionWith.percentile(50) / admissionWithout.percentile(50)) + "×",
        f2(admissionWith.percentile(99) / admissionWithout.percentile(99)) + "×");
    t.row(
        "without (not opted in)",
        admissionWithout.count(),
        f2(admissionWithout.percentile(50)),
        f2(admissionWithout.percentile(90)),
        f2(admissionWithout.percentile(99)),
        f2(admissionWithout.max()),
        "1.00×",
        "1.00×");
    t.row(
        "inside the operator's call (mean, its own timer; "
            + admissionInOperator.count()
            + " patched)",
        null,
        f2(admissionInOperator.meanMs()),
        null,
        null,
        null,
        null,
        null);
    t.row(
        "added by the webhook",
        null,
        signed(admissionWith.percentile(50) - admissionWithout.percentile(50)),
        signed(admissionWith.percentile(90) - admissionWithout.percentile(90)),
        signed(admissionWith.percentile(99) - admissionWithout.percentile(99)),
        null,
        null,
        null);
    t.note(
        Double.isNaN(cmKiB)
            ? "Each admitted pod also gets its CA Secret ("
                + f1(secretKiB)
                + " KiB; operators since issue 13 write it after answering, older ones inside the"
                + " call); no per-pod ConfigMap (the system roots are one ConfigMap per namespace)."
            : "Each admitted pod also writes its CA: a ConfigMap of "
                + f1(cmKiB)
                + " KiB (pod CA + the system roots as PEM and PKCS#12) and a Secret of "
                + f1(secretKiB)
                + " KiB, from inside the webhook call.");
    s.add(t);
    admin.namespaces().withName(ns).delete();
  }

  // ------------------------------------------------------------------ admission at scale

  /**
   * Issue 13's "admission at scale": {@code scalePods} opted-in pods created at {@code scaleRate}
   * per second (open loop: a create is started on time whether or not the previous ones finished),
   * spread over {@code scaleSessions} sessions in 10 namespaces, against the API server only (no
   * kubelet: the pods never run). One pod that does not opt in every 4th tick gives the API
   * server's own latency at the same moment. The operator's RSS is sampled every second.
   */
  private void admissionAtScale(Section s) throws Exception {
    int namespaces = 10;
    int sessionsPerNamespace = Math.max(1, options.scaleSessions() / namespaces);
    List<String> nss = new ArrayList<>();
    for (int i = 0; i < namespaces; i++) {
      String ns = kube.newNamespace("bench-scale");
      nss.add(ns);
      admin
          .serviceAccounts()
          .inNamespace(ns)
          .resource(
              new ServiceAccountBuilder()
                  .withNewMetadata()
                  .withName("coding-agent")
                  .endMetadata()
                  .build())
          .create();
      for (int k = 0; k < sessionsPerNamespace; k++) {
        admin.resource(scaleSession(ns, "scale-" + k)).create();
      }
    }
    for (String ns : nss) {
      for (int k = 0; k < sessionsPerNamespace; k++) {
        awaitPhase(ns, "scale-" + k, Phase.Active, Duration.ofMinutes(3));
      }
    }
    int n = options.scalePods();
    int rate = options.scaleRate();
    Bench.say(
        "admission at scale: "
            + n
            + " pods at "
            + rate
            + "/s over "
            + namespaces * sessionsPerNamespace
            + " sessions in "
            + namespaces
            + " namespaces (+1 plain pod every 4th tick)");
    scaleRssStart = settledRss(operator.pid());
    OperatorProcess.PatchedAdmissions inOperatorBefore = operator.patchedAdmissions();
    List<Double> with = java.util.Collections.synchronizedList(new ArrayList<>());
    List<Double> without = java.util.Collections.synchronizedList(new ArrayList<>());
    AtomicInteger errors = new AtomicInteger();
    List<String> firstErrors = java.util.Collections.synchronizedList(new ArrayList<>());
    double[] peak = {scaleRssStart};
    var sampler = Executors.newSingleThreadScheduledExecutor();
    sampler.scheduleAtFixedRate(
        () -> peak[0] = Math.max(peak[0], Proc.rssMiB(operator.pid())), 1, 1, TimeUnit.SECONDS);
    ExecutorService creators = Executors.newVirtualThreadPerTaskExecutor();
    // At most this many creates in flight: the JDK HTTP client fails a request beyond the API
    // server's HTTP/2 stream limit ("too many concurrent streams") instead of queueing it. When the
    // system falls behind, ticks wait for a slot: the achieved rate is reported.
    java.util.concurrent.Semaphore inFlight = new java.util.concurrent.Semaphore(MAX_IN_FLIGHT);
    List<CompletableFuture<Void>> all = new ArrayList<>();
    long start = System.nanoTime();
    long periodNanos = 1_000_000_000L / rate;
    for (int i = 0; i < n; i++) {
      long due = start + i * periodNanos;
      long wait = due - System.nanoTime();
      if (wait > 0) {
        java.util.concurrent.locks.LockSupport.parkNanos(wait);
      }
      String ns = nss.get(i % namespaces);
      String session = "scale-" + ((i / namespaces) % sessionsPerNamespace);
      List<Boolean> kinds = i % 4 == 0 ? List.of(true, false) : List.of(true);
      for (boolean opted : kinds) {
        int index = i;
        inFlight.acquireUninterruptibly();
        all.add(
            CompletableFuture.runAsync(
                () -> {
                  Pod pod = pod((opted ? "agent-" : "plain-") + index, opted);
                  pod.getMetadata().setNamespace(ns);
                  if (opted) {
                    pod.getMetadata().getLabels().put("capgate.dev/session", session);
                  }
                  long t0 = System.nanoTime();
                  try {
                    Pod stored = admin.resource(pod).create();
                    double ms = (System.nanoTime() - t0) / 1e6;
                    boolean injected =
                        stored.getMetadata().getAnnotations() != null
                            && "injected"
                                .equals(
                                    stored
                                        .getMetadata()
                                        .getAnnotations()
                                        .get("capgate.dev/status"));
                    if (opted && !injected) {
                      throw new IllegalStateException(
                          "pod " + pod.getMetadata().getName() + " not injected");
                    }
                    (opted ? with : without).add(ms);
                  } catch (RuntimeException e) {
                    errors.incrementAndGet();
                    if (firstErrors.size() < 3) {
                      Throwable cause = e.getCause() == null ? e : e.getCause();
                      firstErrors.add(e.getMessage() + " (" + cause + ")");
                    }
                  } finally {
                    inFlight.release();
                  }
                },
                creators));
      }
    }
    CompletableFuture.allOf(all.toArray(CompletableFuture[]::new)).get(10, TimeUnit.MINUTES);
    double seconds = (System.nanoTime() - start) / 1e9;
    OperatorProcess.PatchedAdmissions inOperator =
        operator.patchedAdmissions().minus(inOperatorBefore);
    double achievedRate = n / seconds;
    creators.shutdown();
    // Let the reconciler hand every CA to its pod, then see what stayed.
    OperatorProcess.sleep(10_000);
    // Every injected pod's CA Secret must exist by now (the webhook may store it after answering):
    // a missing one is a pod that would never start, counted as an error.
    int missingCas = 0;
    for (String ns : nss) {
      java.util.Set<String> stored = new java.util.HashSet<>();
      admin
          .secrets()
          .inNamespace(ns)
          .withLabel("capgate.dev/component", "pod-ca")
          .list()
          .getItems()
          .forEach(x -> stored.add(x.getMetadata().getName()));
      for (Pod p :
          admin.pods().inNamespace(ns).withLabel("capgate.dev/session").list().getItems()) {
        String ca =
            p.getMetadata().getAnnotations() == null
                ? null
                : p.getMetadata().getAnnotations().get("capgate.dev/ca");
        if (ca != null && !stored.contains(ca)) {
          missingCas++;
        }
      }
    }
    if (missingCas > 0) {
      errors.addAndGet(missingCas);
      firstErrors.add(missingCas + " injected pods without their CA Secret 10 s after the burst");
    }
    sampler.shutdownNow();
    scaleRssEnd = settledRss(operator.pid());
    scaleRssPeak = Math.max(peak[0], scaleRssEnd);
    double liveHeap = liveHeapMiB(operator.pid());
    classHistogram(operator.pid(), "at-scale");
    scaleWith = Stats.of(with);
    scaleWithout = Stats.of(without);
    scaleErrors = errors.get();
    for (String e : firstErrors) {
      Bench.say("admission at scale: error: " + e);
    }
    s.json.put(
        "admissionAtScale",
        new JsonObject()
            .put("pods", n)
            .put("ratePerSecond", rate)
            .put("sessions", namespaces * sessionsPerNamespace)
            .put("namespaces", namespaces)
            .put("seconds", seconds)
            .put("achievedRatePerSecond", achievedRate)
            .put("maxInFlight", MAX_IN_FLIGHT)
            .put("errors", scaleErrors)
            .put("withWebhook", stats(scaleWith))
            .put("withoutWebhook", stats(scaleWithout))
            .put("inOperatorMeanMs", nan(inOperator.meanMs()))
            .put("operatorRssStartMiB", scaleRssStart)
            .put("operatorRssPeakMiB", scaleRssPeak)
            .put("operatorRssEndMiB", scaleRssEnd)
            .put("operatorLiveHeapEndMiB", nan(liveHeap)));
    Table t =
        new Table(
            "Control plane — admission at scale ("
                + n
                + " pods at "
                + rate
                + "/s, "
                + namespaces * sessionsPerNamespace
                + " sessions, API server only; ms, client-side create latency)",
            "pods",
            "n",
            "p50",
            "p90",
            "p99",
            "max",
            "errors");
    t.row(
        "with the webhook",
        scaleWith.count(),
        f2(scaleWith.percentile(50)),
        f2(scaleWith.percentile(90)),
        f2(scaleWith.percentile(99)),
        f2(scaleWith.max()),
        scaleErrors);
    t.row(
        "without (not opted in)",
        scaleWithout.count(),
        f2(scaleWithout.percentile(50)),
        f2(scaleWithout.percentile(90)),
        f2(scaleWithout.percentile(99)),
        f2(scaleWithout.max()),
        null);
    t.row(
        "inside the operator's call (mean, its own timer; " + inOperator.count() + " patched)",
        null,
        f2(inOperator.meanMs()),
        null,
        null,
        null,
        null);
    t.row(
        "added by the webhook",
        null,
        signed(scaleWith.percentile(50) - scaleWithout.percentile(50)),
        signed(scaleWith.percentile(90) - scaleWithout.percentile(90)),
        signed(scaleWith.percentile(99) - scaleWithout.percentile(99)),
        null,
        null);
    t.note(
        "Operator RSS: "
            + f1(scaleRssStart)
            + " MiB before, "
            + f1(scaleRssPeak)
            + " peak, "
            + f1(scaleRssEnd)
            + " after (live heap "
            + f1(liveHeap)
            + " MiB); took "
            + f1(seconds)
            + " s: "
            + f1(achievedRate)
            + " pods/s achieved (at most "
            + MAX_IN_FLIGHT
            + " creates in flight).");
    s.add(t);
    for (String ns : nss) {
      admin.namespaces().withName(ns).delete();
    }
  }

  static final int MAX_IN_FLIGHT = 64;

  private static AgentSession scaleSession(String ns, String name) {
    return AgentSessionBuilder.session(name)
        .namespace(ns)
        .user("alice@example.com")
        .agent("coding-agent")
        .ttl("2h")
        .vaultRole("capgate-agent")
        .credential(kv2("github", "secret/data/github/{{user}}", "token").bearer())
        .egress(
            rule("github-api")
                .hosts("api.github.com", "*.githubusercontent.com")
                .methods(GET, POST)
                .paths("/repos/acme/repo-a", "/repos/acme/repo-a/**")
                .credential("github"))
        .build();
  }

  private static Pod pod(String name, boolean optIn) {
    PodBuilder b =
        new PodBuilder()
            .withNewMetadata()
            .withName(name)
            .endMetadata()
            // An explicit uid, as capgate requires of agent containers (both kinds of pod alike).
            .withNewSpec()
            .withServiceAccountName("coding-agent")
            .withNewSecurityContext()
            .withRunAsUser(1000L)
            .endSecurityContext()
            .addNewContainer()
            .withName("agent")
            .withImage("registry.example/agent:1.0")
            .endContainer()
            .endSpec();
    if (optIn) {
      b.editMetadata()
          .addToLabels("capgate.dev/inject", "true")
          .addToLabels("capgate.dev/session", "bench-admission")
          .endMetadata();
    }
    return b.build();
  }

  // ------------------------------------------------------------------ start-to-ready

  private void startToReady(Section s) throws IOException {
    try (BenchPod pod = BenchPod.create("bench-startup", options.sidecarJar())) {
      Path dir = pod.scratch();
      Pki ca = new Pki("capgate pod CA (bench startup)");
      // The pod CA as the webhook mounts it: ca.crt and ca.key in CAPGATE_CA_DIR.
      Path caDir = Files.createDirectories(dir.resolve("pod-ca"));
      Path cert = Files.writeString(caDir.resolve(SidecarContract.CA_CERT), ca.caCertPem());
      Path key = Files.writeString(caDir.resolve(SidecarContract.CA_KEY), ca.caKeyPem());
      DataPlaneFixture.owned(key, BenchPod.PROXY_UID, "400");
      Path session =
          Files.writeString(
              dir.resolve("session.json"),
              AgentSessionBuilder.session("bench")
                  .namespace("agents")
                  .user("alice@example.com")
                  .agent("bench-agent")
                  .egress(
                      rule("github-api")
                          .hosts("api.github.test")
                          .methods(GET)
                          .paths("/repos/acme/repo-a/**"))
                  .json());
      Path poller = resource(dir, "readyz_poller.py");
      // Configured as a pod is: the mode alone on the command line, the settings in CAPGATE_*
      // variables (the webhook's way). Flags would load picocli, ~145 classes and 170-250 ms of CPU
      // that no pod pays (sidecar/README.md, "Start → ready").
      List<String> sidecarArgs = List.of("-jar", options.sidecarJar().toString(), "proxy");
      Map<String, String> sidecarEnv =
          Map.of(
              SidecarContract.envOf("session-file"),
              session.toString(),
              SidecarContract.ENV_CA_DIR,
              caDir.toString());

      // Training run: start, become ready, serve a few requests (allowed, denied), stop; the JVM
      // writes the cache as it exits. Same flags as the runs that use it.
      Path aot = dir.resolve("capgate-sidecar.aot");
      List<String> training = new ArrayList<>(List.of(BenchPod.JAVA));
      training.addAll(options.sidecarJvmFlags());
      training.add("-XX:AOTCacheOutput=" + aot);
      training.addAll(sidecarArgs);
      Path trainLog = dir.resolve("aot-training.log");
      long t0 = System.nanoTime();
      Process p = pod.start(pod.inPod(BenchPod.PROXY_UID, training), trainLog, sidecarEnv);
      String ready = awaitPoller(pod, poller);
      for (String path : List.of("/repos/acme/repo-a/issues", "/other")) {
        for (int i = 0; i < 3; i++) {
          for (List<String> protocol : List.of(List.<String>of(), List.of("--http2"))) {
            List<String> curl =
                new ArrayList<>(List.of("curl", "-s", "-o", "/dev/null", "-m", "3"));
            curl.addAll(protocol);
            curl.addAll(List.of("--cacert", cert.toString(), "https://api.github.test" + path));
            pod.runInPod(BenchPod.AGENT_UID, Duration.ofSeconds(10), curl);
          }
        }
      }
      // The JVM writes the cache as it exits (in a child JVM): look once all of it has exited.
      boolean trainingExited = BenchPod.stopAndAwaitExit(p, Duration.ofSeconds(300));
      double trainingSeconds = (System.nanoTime() - t0) / 1e9;
      boolean haveAot = trainingExited && Files.exists(aot) && Files.size(aot) > 0;
      // What the Dockerfile does today: `java -XX:AOTCacheOutput=... -jar capgate-sidecar.jar
      // aot-train`.
      Path imageAot = dir.resolve("image-style.aot");
      List<String> imageTraining = new ArrayList<>(List.of(BenchPod.JAVA));
      imageTraining.addAll(options.sidecarJvmFlags());
      imageTraining.addAll(
          List.of(
              "-XX:AOTCacheOutput=" + imageAot,
              "-jar",
              options.sidecarJar().toString(),
              "aot-train"));
      Command.Result imageRun =
          pod.runInPod(BenchPod.PROXY_UID, Duration.ofSeconds(300), imageTraining);
      boolean haveImageAot = Files.exists(imageAot) && Files.size(imageAot) > 0;
      imageTrainingExit = imageRun.exitCode();
      Bench.say(
          "start-to-ready: AOT training run "
              + (ready == null ? "never got ready" : "ready")
              + ", cache "
              + (haveAot
                  ? Files.size(aot) / (1024 * 1024) + " MiB"
                  : "NOT written"
                      + (trainingExited ? "" : " (the training JVM did not exit within 300 s)")
                      + ": "
                      + BenchPod.tail(trainLog)));

      List<Double> plain = new ArrayList<>();
      List<Double> withAot = new ArrayList<>();
      List<Double> withImageAot = new ArrayList<>();
      List<List<Double>> cpu = List.of(new ArrayList<>(), new ArrayList<>(), new ArrayList<>());
      for (int i = 0; i < options.starts(); i++) {
        for (int variant = 0; variant < 3; variant++) {
          Path cache = variant == 1 ? aot : variant == 2 ? imageAot : null;
          if ((variant == 1 && !haveAot) || (variant == 2 && !haveImageAot)) {
            continue;
          }
          List<String> cmd = new ArrayList<>(List.of(BenchPod.JAVA));
          cmd.addAll(options.sidecarJvmFlags());
          if (cache != null) {
            cmd.add("-XX:AOTCache=" + cache);
          }
          cmd.addAll(sidecarArgs);
          double[] ms =
              timeToReady(
                  pod, poller, cmd, sidecarEnv, dir.resolve("start-" + i + "-" + variant + ".log"));
          (variant == 0 ? plain : variant == 1 ? withAot : withImageAot).add(ms[0]);
          cpu.get(variant).add(ms[1]);
        }
      }
      startPlain = Stats.of(plain);
      startAot = haveAot ? Stats.of(withAot) : null;
      startImageAot = haveImageAot ? Stats.of(withImageAot) : null;
      cpuPlain = Stats.of(cpu.get(0));
      cpuAot = haveAot ? Stats.of(cpu.get(1)) : null;
      cpuImageAot = haveImageAot ? Stats.of(cpu.get(2)) : null;
      s.json.put(
          "startToReady",
          new JsonObject()
              .put("plain", stats(startPlain))
              .put("plainCpuMs", stats(cpuPlain))
              .put("aotCache", startAot == null ? null : stats(startAot))
              .put("aotCacheCpuMs", cpuAot == null ? null : stats(cpuAot))
              .put("aotCacheMiB", haveAot ? Files.size(aot) / (1024.0 * 1024) : null)
              .put("imageStyleAotCache", startImageAot == null ? null : stats(startImageAot))
              .put("imageStyleAotCacheCpuMs", cpuImageAot == null ? null : stats(cpuImageAot))
              .put(
                  "imageStyleAotCacheMiB",
                  haveImageAot ? Files.size(imageAot) / (1024.0 * 1024) : null)
              .put("imageStyleTrainingExit", imageTrainingExit)
              .put("trainingSeconds", trainingSeconds)
              .put(
                  "method",
                  "wall clock from just before the process is spawned (ip netns exec → setpriv → java) to the"
                      + " first 200 from /readyz, polled every 2 ms on the pod's loopback; configured through CAPGATE_* variables as by the webhook; CPU: the java process's"
                      + " utime + stime (all threads) read from /proc when the poller reports ready; file mode (session file, pod CA);"
                      + " JVM flags "
                      + String.join(" ", options.sidecarJvmFlags())));
      Table t =
          new Table(
              "Control plane — sidecar start-to-ready (process spawn → /readyz 200; "
                  + options.starts()
                  + " starts each, interleaved; ms)",
              "JVM",
              "n",
              "p50",
              "p90",
              "max",
              "p50 × plain",
              "CPU p50");
      t.row(
          "plain",
          startPlain.count(),
          f0(startPlain.percentile(50)),
          f0(startPlain.percentile(90)),
          f0(startPlain.max()),
          "1.00×",
          f0(cpuPlain.percentile(50)));
      if (startAot != null) {
        t.row(
            "AOT cache (-XX:AOTCache, " + Proc.fmt(Files.size(aot) / (1024.0 * 1024), 0) + " MiB)",
            startAot.count(),
            f0(startAot.percentile(50)),
            f0(startAot.percentile(90)),
            f0(startAot.max()),
            f2(startAot.percentile(50) / startPlain.percentile(50)) + "×",
            f0(cpuAot.percentile(50)));
      }
      if (startImageAot != null) {
        t.row(
            "AOT cache as sidecar/Dockerfile trains it (`aot-train`, "
                + Proc.fmt(Files.size(imageAot) / (1024.0 * 1024), 0)
                + " MiB)",
            startImageAot.count(),
            f0(startImageAot.percentile(50)),
            f0(startImageAot.percentile(90)),
            f0(startImageAot.max()),
            f2(startImageAot.percentile(50) / startPlain.percentile(50)) + "×",
            f0(cpuImageAot.percentile(50)));
      }
      t.note(
          "AOT cache: a training run (-XX:AOTCacheOutput) that starts the proxy, gets ready, serves 12 requests and"
              + " is stopped with SIGTERM.");
      t.note(
          "The Dockerfile's training runs `capgate-sidecar.jar aot-train` (AotTraining: proxy start, 480"
              + " TLS-intercepted h1/h2 requests to a loopback upstream, DNS, admin); it exited "
              + imageTrainingExit
              + (imageTrainingExit == 0 ? "" : " (the image would ship no cache)")
              + ".");
      s.add(t);
    }
  }

  /**
   * Wall ms from spawn to the first 200 from /readyz, and the process's CPU ms at that point (read
   * as soon as the poller reports: a few ms late, during which the post-ready leaf warm-up runs).
   */
  private double[] timeToReady(
      BenchPod pod, Path poller, List<String> sidecar, Map<String, String> env, Path log) {
    Process probe = startPoller(pod, poller);
    long t0 = epochNanos();
    Process p = pod.start(pod.inPod(BenchPod.PROXY_UID, sidecar), log, env);
    try {
      String line = readLine(probe, Duration.ofSeconds(60));
      if (line == null || !line.startsWith("ready ")) {
        throw new IllegalStateException("sidecar not ready: " + line + "\n" + BenchPod.tail(log));
      }
      double cpu = cpuMillis(p.pid());
      return new double[] {(Long.parseLong(line.substring(6).strip()) - t0) / 1e6, cpu};
    } finally {
      BenchPod.stop(p);
      BenchPod.stop(probe);
    }
  }

  /**
   * utime + stime of a process, all its threads, in ms. {@code ip netns exec}, {@code setpriv} and
   * {@code env} each exec the next, so the spawned process is the JVM itself.
   */
  private static double cpuMillis(long pid) {
    try {
      String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
      // Fields after the command name (which may hold spaces) in parentheses: state is field 3,
      // utime 14, stime 15.
      String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
      return (Long.parseLong(f[11]) + Long.parseLong(f[12])) * 1000.0 / CLOCK_TICKS;
    } catch (IOException e) {
      return Double.NaN;
    }
  }

  private static final long CLOCK_TICKS =
      Long.parseLong(Command.run(List.of("getconf", "CLK_TCK")).stdout().strip());

  /** Starts the poller and waits until it polls; returns its process (stdout: "ready <ns>"). */
  private Process startPoller(BenchPod pod, Path poller) {
    try {
      Process probe =
          new ProcessBuilder(pod.inPod(null, List.of("python3", "-u", poller.toString()))).start();
      String first = readLine(probe, Duration.ofSeconds(30));
      if (!"polling".equals(first)) {
        throw new IllegalStateException("poller did not start: " + first);
      }
      return probe;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private String awaitPoller(BenchPod pod, Path poller) {
    Process probe = startPoller(pod, poller);
    try {
      return readLine(probe, Duration.ofSeconds(60));
    } finally {
      BenchPod.stop(probe);
    }
  }

  // ------------------------------------------------------------------ revocation

  private void revocation(Section s) throws Exception {
    String ns = kube.newNamespace("bench-revocation");
    URI api = URI.create(kube.url());
    Path sock = work.resolve("kube-" + ProcessHandle.current().pid() + ".sock");
    List<BenchPod> pods = new ArrayList<>();
    List<Double> perSidecar = new ArrayList<>();
    List<Double> all = new ArrayList<>();
    JsonArray trials = new JsonArray();
    Pki ca = new Pki("capgate pod CA (bench revocation)");
    Pki upstreamCa = new Pki("bench upstream CA (revocation)");
    try (UnixSocketBridge kubeBridge =
        UnixSocketBridge.start(
            UnixDomainSocketAddress.of(sock),
            new InetSocketAddress(api.getHost(), api.getPort()))) {
      for (int i = 0; i < options.sidecars(); i++) {
        pods.add(revocationPod(i, ca, upstreamCa, api.getPort(), sock));
      }
      Bench.say(
          "revocation: " + options.trials() + " trials × " + options.sidecars() + " sidecars");
      for (int t = 0; t < options.trials(); t++) {
        JsonObject trial = revocationTrial(ns, "rev-" + t, pods);
        trials.add(trial);
        JsonArray ms = trial.getJsonArray("sidecarMs");
        double max = 0;
        for (int i = 0; i < ms.size(); i++) {
          perSidecar.add(ms.getDouble(i));
          max = Math.max(max, ms.getDouble(i));
        }
        all.add(max);
      }
    } finally {
      pods.forEach(BenchPod::close);
      Files.deleteIfExists(sock);
    }
    revocationPerSidecar = Stats.of(perSidecar);
    revocationAll = Stats.of(all);
    s.json.put(
        "revocation",
        new JsonObject()
            .put("trials", options.trials())
            .put("sidecars", options.sidecars())
            .put("perSidecar", stats(revocationPerSidecar))
            .put("allSidecarsOfTheSession", stats(revocationAll))
            .put("detail", trials)
            .put(
                "method",
                "sidecar jar in cluster mode in "
                    + options.sidecars()
                    + " pod namespaces (real init rules),"
                    + " watching the AgentSession through the real API server (bridged to the pod's 127.0.0.1), RBAC like the"
                    + " operator's; an agent (python, uid 1000) polls through each every 5 ms on keep-alive; t0 = just before"
                    + " the DELETE; latency = first 403 (or TLS refusal) after t0; the operator runs (finalizer)"));
    Table t =
        new Table(
            "Control plane — revocation: delete the AgentSession → first refused request ("
                + options.trials()
                + " trials × "
                + options.sidecars()
                + " sidecars; ms)",
            "measured",
            "n",
            "p50",
            "p90",
            "p99",
            "max");
    t.row(
        "each sidecar",
        revocationPerSidecar.count(),
        f0(revocationPerSidecar.percentile(50)),
        f0(revocationPerSidecar.percentile(90)),
        f0(revocationPerSidecar.percentile(99)),
        f0(revocationPerSidecar.max()));
    t.row(
        "all sidecars of the session",
        revocationAll.count(),
        f0(revocationAll.percentile(50)),
        f0(revocationAll.percentile(90)),
        f0(revocationAll.percentile(99)),
        f0(revocationAll.max()));
    t.note("Resolution: the agents poll every 5 ms (plus one request's time).");
    s.add(t);
    admin.namespaces().withName(ns).delete();
  }

  private BenchPod revocationPod(int i, Pki ca, Pki upstreamCa, int apiPort, Path sock)
      throws IOException {
    BenchPod pod = BenchPod.create("bench-revocation-" + i, options.sidecarJar());
    try {
      Path dir = pod.scratch();
      Files.writeString(dir.resolve("pod-ca.crt"), ca.caCertPem());
      DataPlaneFixture.owned(
          Files.writeString(dir.resolve("pod-ca.key"), ca.caKeyPem()), BenchPod.PROXY_UID, "400");
      Files.writeString(dir.resolve("upstream-ca.crt"), upstreamCa.caCertPem());
      upstreamCa
          .issueServer("upstream", List.of(BenchPod.UPSTREAM_HOST), List.of(UpstreamServers.V4))
          .writeTo(dir, "server");
      Path upLog = dir.resolve("upstream.log");
      Process up =
          pod.start(
              pod.inUpstream(
                  BenchUpstream.command(List.of("-Xmx64m", "-XX:TieredStopAtLevel=1"), dir, 1)),
              upLog,
              Map.of());
      Path bridgeLog = dir.resolve("bridge.log");
      Process bridge =
          pod.start(
              pod.inPod(
                  null,
                  List.of(
                      BenchPod.JAVA,
                      "-XX:+UseSerialGC",
                      "-Xmx32m",
                      "-XX:TieredStopAtLevel=1",
                      "-cp",
                      System.getProperty("java.class.path"),
                      Bridge.class.getName(),
                      "127.0.0.1:" + apiPort,
                      sock.toString())),
              bridgeLog,
              Map.of());
      BenchPod.awaitLine(up, upLog, "{\"ready\":true}", Duration.ofSeconds(60));
      BenchPod.awaitLine(bridge, bridgeLog, "{\"ready\":true}", Duration.ofSeconds(60));
      resource(dir, "revocation_probe.py");
      return pod;
    } catch (RuntimeException | IOException e) {
      pod.close();
      throw e;
    }
  }

  private JsonObject revocationTrial(String ns, String name, List<BenchPod> pods) throws Exception {
    AgentSessionSpec spec =
        Sessions.spec(
            null,
            List.of(),
            Sessions.rule(
                "github-api",
                BenchPod.UPSTREAM_HOST,
                "/repos/acme/repo-a",
                "/repos/acme/repo-a/**"));
    Sessions.create(admin, ns, name, spec);
    String account = "sidecar-" + name;
    admin
        .serviceAccounts()
        .inNamespace(ns)
        .resource(
            new ServiceAccountBuilder().withNewMetadata().withName(account).endMetadata().build())
        .create();
    admin
        .rbac()
        .roles()
        .inNamespace(ns)
        .resource(
            new RoleBuilder()
                .withNewMetadata()
                .withName(account)
                .endMetadata()
                .withRules(
                    new PolicyRuleBuilder()
                        .withApiGroups(AgentSession.GROUP)
                        .withResources("agentsessions")
                        .withResourceNames(name)
                        .withVerbs("get", "list", "watch")
                        .build())
                .build())
        .create();
    admin
        .rbac()
        .roleBindings()
        .inNamespace(ns)
        .resource(
            new RoleBindingBuilder()
                .withNewMetadata()
                .withName(account)
                .endMetadata()
                .withNewRoleRef("rbac.authorization.k8s.io", "Role", account)
                .addNewSubject()
                .withKind("ServiceAccount")
                .withName(account)
                .withNamespace(ns)
                .endSubject()
                .build())
        .create();
    awaitPhase(ns, name, Phase.Active, Duration.ofSeconds(60));
    String token = kube.serviceAccountToken(ns, account, Duration.ofHours(1));

    List<Process> sidecars = new ArrayList<>();
    List<Process> probes = new ArrayList<>();
    try {
      for (BenchPod pod : pods) {
        Path dir = pod.scratch();
        // What a pod's service-account mount holds (token, ca.crt), handed over with
        // --kube-api-dir/--kube-api-url since a bench pod has neither the mount nor the service.
        Path apiDir = Files.createDirectories(dir.resolve("kube-api-" + name));
        Files.writeString(apiDir.resolve("token"), token);
        Files.writeString(apiDir.resolve("ca.crt"), kube.caCertPem());
        DataPlaneFixture.owned(apiDir.resolve("token"), BenchPod.PROXY_UID, "400");
        Command.run(
                List.of(
                    "chown",
                    "-R",
                    BenchPod.PROXY_UID + ":" + BenchPod.PROXY_UID,
                    apiDir.toString()))
            .requireSuccess();
        List<String> cmd = new ArrayList<>(List.of(BenchPod.JAVA));
        cmd.addAll(options.sidecarJvmFlags());
        cmd.addAll(
            List.of(
                "-jar",
                options.sidecarJar().toString(),
                "proxy",
                "--session-namespace",
                ns,
                "--session-name",
                name,
                "--ca-cert",
                dir.resolve("pod-ca.crt").toString(),
                "--ca-key",
                dir.resolve("pod-ca.key").toString(),
                "--upstream-ca-file",
                dir.resolve("upstream-ca.crt").toString(),
                "--kube-api-url",
                kube.url(),
                "--kube-api-dir",
                apiDir.toString()));
        List<String> full = new ArrayList<>(pod.inPod(BenchPod.PROXY_UID, cmd));
        sidecars.add(
            pod.start(full, dir.resolve("sidecar-" + name + ".log"), BenchPod.SIDECAR_ENV));
      }
      for (BenchPod pod : pods) {
        Path dir = pod.scratch();
        probes.add(
            new ProcessBuilder(
                    pod.inPod(
                        BenchPod.AGENT_UID,
                        List.of(
                            "python3",
                            "-u",
                            dir.resolve("revocation_probe.py").toString(),
                            dir.resolve("pod-ca.crt").toString(),
                            BenchPod.UPSTREAM_HOST,
                            "/repos/acme/repo-a/issues")))
                .redirectError(ProcessBuilder.Redirect.DISCARD)
                .start());
      }
      for (int i = 0; i < probes.size(); i++) {
        String line = readLine(probes.get(i), Duration.ofSeconds(90));
        if (line == null || !line.contains("ready")) {
          throw new IllegalStateException(
              "probe "
                  + i
                  + " never got a 200: "
                  + line
                  + "\n"
                  + BenchPod.tail(pods.get(i).scratch().resolve("sidecar-" + name + ".log")));
        }
      }
      OperatorProcess.sleep(200);
      long t0 = epochNanos();
      admin.resources(AgentSession.class).inNamespace(ns).withName(name).delete();
      double deleteMs = (epochNanos() - t0) / 1e6;
      JsonArray ms = new JsonArray();
      JsonArray how = new JsonArray();
      for (int i = 0; i < probes.size(); i++) {
        String line = readLine(probes.get(i), Duration.ofSeconds(60));
        JsonObject o = line == null ? new JsonObject() : new JsonObject(line);
        if (!o.containsKey("denied")) {
          throw new IllegalStateException(
              "sidecar " + i + " never refused after the delete: " + line);
        }
        ms.add((o.getLong("denied") - t0) / 1e6);
        how.add(String.valueOf(o.getValue("status")));
      }
      return new JsonObject()
          .put("session", name)
          .put("deleteCallMs", deleteMs)
          .put("sidecarMs", ms)
          .put("refusal", how);
    } finally {
      sidecars.forEach(BenchPod::stop);
      probes.forEach(BenchPod::stop);
    }
  }

  // ------------------------------------------------------------------ memory

  private void operatorMemory(Section s) throws Exception {
    double idleLiveHeap = liveHeapMiB(operator.pid());
    String ns = kube.newNamespace("bench-sessions");
    int n = options.sessions();
    Bench.say("memory: applying " + n + " AgentSessions (4 writers)");
    long t0 = System.nanoTime();
    ExecutorService writers = Executors.newFixedThreadPool(4);
    AtomicInteger created = new AtomicInteger();
    List<CompletableFuture<Void>> futures = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      String name = "session-" + i;
      futures.add(
          CompletableFuture.runAsync(
              () -> {
                Sessions.create(
                    admin,
                    ns,
                    name,
                    Sessions.spec(
                        "8h", List.of(), Sessions.rule("api", "api.example.com", "/v1/**")));
                created.incrementAndGet();
              },
              writers));
    }
    CompletableFuture.allOf(futures.toArray(CompletableFuture[]::new)).get(10, TimeUnit.MINUTES);
    writers.shutdown();
    double applySeconds = (System.nanoTime() - t0) / 1e9;
    Instant deadline = Instant.now().plus(Duration.ofMinutes(10));
    int active = 0;
    double peak = 0;
    while (Instant.now().isBefore(deadline)) {
      peak = Math.max(peak, Proc.rssMiB(operator.pid()));
      active =
          (int)
              admin.resources(AgentSession.class).inNamespace(ns).list().getItems().stream()
                  .filter(x -> x.getStatus() != null && x.getStatus().phase() == Phase.Active)
                  .count();
      if (active >= n) {
        break;
      }
      OperatorProcess.sleep(1000);
    }
    double reconcileSeconds = (System.nanoTime() - t0) / 1e9;
    sessionsReconciled = active;
    OperatorProcess.sleep(5000);
    operatorRssSessions = settledRss(operator.pid());
    peak = Math.max(peak, Math.max(operatorRssSessions, operator.peakRssMiB()));
    operatorRssPeakSessions = peak;
    operator.nmt("sessions");
    double sessionsLiveHeap = liveHeapMiB(operator.pid());
    s.json.put(
        "operator",
        new JsonObject()
            .put("sessions", n)
            .put("active", active)
            .put("rssIdleAtStartMiB", operatorRssIdle)
            .put("liveHeapIdleMiB", nan(idleLiveHeap))
            .put("rssAfterControlPlaneTestsMiB", nan(operatorRssAfterControlPlane))
            .put("rssPeakThroughControlPlaneTestsMiB", nan(operatorRssPeakControlPlane))
            .put("liveHeapAfterControlPlaneTestsMiB", nan(operatorLiveHeapAfterControlPlane))
            .put("rssWithSessionsMiB", operatorRssSessions)
            .put("liveHeapWithSessionsMiB", nan(sessionsLiveHeap))
            .put("rssPeakWhileReconcilingMiB", peak)
            .put("applySeconds", applySeconds)
            .put("allActiveAfterSeconds", reconcileSeconds)
            .put(
                "jvmFlags",
                String.join(" ", OperatorProcess.JVM_FLAGS)
                    + " -XX:MaxRAM="
                    + OperatorProcess.MAX_RAM
                    + " (the chart's memory limit)"
                    + (operator.extraFlags().isEmpty()
                        ? ""
                        : "; extra for this run: " + operator.extraFlags())));
    Table t =
        new Table(
            "Memory — operator process (its own JVM: "
                + String.join(" ", OperatorProcess.JVM_FLAGS)
                + " -XX:MaxRAM="
                + OperatorProcess.MAX_RAM
                + ", the chart's limit"
                + (operator.extraFlags().isEmpty() ? "" : "; this run: " + operator.extraFlags())
                + "; MiB)",
            "operator",
            "VmRSS",
            "live heap (after a full GC)",
            "note");
    if (!Double.isNaN(operatorRssAfterControlPlane)) {
      t.row(
          "after the control-plane runs",
          f1(operatorRssAfterControlPlane),
          f1(operatorLiveHeapAfterControlPlane),
          options.pods()
              + " admissions, revocation trials (then a fresh operator for the rows below)");
      t.row(
          "peak through the control-plane runs",
          f1(operatorRssPeakControlPlane),
          null,
          "sampled every 500 ms from the operator's start");
    }
    t.row(
        "idle, just started",
        f1(operatorRssIdle),
        f1(idleLiveHeap),
        "webhook registered, no sessions");
    t.row(
        "with " + n + " AgentSessions",
        f1(operatorRssSessions),
        f1(sessionsLiveHeap),
        active
            + " Active after "
            + f1(reconcileSeconds)
            + " s (applied in "
            + f1(applySeconds)
            + " s)");
    t.row("peak while reconciling them", f1(peak), null, "sampled every 500 ms");
    s.add(t);
    admin.namespaces().withName(ns).delete();
  }

  // ------------------------------------------------------------------ helpers

  private void awaitPhase(String ns, String name, Phase phase, Duration timeout) {
    Instant deadline = Instant.now().plus(timeout);
    while (Instant.now().isBefore(deadline)) {
      AgentSession a = admin.resources(AgentSession.class).inNamespace(ns).withName(name).get();
      if (a != null && a.getStatus() != null && a.getStatus().phase() == phase) {
        return;
      }
      OperatorProcess.sleep(50);
    }
    throw new IllegalStateException(
        "session " + ns + "/" + name + " not " + phase + " within " + timeout);
  }

  private static long epochNanos() {
    Instant now = Instant.now();
    return now.getEpochSecond() * 1_000_000_000L + now.getNano();
  }

  /** One line of the process's stdout, or null at EOF or after the timeout. */
  private static String readLine(Process p, Duration timeout) {
    CompletableFuture<String> line =
        CompletableFuture.supplyAsync(
            () -> {
              try {
                BufferedReader r =
                    readers.computeIfAbsent(
                        p,
                        x ->
                            new BufferedReader(
                                new InputStreamReader(x.getInputStream(), StandardCharsets.UTF_8)));
                return r.readLine();
              } catch (IOException e) {
                return null;
              }
            },
            Executors.newVirtualThreadPerTaskExecutor());
    try {
      return line.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (Exception e) {
      return null;
    }
  }

  private static final Map<Process, BufferedReader> readers =
      new java.util.concurrent.ConcurrentHashMap<>();

  private static Path resource(Path dir, String name) {
    try (InputStream in = ControlPlaneBench.class.getResourceAsStream(name)) {
      Path file = dir.resolve(name);
      Files.write(file, in.readAllBytes());
      Command.run(List.of("chmod", "644", file.toString())).requireSuccess();
      return file;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * Heap in use right after a full GC ({@code jcmd GC.run}, then {@code GC.heap_info}): the live
   * data.
   */
  static double liveHeapMiB(long pid) {
    String jcmd = Path.of(System.getProperty("java.home"), "bin", "jcmd").toString();
    Command.run(List.of(jcmd, Long.toString(pid), "GC.run"));
    String info = Command.run(List.of(jcmd, Long.toString(pid), "GC.heap_info")).stdout();
    java.util.regex.Matcher m =
        java.util.regex.Pattern.compile("total \\d+K, used (\\d+)K").matcher(info);
    long kib = 0;
    boolean any = false;
    while (m.find()) {
      kib += Long.parseLong(m.group(1));
      any = true;
    }
    return any ? kib / 1024.0 : Double.NaN;
  }

  /**
   * What the live heap is made of (the 40 largest classes of {@code jcmd GC.class_histogram}),
   * written to {@code target/bench/operator-histogram-<label>.txt}: the informers' caches are most
   * of it after a burst of admissions.
   */
  static void classHistogram(long pid, String label) {
    String jcmd = Path.of(System.getProperty("java.home"), "bin", "jcmd").toString();
    String out = Command.run(List.of(jcmd, Long.toString(pid), "GC.class_histogram")).stdout();
    List<String> lines = out.lines().toList();
    // The header and the largest classes, then the "Total" line.
    String top =
        String.join("\n", lines.subList(0, Math.min(44, lines.size())))
            + (lines.size() > 44 ? "\n...\n" + lines.getLast() : "")
            + "\n";
    try {
      java.nio.file.Files.writeString(
          Path.of("target", "bench", "operator-histogram-" + label + ".txt").toAbsolutePath(), top);
    } catch (java.io.IOException e) {
      Bench.say("operator: could not write the class histogram: " + e);
    }
  }

  private static Object nan(double v) {
    return Double.isNaN(v) ? null : v;
  }

  private static double settledRss(long pid) {
    double last = Proc.rssMiB(pid);
    for (int i = 0; i < 10; i++) {
      OperatorProcess.sleep(1000);
      double now = Proc.rssMiB(pid);
      if (Math.abs(now - last) < 1) {
        return now;
      }
      last = now;
    }
    return last;
  }

  static JsonObject stats(Stats s) {
    if (s == null || s.count() == 0) {
      return null;
    }
    return new JsonObject()
        .put("n", s.count())
        .put("p50", s.percentile(50))
        .put("p90", s.percentile(90))
        .put("p99", s.percentile(99))
        .put("max", s.max())
        .put("unit", "ms");
  }

  static String f0(double v) {
    return DataPlaneBench.f0(v);
  }

  static String f1(double v) {
    return DataPlaneBench.f1(v);
  }

  static String f2(double v) {
    return DataPlaneBench.f2(v);
  }

  static String signed(double v) {
    return (v >= 0 ? "+" : "") + f2(v);
  }
}
