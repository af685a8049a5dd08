package dev.capgate.operator;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.capgate.api.v1alpha1.AgentSession;
import dev.capgate.api.v1alpha1.AgentSessionBuilder;
import dev.capgate.api.v1alpha1.AgentSessionValidator;
import dev.capgate.api.v1alpha1.HttpMethod;
import dev.capgate.operator.ca.HostConstraints;
import dev.capgate.operator.ca.MintedCa;
import dev.capgate.operator.ca.PodCaMinter;
import dev.capgate.operator.ca.PodCaObjects;
import dev.capgate.operator.ca.ServingCertificates;
import dev.capgate.operator.ca.SharedTrustRoots;
import dev.capgate.operator.ca.TrustBundle;
import dev.capgate.operator.events.KubernetesEvents;
import dev.capgate.operator.https.HttpsListener;
import dev.capgate.operator.injection.AdmissionHardening;
import dev.capgate.operator.injection.InjectionClaim;
import dev.capgate.operator.injection.InjectionPlan;
import dev.capgate.operator.injection.PodAdmitter;
import dev.capgate.operator.injection.PodCaWriter;
import dev.capgate.operator.injection.PodInjector;
import dev.capgate.operator.injection.PodPatch;
import dev.capgate.operator.injection.SessionResolver;
import dev.capgate.operator.injection.SidecarSettings;
import dev.capgate.operator.injection.TrustRootsRef;
import dev.capgate.operator.metrics.OperatorMetrics;
import dev.capgate.operator.session.StatusCalculator;
import dev.capgate.operator.webhook.AdmissionReviews;
import dev.capgate.operator.webhook.AdmissionServer;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.jdkhttp.JdkHttpClientFactory;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import io.vertx.core.Vertx;
import java.io.ByteArrayInputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code capgate-operator aot-train}: the training run of the image's AOT cache (JDK 25, JEP
 * 514/515; operator/Dockerfile). An image build has no API server, so it runs what works without
 * one, as the operator runs it:
 *
 * <ul>
 *   <li>the webhook's HTTPS listener (Vert.x, TLS with a throwaway serving certificate) and {@link
 *       PodAdmitter} answering real AdmissionReviews on loopback: a pod that does not opt in, pods
 *       refused before their session is looked up, and a {@code kubectl debug} ephemeral container
 *       (hardened and patched);
 *   <li>an injection as the webhook makes it, called directly: session validation, the pod CA mint
 *       (Bouncy Castle), {@link PodInjector}, the admission hardening check, the JSON patch, the CA
 *       Secret as {@link PodCaWriter} would send it, and the re-invocation check;
 *   <li>the reconciler's pure part: the status calculation, and the JSON (de)serialization of the
 *       objects informers deliver (AgentSession, Pod, Secret).
 * </ul>
 *
 * <p>Not trained, because it needs an API server: the Kubernetes client's requests, the informers
 * and JOSDK's controller. Its client here points to a closed loopback port and is never asked
 * anything. Exits 0 when every answer was the expected one. Nothing of this run (keys) is in the
 * cache, which holds classes and profiles only.
 */
final class AotTraining {
  private static final Logger LOG = LoggerFactory.getLogger(AotTraining.class);
  static final String ARG = "aot-train";

  /** Rounds of the whole set: enough for the C1/C2 profiles of the admission path (JEP 515). */
  static final int ROUNDS = 20;

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final KubernetesSerialization SERIALIZATION = new KubernetesSerialization();
  private static final String NAMESPACE = "agents";
  private static final String DEFAULT_ROOTS = "/etc/ssl/certs/ca-certificates.crt";

  private AotTraining() {}

  /**
   * @return 0 when every step answered as expected, 1 otherwise
   */
  static int run() {
    long start = System.nanoTime();
    ServingCertificates.Issued tls =
        ServingCertificates.issue(List.of("127.0.0.1"), Duration.ofHours(1));
    Vertx vertx = Vertx.vertx();
    // A client that is never used: every path trained here decides without the API server.
    KubernetesClient client =
        new KubernetesClientBuilder()
            .withConfig(new ConfigBuilder().withMasterUrl("https://127.0.0.1:1").build())
            .withHttpClientFactory(new JdkHttpClientFactory())
            .build();
    KubernetesEvents events = new KubernetesEvents(client, "aot-train");
    PodCaWriter writer = new PodCaWriter(client, events);
    try {
      Clock clock = Clock.systemUTC();
      PodInjector injector = new PodInjector(sidecarSettings(tls), trustRoots());
      PodCaMinter minter = new PodCaMinter(clock, Duration.ofHours(24));
      PodAdmitter admitter =
          new PodAdmitter(
              client,
              new SessionResolver(client, clock),
              minter,
              null,
              injector,
              events,
              writer,
              OperatorMetrics.unserved());
      HttpsListener webhook = AdmissionServer.start(vertx, "127.0.0.1", 0, tls, admitter);
      HttpClient http = HttpClient.newBuilder().sslContext(trusting(tls.caCertPem())).build();
      URI uri = URI.create("https://127.0.0.1:" + webhook.port() + AdmissionServer.PATH);
      AgentSession session = session();
      for (int round = 0; round < ROUNDS; round++) {
        webhookRound(http, uri);
        injectionRound(injector, minter, session, clock);
      }
      webhook.close();
      LOG.info(
          "aot-train: {} rounds in {} ms",
          ROUNDS,
          Duration.ofNanos(System.nanoTime() - start).toMillis());
      return 0;
    } catch (Exception | AssertionError e) {
      LOG.error("aot-train failed", e);
      return 1;
    } finally {
      writer.close();
      events.close();
      client.close();
      vertx.close().toCompletionStage().toCompletableFuture().join();
    }
  }

  /** AdmissionReviews through the real listener, each answered without the API server. */
  private static void webhookRound(HttpClient http, URI uri) throws Exception {
    JsonNode plain = post(http, uri, review("CREATE", null, pod("plain", false, null), null));
    expect(plain.path("allowed").asBoolean() && !plain.has("patch"), "plain pod allowed", plain);

    JsonNode noSession =
        post(http, uri, review("CREATE", null, pod("no-session", true, null), null));
    expect(
        !noSession.path("allowed").asBoolean()
            && noSession.path("status").path("message").asText().contains("names no session"),
        "opted-in pod without a session refused",
        noSession);

    Pod reserved = pod("reserved", true, "train");
    reserved
        .getSpec()
        .getContainers()
        .getFirst()
        .setName(dev.capgate.api.sidecar.SidecarContract.PROXY_CONTAINER);
    JsonNode reservedName = post(http, uri, review("CREATE", null, reserved, null));
    expect(
        !reservedName.path("allowed").asBoolean(),
        "capgate's container name refused",
        reservedName);

    Pod before = pod("debugged", true, null);
    Pod after = pod("debugged", true, null);
    after
        .getSpec()
        .setEphemeralContainers(
            List.of(
                new io.fabric8.kubernetes.api.model.EphemeralContainerBuilder()
                    .withName("debugger")
                    .withImage("registry.example/debug:1")
                    .build()));
    JsonNode debug = post(http, uri, review("UPDATE", "ephemeralcontainers", after, before));
    expect(
        debug.path("allowed").asBoolean() && debug.has("patch"),
        "ephemeral container hardened",
        debug);
  }

  /** What the webhook does for an opted-in pod once it has the session, called directly. */
  private static void injectionRound(
      PodInjector injector, PodCaMinter minter, AgentSession session, Clock clock) {
    AgentSession seen = SERIALIZATION.unmarshal(SERIALIZATION.asJson(session), AgentSession.class);
    expect(
        AgentSessionValidator.validate(seen.getSpec()).isEmpty(), "session valid", seen.getSpec());
    String caName = PodCaObjects.newName();
    MintedCa ca =
        minter.mint(
            caName,
            HostConstraints.interceptedHosts(seen.getSpec()),
            clock.instant().plus(Duration.ofHours(2)));
    InjectionPlan plan =
        new InjectionPlan(
            NAMESPACE,
            seen.getMetadata().getName(),
            caName,
            ca.fingerprint(),
            "capgate-leases-" + seen.getMetadata().getName(),
            List.of());
    Pod pod = pod("agent", true, seen.getMetadata().getName());
    Pod injected = injector.inject(pod, plan);
    List<String> violations = AdmissionHardening.violations(injected);
    expect(violations.isEmpty(), "injected pod passes the hardening check", violations);
    expect(PodPatch.diff(pod, injected).size() > 0, "injection patch", pod);
    Secret secret = PodCaObjects.sessionOwned(NAMESPACE, caName, seen, ca, "{}");
    Secret sent = SERIALIZATION.unmarshal(SERIALIZATION.asJson(secret), Secret.class);
    // The re-invocation check, as for a pod that comes back marked injected.
    Pod stored = SERIALIZATION.unmarshal(SERIALIZATION.asJson(injected), Pod.class);
    expect(
        InjectionClaim.difference(stored, plan, injector).isEmpty(),
        "re-invoked pod matches its plan",
        plan);
    expect(
        InjectionClaim.caDifference(
                sent, caName, seen.getMetadata().getName(), ca.fingerprint(), "{}")
            .isEmpty(),
        "CA Secret matches the pod",
        caName);
    // The reconciler's status of a session with one bound pod.
    expect(
        StatusCalculator.compute(seen, 1, Instant.now()).status() != null,
        "session status",
        seen.getMetadata().getName());
  }

  private static AgentSession session() {
    AgentSession session =
        AgentSessionBuilder.session("train")
            .namespace(NAMESPACE)
            .user("alice@example.com")
            .agent("coding-agent")
            .project("payments")
            .vaultRole("capgate-agent")
            .ttl("2h")
            .credential(
                AgentSessionBuilder.kv2("github", "secret/data/github/{{user}}", "token").bearer())
            .egress(
                AgentSessionBuilder.rule("github-api")
                    .hosts("api.github.com", "*.githubusercontent.com")
                    .methods(HttpMethod.GET, HttpMethod.POST)
                    .paths("/repos/acme/repo-a/**")
                    .credential("github"),
                AgentSessionBuilder.rule("packages").hosts("pypi.org").passthrough())
            .build();
    session.getMetadata().setUid(UUID.randomUUID().toString());
    session.getMetadata().setCreationTimestamp(Instant.now().toString());
    return session;
  }

  private static Pod pod(String name, boolean optIn, String session) {
    StringBuilder labels = new StringBuilder();
    if (optIn) {
      labels.append("\n    capgate.dev/inject: \"true\"");
    }
    if (session != null) {
      labels.append("\n    capgate.dev/session: ").append(session);
    }
    String yaml =
        """
        apiVersion: v1
        kind: Pod
        metadata:
          name: %s
          namespace: %s
          labels:
            app: agent%s
        spec:
          serviceAccountName: coding-agent
          securityContext: {runAsUser: 1000}
          containers:
          - name: agent
            image: registry.example/agent:1.0
        """
            .formatted(name, NAMESPACE, labels);
    return SERIALIZATION.unmarshal(yaml, Pod.class);
  }

  private static String review(String operation, String subResource, Pod pod, Pod oldPod) {
    return AdmissionReviews.podRequest(operation, subResource, NAMESPACE, pod, oldPod).toString();
  }

  private static JsonNode post(HttpClient http, URI uri, String body) throws Exception {
    HttpResponse<String> answer =
        http.send(
            HttpRequest.newBuilder(uri)
                .header("content-type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body))
                .build(),
            HttpResponse.BodyHandlers.ofString());
    expect(answer.statusCode() == 200, "webhook answers 200", answer.statusCode());
    return JSON.readTree(answer.body()).get("response");
  }

  private static void expect(boolean ok, String what, Object detail) {
    if (!ok) {
      throw new AssertionError("aot-train: " + what + " failed: " + detail);
    }
  }

  private static SidecarSettings sidecarSettings(ServingCertificates.Issued tls) {
    return new SidecarSettings(
            "capgate/sidecar:aot-train",
            "IfNotPresent",
            "https://vault.vault.svc:8200",
            "capgate",
            3600,
            Map.of("cpu", "50m", "memory", "96Mi"),
            Map.of("cpu", "1", "memory", "256Mi"))
        .withOperator("https://127.0.0.1:8443", tls.caCertPem());
  }

  /** The image's system roots, as the operator reads them at start (any bundle elsewhere). */
  private static TrustRootsRef trustRoots() {
    Path bundle = Path.of(System.getenv().getOrDefault("CAPGATE_SYSTEM_ROOTS", DEFAULT_ROOTS));
    if (!Files.isReadable(bundle)) {
      return new TrustRootsRef("capgate-trust-roots-0000000000", "0".repeat(64));
    }
    SharedTrustRoots roots = new SharedTrustRoots(TrustBundle.systemRoots(bundle));
    return new TrustRootsRef(roots.name(), roots.sha256());
  }

  private static SSLContext trusting(String caPem) throws Exception {
    KeyStore store = KeyStore.getInstance(KeyStore.getDefaultType());
    store.load(null, null);
    store.setCertificateEntry(
        "ca",
        CertificateFactory.getInstance("X.509")
            .generateCertificate(new ByteArrayInputStream(caPem.getBytes(StandardCharsets.UTF_8))));
    TrustManagerFactory trust =
        TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    trust.init(store);
    SSLContext context = SSLContext.getInstance("TLS");
    context.init(null, trust.getTrustManagers(), null);
    return context;
  }
}
