package dev.capgate.testkit;

import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import javax.net.ssl.SSLContext;

/**
 * kube-controller-manager: what makes the API behave like a cluster without nodes — namespace
 * deletion, garbage collection, service accounts and their tokens, the root CA config map, CSR
 * signing. Reads from a {@link Pki} directory: {@code ca.crt/.key}, {@code sa.key}, {@code
 * controller-manager.crt/.key} (its serving certificate) and a kubeconfig.
 */
public final class ControllerManagerProcess extends ManagedProcess {
  private final Path pkiDir;
  private final Path kubeconfig;
  private final List<String> extraFlags;
  private final int port = Ports.free();
  private final HealthProbe healthz;

  public ControllerManagerProcess(
      Path pkiDir, Path kubeconfig, SSLContext probeTls, List<String> extraFlags) {
    super("kube-controller-manager", Duration.ofSeconds(90));
    this.pkiDir = pkiDir;
    this.kubeconfig = kubeconfig;
    this.extraFlags = List.copyOf(extraFlags);
    this.healthz =
        new HealthProbe(
            probeTls, URI.create("https://127.0.0.1:" + port + "/healthz"), Duration.ofSeconds(5));
  }

  @Override
  protected List<String> command() {
    List<String> cmd =
        new ArrayList<>(
            List.of(
                Tools.bin("kube-controller-manager").toString(),
                "--kubeconfig=" + kubeconfig,
                // No --authentication/authorization-kubeconfig: /healthz is always allowed, nothing
                // else of its own endpoints is used, and with them it logs CA-bundle errors for a
                // request-header CA this apiserver does not have.
                "--bind-address=127.0.0.1",
                "--secure-port=" + port,
                "--tls-cert-file=" + pkiDir.resolve("controller-manager.crt"),
                "--tls-private-key-file=" + pkiDir.resolve("controller-manager.key"),
                "--service-account-private-key-file=" + pkiDir.resolve("sa.key"),
                "--root-ca-file=" + pkiDir.resolve("ca.crt"),
                "--cluster-signing-cert-file=" + pkiDir.resolve("ca.crt"),
                "--cluster-signing-key-file=" + pkiDir.resolve("ca.key"),
                // Each controller acts as its own service account, so RBAC is exercised as in a
                // real cluster.
                "--use-service-account-credentials=true",
                "--leader-elect=false",
                // Client-side rate limits (default 20 qps) make each of ~40 controllers wait for
                // its
                // service account and token in turn: ~5 s of start-up on a local apiserver for
                // nothing.
                "--kube-api-qps=200",
                "--kube-api-burst=400",
                // The default set: none of it needs a node, and a later real node needs all of it.
                "--controllers=*",
                "--profiling=false"));
    cmd.addAll(extraFlags);
    return cmd;
  }

  @Override
  protected boolean ready() throws Exception {
    return healthz.get().statusCode() == 200;
  }

  @Override
  protected String readinessDetail() {
    return healthz.lastAnswer();
  }
}
