package dev.capgate.testkit;

import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import javax.net.ssl.SSLContext;

/**
 * kube-apiserver on 127.0.0.1 with a fixed (free) port, so a stop/start keeps the URL that clients
 * and kubeconfigs already hold. Reads its certificates from a directory laid out by {@link Pki}:
 * {@code ca.crt}, {@code apiserver.crt/.key}, {@code sa.key}, {@code sa.pub}.
 */
public final class ApiServerProcess extends ManagedProcess {

  /**
   * What differs between a test control plane and a real node later: the advertise address (must be
   * reachable from pods once there are any) and extra flags (kubelet client certificates...).
   */
  public record Settings(
      Path pkiDir,
      String etcdServers,
      String advertiseAddress,
      String serviceAccountIssuer,
      List<String> apiAudiences,
      String serviceClusterIpRange,
      List<String> extraFlags) {

    public static Settings defaults(Path pkiDir, String etcdServers) {
      String issuer = "https://kubernetes.default.svc.cluster.local";
      // Only the issuer: a token minted for Vault (audience "vault") must not work against
      // the Kubernetes API. OpenBao's TokenReview names its audience explicitly, so Vault
      // logins do not need the API server to accept it (invariant 2).
      return new Settings(
          pkiDir, etcdServers, "127.0.0.1", issuer, List.of(issuer), "10.96.0.0/16", List.of());
    }
  }

  private final Settings settings;
  private final int port = Ports.free();
  private final HealthProbe readyz;

  /** {@code probeTls} must present a client certificate that may read /readyz (system:masters). */
  public ApiServerProcess(Settings settings, SSLContext probeTls) {
    // The first start bootstraps RBAC, priority levels and CRD machinery: tens of seconds on 2 busy
    // cores.
    super("kube-apiserver", Duration.ofSeconds(180));
    this.settings = settings;
    this.readyz = new HealthProbe(probeTls, URI.create(url() + "/readyz"), Duration.ofSeconds(5));
  }

  public String url() {
    return "https://127.0.0.1:" + port;
  }

  public int port() {
    return port;
  }

  public Settings settings() {
    return settings;
  }

  @Override
  protected List<String> command() {
    Path pki = settings.pkiDir();
    List<String> cmd =
        new ArrayList<>(
            List.of(
                Tools.bin("kube-apiserver").toString(),
                "--etcd-servers=" + settings.etcdServers(),
                "--bind-address=127.0.0.1",
                "--advertise-address=" + settings.advertiseAddress(),
                "--secure-port=" + port,
                "--tls-cert-file=" + pki.resolve("apiserver.crt"),
                "--tls-private-key-file=" + pki.resolve("apiserver.key"),
                "--client-ca-file=" + pki.resolve("ca.crt"),
                "--service-account-issuer=" + settings.serviceAccountIssuer(),
                "--service-account-key-file=" + pki.resolve("sa.pub"),
                "--service-account-signing-key-file=" + pki.resolve("sa.key"),
                "--api-audiences=" + String.join(",", settings.apiAudiences()),
                "--authorization-mode=Node,RBAC",
                "--service-cluster-ip-range=" + settings.serviceClusterIpRange(),
                "--allow-privileged=true",
                // Nothing in a test run profiles; fewer endpoints, less to go wrong.
                "--profiling=false"));
    if (settings.advertiseAddress().startsWith("127.")) {
      // The "kubernetes" Service cannot point at loopback (Endpoints validation rejects it), and
      // nothing without a node needs that Service: skip the reconciler instead of logging an
      // error every 10 s. A real node advertises a routable address and keeps the default.
      cmd.add("--endpoint-reconciler-type=none");
    }
    // Without it a SIGTERM waits for open watches (the controller-manager's) to end and the
    // apiserver needs SIGKILL after ~60 s; with it, stop() takes about a second, exit code 0.
    cmd.add("--shutdown-watch-termination-grace-period=1s");
    cmd.addAll(settings.extraFlags());
    return cmd;
  }

  @Override
  protected boolean ready() throws Exception {
    return readyz.get().statusCode() == 200;
  }

  @Override
  protected String readinessDetail() {
    return readyz.lastAnswer();
  }
}
