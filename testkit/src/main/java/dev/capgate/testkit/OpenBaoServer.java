package dev.capgate.testkit;

import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.ServiceAccountBuilder;
import io.fabric8.kubernetes.api.model.rbac.ClusterRoleBindingBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.dsl.NonDeletingOperation;
import io.github.jopenlibs.vault.Vault;
import io.github.jopenlibs.vault.VaultConfig;
import io.github.jopenlibs.vault.VaultException;
import io.github.jopenlibs.vault.json.Json;
import io.github.jopenlibs.vault.json.JsonObject;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
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
 * object.
 */
public final class OpenBaoServer {
  private static final Logger LOG = LoggerFactory.getLogger(OpenBaoServer.class);
  private static final Duration READY_TIMEOUT = Duration.ofSeconds(60);
  private static final String REVIEWER_NAMESPACE = "capgate-openbao";
  private static final String REVIEWER_ACCOUNT = "token-reviewer";

  private static OpenBaoServer shared;
  private static RuntimeException sharedFailure;

  private final Path workDir;
  private final String address;
  private final OpenBaoProcess process;
  private final HttpClient http =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
  private String unsealKey;
  private String rootToken;
  private Vault rootClient;

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
    address = "http://127.0.0.1:" + port;
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
                api_addr     = "%s"
                cluster_addr = "http://127.0.0.1:%d"
                ui           = false
                log_level    = "info"
                """
            .formatted(workDir.resolve("data"), port, clusterPort, address, clusterPort));
    createDirectory(workDir.resolve("data"));
    process = new OpenBaoProcess(config, address);
    start();
  }

  /** e.g. {@code http://127.0.0.1:40123} */
  public String address() {
    return address;
  }

  public String rootToken() {
    return rootToken;
  }

  /** vault-java-driver with the root token; KV engine version 2 for every path. */
  public synchronized Vault rootClient() {
    if (rootClient == null) {
      rootClient = client(rootToken);
    }
    return rootClient;
  }

  /** vault-java-driver with any token (e.g. one from a Kubernetes login); KV engine version 2. */
  public Vault client(String token) {
    try {
      return Vault.create(
          new VaultConfig()
              .address(address)
              .token(token)
              .engineVersion(2)
              .openTimeout(5)
              .readTimeout(30)
              .build());
    } catch (VaultException e) {
      throw new IllegalStateException(e);
    }
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
    JsonObject status =
        Json.parse(request("PUT", "sys/unseal", Json.object().add("key", unsealKey).toString()))
            .asObject();
    if (status.getBoolean("sealed", true)) {
      throw new IllegalStateException("OpenBao is still sealed after the unseal key: " + status);
    }
    Wait.until(
        "OpenBao to become active after unseal",
        READY_TIMEOUT,
        () -> send("GET", "sys/health", null, null).statusCode() == 200,
        () -> process.logTail(20));
  }

  /** Enables a fresh KV version 2 engine at a random path and returns that path (no slashes). */
  public String newKvMount() {
    String path = Names.withRandomSuffix("kv", 8);
    request(
        "POST",
        "sys/mounts/" + path,
        Json.object()
            .add("type", "kv")
            .add("options", Json.object().add("version", "2"))
            .toString());
    // A new KV v2 mount answers "upgrading" for a moment; its config is readable once it is usable.
    Wait.until(
        "KV v2 mount " + path + " to become usable",
        READY_TIMEOUT,
        () -> send("GET", path + "/config", null, rootToken).statusCode() == 200,
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
    JsonObject mounts =
        Json.parse(request("GET", "sys/auth", null)).asObject().get("data").asObject();
    if (mounts.get(mount + "/") == null) {
      request("POST", "sys/auth/" + mount, Json.object().add("type", "kubernetes").toString());
    }
    request(
        "POST",
        "auth/" + mount + "/config",
        Json.object()
            .add("kubernetes_host", kube.url())
            .add("kubernetes_ca_cert", kube.caCertPem())
            .add("token_reviewer_jwt", reviewerJwt)
            // Never fall back to a pod's own token file: this server does not run in a pod.
            .add("disable_local_ca_jwt", true)
            .toString());
  }

  /**
   * One OpenBao HTTP API call with the root token. {@code path} is relative to {@code /v1/};
   * returns the body, throws with status and body on anything but 2xx.
   */
  public String request(String method, String path, String jsonBody) {
    HttpResponse<String> response = send(method, path, jsonBody, rootToken);
    if (response.statusCode() / 100 != 2) {
      throw new IllegalStateException(
          "OpenBao "
              + method
              + " /v1/"
              + path
              + " answered "
              + response.statusCode()
              + ": "
              + response.body());
    }
    return response.body();
  }

  /** Where openbao.log is written. */
  public Path logFile() {
    return process.logFile();
  }

  private boolean initialized() {
    return Json.parse(request("GET", "sys/init", null)).asObject().getBoolean("initialized", false);
  }

  private void initialize() {
    JsonObject init =
        Json.parse(
                request(
                    "PUT",
                    "sys/init",
                    Json.object().add("secret_shares", 1).add("secret_threshold", 1).toString()))
            .asObject();
    unsealKey = init.get("keys_base64").asArray().get(0).asString();
    rootToken = init.getString("root_token", null);
    if (rootToken == null) {
      throw new IllegalStateException("OpenBao init returned no root token: " + init);
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

  private HttpResponse<String> send(String method, String path, String jsonBody, String token) {
    HttpRequest.Builder builder =
        HttpRequest.newBuilder(URI.create(address + "/v1/" + trimSlashes(path)))
            .timeout(Duration.ofSeconds(30))
            .method(
                method,
                jsonBody == null
                    ? HttpRequest.BodyPublishers.noBody()
                    : HttpRequest.BodyPublishers.ofString(jsonBody));
    if (token != null) {
      builder.header("X-Vault-Token", token);
    }
    if (jsonBody != null) {
      builder.header("Content-Type", "application/json");
    }
    try {
      return http.send(builder.build(), HttpResponse.BodyHandlers.ofString());
    } catch (IOException e) {
      throw new UncheckedIOException("OpenBao " + method + " /v1/" + path + " failed", e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    }
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
