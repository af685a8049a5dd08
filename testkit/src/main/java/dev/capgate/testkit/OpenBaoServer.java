package dev.capgate.testkit;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.capgate.common.vault.VaultClient;
import dev.capgate.common.vault.VaultReply;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.ServiceAccountBuilder;
import io.fabric8.kubernetes.api.model.rbac.ClusterRoleBindingBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.dsl.NonDeletingOperation;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A real OpenBao server, started once per JVM and shared; each test isolates itself in a mount of
 * its own ({@link #newKvMount()}, {@link #enableKubernetesAuth}).
 *
 * <p>Not dev mode: dev mode keeps everything in memory, so a restart would lose every secret and
 * outage tests could not tell "down" from "wiped". This is persistent (raft) storage, initialized
 * once with one key share, unsealed on every start; the unseal key and root token live only in this
 * object. Every call goes through the one Vault client of Capgate ({@link VaultClient}), so errors
 * name the call and the status, never OpenBao's answer.
 */
public final class OpenBaoServer {
  private static final Logger LOG = LoggerFactory.getLogger(OpenBaoServer.class);
  private static final Duration READY_TIMEOUT = Duration.ofSeconds(60);
  private static final String REVIEWER_NAMESPACE = "capgate-openbao";
  private static final String REVIEWER_ACCOUNT = "token-reviewer";
  private static final ObjectMapper JSON = new ObjectMapper();

  /**
   * The addresses the TLS listener's certificate is valid for: loopback, and where the sidecar's
   * data-plane tests reach Vault from inside a pod network namespace (their upstream namespace
   * bridges 198.18.0.2:8200 to this server).
   */
  public static final java.util.List<String> TLS_IP_ADDRESSES =
      java.util.List.of("127.0.0.1", "198.18.0.2");

  private static OpenBaoServer shared;
  private static RuntimeException sharedFailure;

  private final Path workDir;
  private final String address;
  private final String tlsAddress;
  private final Pki tlsCa;
  private final OpenBaoProcess process;
  private final VaultClient client;
  private String unsealKey;
  private String rootToken;

  /** The server of this JVM, started on first use and stopped by a shutdown hook. */
  public static synchronized OpenBaoServer shared() {
    if (sharedFailure != null) {
      throw new IllegalStateException(
          "the shared OpenBao server failed to start earlier in this JVM", sharedFailure);
    }
    if (shared == null) {
      try {
        shared = new OpenBaoServer();
      } catch (RuntimeException e) {
        sharedFailure = e;
        throw e;
      }
    }
    return shared;
  }

  private OpenBaoServer() {
    Tools.bin("bao");
    workDir = StackJanitor.newWorkDir("openbao");
    StackJanitor.atExit(() -> StackJanitor.deleteTree(workDir));
    int port = Ports.free();
    int clusterPort = Ports.free();
    int tlsPort = Ports.free();
    address = "http://127.0.0.1:" + port;
    tlsAddress = "https://127.0.0.1:" + tlsPort;
    client = VaultClient.create(address, (Path) null, Duration.ofSeconds(30));
    // A second listener on the same server and storage, with a private CA: what a cluster's Vault
    // looks like (issue 14). The plain one stays for everything that is not about TLS.
    tlsCa = new Pki("capgate-testkit-openbao-ca");
    Path tlsDir = workDir.resolve("tls");
    createDirectory(tlsDir);
    tlsCa
        .issueServer("openbao", java.util.List.of("localhost"), TLS_IP_ADDRESSES)
        .writeTo(tlsDir, "server");
    Path config = workDir.resolve("config.hcl");
    Pki.write(
        config,
        """
                # Written by capgate-testkit.
                # OpenBao 2.x has no "file" storage any more: integrated storage (raft) with a single
                # node is the persistent one. performance_multiplier = 1 cuts the leader election
                # after init and after every restart from ~10 s to ~1 s. No disable_mlock: OpenBao
                # dropped mlock and warns about the field.
                storage "raft" {
                  path                   = "%s"
                  node_id                = "capgate-testkit"
                  performance_multiplier = 1
                }
                listener "tcp" {
                  address         = "127.0.0.1:%d"
                  cluster_address = "127.0.0.1:%d"
                  tls_disable     = true
                }
                listener "tcp" {
                  address       = "127.0.0.1:%d"
                  tls_cert_file = "%s"
                  tls_key_file  = "%s"
                }
                api_addr     = "%s"
                cluster_addr = "http://127.0.0.1:%d"
                ui           = false
                log_level    = "info"
                """
            .formatted(
                workDir.resolve("data"),
                port,
                clusterPort,
                tlsPort,
                tlsDir.resolve("server.crt"),
                tlsDir.resolve("server.key"),
                address,
                clusterPort));
    createDirectory(workDir.resolve("data"));
    process = new OpenBaoProcess(config, address);
    start();
  }

  /** e.g. {@code http://127.0.0.1:40123} */
  public String address() {
    return address;
  }

  /**
   * The same server over TLS ({@code https://127.0.0.1:<port>}), its certificate issued by a
   * private CA ({@link #tlsCaPem()}) for {@link #TLS_IP_ADDRESSES}: no client trusts it by default.
   */
  public String tlsAddress() {
    return tlsAddress;
  }

  /** PEM of the private CA of {@link #tlsAddress()}'s certificate. */
  public String tlsCaPem() {
    return tlsCa.caCertPem();
  }

  public String rootToken() {
    return rootToken;
  }

  /**
   * The Vault client of the sidecar and the operator, pointed at this server: for calls with any
   * token (e.g. one from a login) that look at the status themselves.
   */
  public VaultClient client() {
    return client;
  }

  /**
   * Writes a KV version 2 secret as root: {@code path} is {@code <mount>/<key>} (the {@code data/}
   * after the mount is added here).
   */
  public void putKv(String path, Map<String, ?> fields) {
    String[] mountAndKey = trimSlashes(path).split("/", 2);
    if (mountAndKey.length != 2) {
      throw new IllegalArgumentException("a KV path is <mount>/<key>, got " + path);
    }
    request("POST", mountAndKey[0] + "/data/" + mountAndKey[1], Map.of("data", fields));
  }

  /** Starts (or restarts) the server on the same port and data, initializes it once, unseals it. */
  public synchronized void start() {
    long t0 = System.nanoTime();
    process.start();
    if (!initialized()) {
      if (unsealKey != null) {
        throw new IllegalStateException(
            "OpenBao lost its data: it reports uninitialized after a restart");
      }
      initialize();
    }
    unseal();
    LOG.info(
        "OpenBao ready at {} in {} ms (log {})",
        address,
        TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0),
        process.logFile());
  }

  /** Stops the server; its storage stays for {@link #start()}. */
  public synchronized void stop() {
    process.stop();
  }

  public boolean isRunning() {
    return process.isRunning();
  }

  /** Seals the server: every secret and login request fails until {@link #unseal()}. */
  public void seal() {
    request("PUT", "sys/seal", null);
  }

  /** Unseals with the key kept from initialization and waits until the server is active. */
  public void unseal() {
    JsonNode status = call("PUT", "sys/unseal", Map.of("key", unsealKey));
    if (status.path("sealed").asBoolean(true)) {
      throw new IllegalStateException("OpenBao is still sealed after the unseal key");
    }
    Wait.until(
        "OpenBao to become active after unseal",
        READY_TIMEOUT,
        () -> client.call("GET", "sys/health", null, null).status() == 200,
        () -> process.logTail(20));
  }

  /** Enables a fresh KV version 2 engine at a random path and returns that path (no slashes). */
  public String newKvMount() {
    String path = Names.withRandomSuffix("kv", 8);
    request("POST", "sys/mounts/" + path, Map.of("type", "kv", "options", Map.of("version", "2")));
    // A new KV v2 mount answers "upgrading" for a moment; its config is readable once it is usable.
    Wait.until(
        "KV v2 mount " + path + " to become usable",
        READY_TIMEOUT,
        () -> client.call("GET", path + "/config", rootToken, null).status() == 200,
        () -> process.logTail(20));
    return path;
  }

  /**
   * Enables the Kubernetes auth method at {@code mountPath} (if not yet enabled) and points it at
   * {@code kube}'s apiserver: its URL, its CA, and a long-lived token of a service account bound to
   * {@code system:auth-delegator}, with which OpenBao calls the TokenReview API. Roles are the
   * caller's business: {@code request("POST", "auth/<mount>/role/<name>", ...)}.
   */
  public void enableKubernetesAuth(KubeControlPlane kube, String mountPath) {
    String mount = trimSlashes(mountPath);
    String reviewerJwt = tokenReviewerJwt(kube);
    if (call("GET", "sys/auth", null).path("data").path(mount + "/").isMissingNode()) {
      request("POST", "sys/auth/" + mount, Map.of("type", "kubernetes"));
    }
    request(
        "POST",
        "auth/" + mount + "/config",
        Map.of(
            "kubernetes_host",
            kube.url(),
            "kubernetes_ca_cert",
            kube.caCertPem(),
            "token_reviewer_jwt",
            reviewerJwt,
            // Never fall back to a pod's own token file: this server does not run in a pod.
            "disable_local_ca_jwt",
            true));
  }

  /**
   * One OpenBao HTTP API call with the root token, for setting a test up.
   *
   * @param path relative to {@code /v1/}
   * @param body null; JSON text; or what Jackson writes as JSON (a {@code Map}, a {@link JsonNode})
   * @return the answer's JSON text ({@code ""} when there is none)
   * @throws IllegalStateException on anything but 2xx, naming the call and the status (never
   *     OpenBao's answer: it may hold a token)
   */
  public String request(String method, String path, Object body) {
    JsonNode answer = call(method, path, body);
    return answer.isMissingNode() ? "" : answer.toString();
  }

  private JsonNode call(String method, String path, Object body) {
    VaultReply reply = client.call(method, trimSlashes(path), rootToken, json(body, path));
    if (!reply.ok()) {
      throw new IllegalStateException(
          "OpenBao "
              + reply.describe(method + " /v1/" + trimSlashes(path))
              + " (OpenBao's log: "
              + process.logFile()
              + ")");
    }
    return reply.body();
  }

  private static Object json(Object body, String path) {
    if (!(body instanceof CharSequence text)) {
      return body;
    }
    try {
      return JSON.readTree(text.toString());
    } catch (JsonProcessingException e) {
      throw new IllegalArgumentException("the body for /v1/" + path + " is not JSON");
    }
  }

  /** Where openbao.log is written. */
  public Path logFile() {
    return process.logFile();
  }

  private boolean initialized() {
    return call("GET", "sys/init", null).path("initialized").asBoolean(false);
  }

  private void initialize() {
    JsonNode init = call("PUT", "sys/init", Map.of("secret_shares", 1, "secret_threshold", 1));
    unsealKey = init.path("keys_base64").path(0).asText(null);
    rootToken = init.path("root_token").asText(null);
    if (unsealKey == null || rootToken == null) {
      throw new IllegalStateException("OpenBao init returned no unseal key or no root token");
    }
  }

  private String tokenReviewerJwt(KubeControlPlane kube) {
    KubernetesClient client = kube.client();
    client
        .namespaces()
        .resource(
            new NamespaceBuilder()
                .withNewMetadata()
                .withName(REVIEWER_NAMESPACE)
                .endMetadata()
                .build())
        .createOr(NonDeletingOperation::update);
    client
        .serviceAccounts()
        .inNamespace(REVIEWER_NAMESPACE)
        .resource(
            new ServiceAccountBuilder()
                .withNewMetadata()
                .withName(REVIEWER_ACCOUNT)
                .endMetadata()
                .build())
        .createOr(NonDeletingOperation::update);
    client
        .rbac()
        .clusterRoleBindings()
        .resource(
            new ClusterRoleBindingBuilder()
                .withNewMetadata()
                .withName("capgate-testkit-openbao-token-reviewer")
                .endMetadata()
                .withNewRoleRef("rbac.authorization.k8s.io", "ClusterRole", "system:auth-delegator")
                .addNewSubject()
                .withKind("ServiceAccount")
                .withName(REVIEWER_ACCOUNT)
                .withNamespace(REVIEWER_NAMESPACE)
                .endSubject()
                .build())
        .createOr(NonDeletingOperation::update);
    // Long-lived so it outlasts any test run; no audience means the apiserver's own.
    return kube.serviceAccountToken(REVIEWER_NAMESPACE, REVIEWER_ACCOUNT, Duration.ofDays(365));
  }

  private static String trimSlashes(String path) {
    return path.replaceAll("^/+|/+$", "");
  }

  private static void createDirectory(Path dir) {
    try {
      Files.createDirectories(dir);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
