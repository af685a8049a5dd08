package dev.capgate.testkit;

import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.ServiceAccountBuilder;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.api.model.authentication.TokenRequest;
import io.fabric8.kubernetes.api.model.authentication.TokenRequestBuilder;
import io.fabric8.kubernetes.api.model.rbac.PolicyRule;
import io.fabric8.kubernetes.api.model.rbac.RoleBindingBuilder;
import io.fabric8.kubernetes.api.model.rbac.RoleBuilder;
import io.fabric8.kubernetes.api.model.rbac.Subject;
import io.fabric8.kubernetes.api.model.rbac.SubjectBuilder;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.jdkhttp.JdkHttpClientFactory;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A real Kubernetes control plane — etcd, kube-apiserver, kube-controller-manager — started once
 * per JVM and shared by every test; each test isolates itself in a namespace of its own ({@link
 * #newNamespace(String)}). There is no node: pods are stored and admitted (webhooks, RBAC,
 * TokenRequest, TokenReview, garbage collection all real) but never run.
 */
public final class KubeControlPlane {
  private static final Logger LOG = LoggerFactory.getLogger(KubeControlPlane.class);
  private static final Duration KUBECTL_TIMEOUT = Duration.ofMinutes(2);
  private static final ExecutorService PIPE_READERS = Executors.newVirtualThreadPerTaskExecutor();

  private static KubeControlPlane shared;
  private static RuntimeException sharedFailure;

  private final Path workDir;
  private final Path pkiDir;
  private final Pki pki;
  private final EtcdProcess etcd;
  private final ApiServerProcess apiServer;
  private final ControllerManagerProcess controllerManager;
  private final Path adminKubeconfig;
  private final KubernetesClient client;

  /**
   * The control plane of this JVM, started on first use (≈ 5 s on this 2-core machine) and stopped
   * by a shutdown hook. If the start failed, every later call fails at once with the same cause
   * instead of paying the start-up timeout again.
   */
  public static synchronized KubeControlPlane shared() {
    if (sharedFailure != null) {
      throw new IllegalStateException(
          "the shared control plane failed to start earlier in this JVM", sharedFailure);
    }
    if (shared == null) {
      try {
        shared = new KubeControlPlane();
      } catch (RuntimeException e) {
        sharedFailure = e;
        throw e;
      }
    }
    return shared;
  }

  private KubeControlPlane() {
    long t0 = System.nanoTime();
    // Fail before starting anything if a binary is missing, with the message that says how to fix
    // it.
    List.of("etcd", "kube-apiserver", "kube-controller-manager", "kubectl").forEach(Tools::bin);
    workDir = StackJanitor.newWorkDir("kube");
    StackJanitor.atExit(() -> StackJanitor.deleteTree(workDir));
    pkiDir = workDir.resolve("pki");
    createDirectory(pkiDir);
    pki = new Pki("capgate-testkit-ca");
    pki.writeCaAndServiceAccountKeys(pkiDir);
    pki.issueServer(
            "kube-apiserver",
            List.of(
                "localhost",
                "kubernetes",
                "kubernetes.default",
                "kubernetes.default.svc",
                "kubernetes.default.svc.cluster.local"),
            // 198.18.0.2: the test upstream address of a sidecar test's pod network namespace,
            // which
            // can bridge to this API server (sidecar ApprovalIT).
            List.of("127.0.0.1", "::1", "10.96.0.1", "198.18.0.2"))
        .writeTo(pkiDir, "apiserver");
    pki.issueServer("kube-controller-manager", List.of("localhost"), List.of("127.0.0.1", "::1"))
        .writeTo(pkiDir, "controller-manager");
    Pki.Issued admin = pki.issueClient("capgate-testkit-admin", "system:masters");
    SSLContext adminTls = pki.sslContext(admin);

    etcd = new EtcdProcess(workDir.resolve("etcd"));
    apiServer =
        new ApiServerProcess(
            ApiServerProcess.Settings.defaults(pkiDir, etcd.clientUrl()), adminTls);
    adminKubeconfig =
        Kubeconfig.writeWithCertificate(
            workDir.resolve("admin.kubeconfig"),
            apiServer.url(),
            pki.caCertPem(),
            "capgate-testkit-admin",
            admin);
    Path kcmKubeconfig =
        Kubeconfig.writeWithCertificate(
            workDir.resolve("controller-manager.kubeconfig"),
            apiServer.url(),
            pki.caCertPem(),
            "system:kube-controller-manager",
            pki.issueClient("system:kube-controller-manager"));
    controllerManager =
        new ControllerManagerProcess(pkiDir, kcmKubeconfig, pki.sslContext(null), List.of());

    try {
      etcd.start();
      apiServer.start();
      controllerManager.start();
      client =
          buildClient(
              new ConfigBuilder(baseConfig())
                  .withClientCertData(Kubeconfig.b64(admin.certPem()))
                  .withClientKeyData(Kubeconfig.b64(admin.keyPem()))
                  .withClientKeyAlgo("EC")
                  .build());
      // The service-account controller works once "default" has its account; tests need it
      // (pods are rejected until their namespace's account exists).
      awaitDefaultServiceAccount("default");
    } catch (RuntimeException e) {
      stopAll();
      throw e;
    }
    StackJanitor.atExit(client::close);
    LOG.info(
        "Kubernetes control plane ready at {} in {} ms (logs in {})",
        apiServer.url(),
        TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0),
        logDir());
  }

  /** Cluster-admin client (O=system:masters), Fabric8 on the JDK HTTP client. */
  public KubernetesClient client() {
    return client;
  }

  /** Admin kubeconfig with everything embedded; for kubectl, helm, or a component under test. */
  public Path kubeconfig() {
    return adminKubeconfig;
  }

  public String url() {
    return apiServer.url();
  }

  /** The cluster CA: it signed the apiserver's serving certificate and every client certificate. */
  public String caCertPem() {
    return pki.caCertPem();
  }

  /** The {@code iss} of service-account tokens, e.g. for a Vault role's bound issuer. */
  public String serviceAccountIssuer() {
    return apiServer.settings().serviceAccountIssuer();
  }

  /** The certificate authority, to issue more certificates (webhook serving certs, components). */
  public Pki pki() {
    return pki;
  }

  /**
   * Applies the CustomResourceDefinition in {@code file} (server-side, taking over fields another
   * test applied) and waits until it is Established: until then the API server refuses its
   * resources. Applying the same file again is cheap, so each test class may do it.
   */
  public CustomResourceDefinition applyCrd(Path file) {
    CustomResourceDefinition crd;
    try (InputStream in = Files.newInputStream(file)) {
      crd = client.apiextensions().v1().customResourceDefinitions().load(in).item();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    client
        .apiextensions()
        .v1()
        .customResourceDefinitions()
        .resource(crd)
        .forceConflicts()
        .serverSideApply();
    return client
        .apiextensions()
        .v1()
        .customResourceDefinitions()
        .withName(crd.getMetadata().getName())
        .waitUntilCondition(
            c ->
                c != null
                    && c.getStatus() != null
                    // Null until the API server's controller first writes the status (seen under
                    // load: the informer's first event is the CRD as just applied).
                    && c.getStatus().getConditions() != null
                    && c.getStatus().getConditions().stream()
                        .anyMatch(
                            x -> "Established".equals(x.getType()) && "True".equals(x.getStatus())),
            60,
            TimeUnit.SECONDS);
  }

  /** Creates {@code prefix-<random>} and waits until its {@code default} service account exists. */
  public String newNamespace(String prefix) {
    String name = Names.withRandomSuffix(prefix, 6);
    client
        .namespaces()
        .resource(
            new NamespaceBuilder()
                .withNewMetadata()
                .withName(name)
                .withLabels(Map.of("capgate.dev/testkit", "true"))
                .endMetadata()
                .build())
        .create();
    awaitDefaultServiceAccount(name);
    return name;
  }

  /** Creates the service account {@code name} in {@code namespace} (for a token or a pod). */
  public void newServiceAccount(String namespace, String name) {
    client
        .serviceAccounts()
        .inNamespace(namespace)
        .resource(
            new ServiceAccountBuilder().withNewMetadata().withName(name).endMetadata().build())
        .create();
  }

  /**
   * Creates Role {@code role} in {@code namespace} with {@code rules} and a RoleBinding of the same
   * name giving it to {@code subjects}: RBAC the API server's authorizer then enforces.
   */
  public void grant(String namespace, String role, List<PolicyRule> rules, Subject... subjects) {
    client
        .rbac()
        .roles()
        .inNamespace(namespace)
        .resource(
            new RoleBuilder()
                .withNewMetadata()
                .withName(role)
                .endMetadata()
                .withRules(rules)
                .build())
        .create();
    client
        .rbac()
        .roleBindings()
        .inNamespace(namespace)
        .resource(
            new RoleBindingBuilder()
                .withNewMetadata()
                .withName(role)
                .endMetadata()
                .withNewRoleRef("rbac.authorization.k8s.io", "Role", role)
                .withSubjects(subjects)
                .build())
        .create();
  }

  /** A service account as an RBAC subject. */
  public static Subject serviceAccount(String namespace, String name) {
    return new SubjectBuilder()
        .withKind("ServiceAccount")
        .withName(name)
        .withNamespace(namespace)
        .build();
  }

  /** A user (as an authenticator or {@code kubectl --as} names them) as an RBAC subject. */
  public static Subject user(String name) {
    return new SubjectBuilder()
        .withApiGroup("rbac.authorization.k8s.io")
        .withKind("User")
        .withName(name)
        .build();
  }

  /**
   * Mints a token for an existing service account with the TokenRequest API (as the kubelet does
   * for projected volumes). No audiences means the apiserver's own.
   */
  public String serviceAccountToken(
      String namespace, String serviceAccount, Duration lifetime, String... audiences) {
    TokenRequest request =
        new TokenRequestBuilder()
            .withNewSpec()
            .withAudiences(List.of(audiences))
            .withExpirationSeconds(lifetime.toSeconds())
            .endSpec()
            .build();
    return client
        .serviceAccounts()
        .inNamespace(namespace)
        .withName(serviceAccount)
        .tokenRequest(request)
        .getStatus()
        .getToken();
  }

  /**
   * A client that authenticates with {@code bearerToken} only (no client certificate, no
   * kubeconfig).
   */
  public KubernetesClient clientWithToken(String bearerToken) {
    return buildClient(new ConfigBuilder(baseConfig()).withOauthToken(bearerToken).build());
  }

  /** Runs the built kubectl against this cluster as admin. */
  public ProcessResult kubectl(String... args) {
    return kubectlWithInput(null, args);
  }

  /**
   * Like {@link #kubectl(String...)} with {@code stdin} fed to the command (e.g. {@code apply -f
   * -}).
   */
  public ProcessResult kubectlWithInput(String stdin, String... args) {
    List<String> command = new ArrayList<>();
    command.add(Tools.bin("kubectl").toString());
    command.add("--kubeconfig=" + adminKubeconfig);
    command.addAll(List.of(args));
    ProcessBuilder builder = new ProcessBuilder(command);
    builder.environment().remove("KUBECONFIG");
    try {
      Process process = builder.start();
      CompletableFuture<String> out = drain(process.getInputStream());
      CompletableFuture<String> err = drain(process.getErrorStream());
      try (OutputStream in = process.getOutputStream()) {
        if (stdin != null) {
          in.write(stdin.getBytes(StandardCharsets.UTF_8));
        }
      }
      if (!process.waitFor(KUBECTL_TIMEOUT.toSeconds(), TimeUnit.SECONDS)) {
        process.destroyForcibly();
        throw new IllegalStateException(
            "kubectl "
                + String.join(" ", args)
                + " did not finish within "
                + KUBECTL_TIMEOUT.toSeconds()
                + " s; stderr so far: "
                + err.getNow(""));
      }
      return new ProcessResult(process.exitValue(), out.join(), err.join());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while running kubectl", e);
    }
  }

  /** Stops kube-apiserver only (etcd and the controller-manager keep running), for outage tests. */
  public void stopApiServer() {
    apiServer.stop();
  }

  /**
   * Starts kube-apiserver again on the same port with the same etcd; returns once /readyz is ok.
   */
  public void startApiServer() {
    apiServer.start();
  }

  public boolean isApiServerRunning() {
    return apiServer.isRunning();
  }

  /** Where etcd.log, kube-apiserver.log and kube-controller-manager.log are written. */
  public Path logDir() {
    return ManagedProcess.logDir();
  }

  private Config baseConfig() {
    return new ConfigBuilder(Config.empty())
        .withMasterUrl(apiServer.url())
        .withCaCertData(Kubeconfig.b64(pki.caCertPem()))
        // Few, quick retries: a local apiserver either answers or is down on purpose
        // (outage tests), and the default back-off would hide that for minutes.
        .withRequestRetryBackoffLimit(2)
        .withRequestRetryBackoffInterval(200)
        .withConnectionTimeout(5_000)
        .withRequestTimeout(30_000)
        .build();
  }

  private static KubernetesClient buildClient(Config config) {
    return new KubernetesClientBuilder()
        .withConfig(config)
        .withHttpClientFactory(new JdkHttpClientFactory())
        .build();
  }

  private void awaitDefaultServiceAccount(String namespace) {
    Wait.until(
        "service account default/"
            + namespace
            + " (kube-controller-manager's serviceaccount controller)",
        Duration.ofSeconds(60),
        () -> client.serviceAccounts().inNamespace(namespace).withName("default").get() != null,
        () ->
            "--- last 20 lines of "
                + controllerManager.logFile()
                + " ---\n"
                + controllerManager.logTail(20));
  }

  private void stopAll() {
    controllerManager.stop();
    apiServer.stop();
    etcd.stop();
  }

  /** On a thread of its own: with two pipes, reading one after the other can deadlock. */
  private static CompletableFuture<String> drain(InputStream stream) {
    return CompletableFuture.supplyAsync(
        () -> {
          try (stream) {
            ByteArrayOutputStream buffer = new ByteArrayOutputStream();
            stream.transferTo(buffer);
            return buffer.toString(StandardCharsets.UTF_8);
          } catch (IOException e) {
            throw new UncheckedIOException(e);
          }
        },
        PIPE_READERS);
  }

  private static void createDirectory(Path dir) {
    try {
      Files.createDirectories(dir);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
