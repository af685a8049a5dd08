package dev.capgate.testkit;

import java.net.URI;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * A single-member etcd on loopback, plain HTTP (only the apiserver talks to it, over 127.0.0.1).
 * {@code --unsafe-no-fsync}: a test cluster trades crash durability for a much faster apiserver on
 * slow disks; a clean stop/start still keeps every write.
 */
public final class EtcdProcess extends ManagedProcess {
  private final Path dataDir;
  private final int clientPort = Ports.free();
  private final int peerPort = Ports.free();
  private final HealthProbe health =
      new HealthProbe(null, URI.create(clientUrl() + "/health"), Duration.ofSeconds(2));

  public EtcdProcess(Path dataDir) {
    super("etcd", Duration.ofSeconds(60));
    this.dataDir = dataDir;
  }

  public String clientUrl() {
    return "http://127.0.0.1:" + clientPort;
  }

  @Override
  protected List<String> command() {
    String peerUrl = "http://127.0.0.1:" + peerPort;
    return List.of(
        Tools.bin("etcd").toString(),
        "--name=capgate-testkit",
        "--data-dir=" + dataDir,
        "--listen-client-urls=" + clientUrl(),
        "--advertise-client-urls=" + clientUrl(),
        "--listen-peer-urls=" + peerUrl,
        "--initial-advertise-peer-urls=" + peerUrl,
        "--initial-cluster=capgate-testkit=" + peerUrl,
        "--initial-cluster-state=new",
        "--unsafe-no-fsync=true",
        "--log-level=warn");
  }

  @Override
  protected boolean ready() throws Exception {
    HttpResponse<String> response = health.get();
    return response.statusCode() == 200 && response.body().contains("\"health\":\"true\"");
  }

  @Override
  protected String readinessDetail() {
    return health.lastAnswer();
  }
}
