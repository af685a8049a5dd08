package dev.capgate.sidecar.stack;

import dev.capgate.api.sidecar.LeaseLedger;
import dev.capgate.api.sidecar.SidecarRole;
import dev.capgate.sidecar.kube.ApiServer;
import dev.capgate.testkit.KubeControlPlane;
import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

/**
 * A sidecar's Kubernetes identity for one session, as the operator sets it up: a service account, a
 * Role that may read this one AgentSession (get/list/watch, {@code resourceNames: [session]}) and
 * get/update/patch its lease ledger ConfigMap, nothing else; the ledger itself. The client
 * authenticates with a TokenRequest token of that account (default audience), so RBAC is real.
 */
public record SidecarAccount(
    String namespace,
    String serviceAccount,
    String session,
    String ledger,
    KubernetesClient client,
    ApiServer apiServer)
    implements AutoCloseable {

  public static SidecarAccount create(KubeControlPlane kube, String namespace, String session) {
    String account = "sidecar-" + session;
    String ledger = LeaseLedger.configMapName(session);
    KubernetesClient admin = kube.client();
    kube.newServiceAccount(namespace, account);
    kube.grant(
        namespace,
        account,
        SidecarRole.rules(session, false),
        KubeControlPlane.serviceAccount(namespace, account));
    admin
        .configMaps()
        .inNamespace(namespace)
        .resource(new ConfigMapBuilder().withNewMetadata().withName(ledger).endMetadata().build())
        .create();
    String apiToken = kube.serviceAccountToken(namespace, account, Duration.ofHours(1));
    // What the sidecar's own client uses: the API server's URL and CA, the token in a file (as the
    // kubelet mounts it).
    ApiServer apiServer;
    try {
      Path tokenFile = Files.createTempFile("sidecar-token-", "");
      tokenFile.toFile().deleteOnExit();
      Files.writeString(tokenFile, apiToken);
      apiServer = new ApiServer(URI.create(kube.url()), kube.caCertPem(), tokenFile);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return new SidecarAccount(
        namespace, account, session, ledger, kube.clientWithToken(apiToken), apiServer);
  }

  /**
   * A projected-style identity token (audience {@code capgate}) written where the sidecar reads it:
   * what the sidecar presents to the operator, who alone may exchange it for a Vault token.
   */
  public Path writeIdentityToken(KubeControlPlane kube, Path dir) {
    try {
      return Files.writeString(
          dir.resolve("identity-token-" + serviceAccount),
          kube.serviceAccountToken(namespace, serviceAccount, Duration.ofHours(1), "capgate"));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  @Override
  public void close() {
    client.close();
  }
}
