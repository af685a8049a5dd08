package dev.capgate.sidecar.dataplane;

import static org.assertj.core.api.Assertions.assertThat;

import dev.capgate.sidecar.netns.Command;
import dev.capgate.sidecar.netns.PodNetns;
import dev.capgate.testkit.KeycloakServer;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What the OAuth dataplane ITs ({@link OAuthCredentialsIT}, {@link OAuthIdentityExchangeIT}) set up
 * alike: Keycloak as {@code https://keycloak.test:8943} seen from the pod, a {@code capgate} realm
 * with the sidecar's confidential client, REST upstreams that take the realm's tokens, the pod's
 * hosts file (the sidecar resolves the token endpoint itself), and the closing check that no token
 * or secret reached an output or log. Each IT keeps what it is about: its realm settings, clients,
 * grants and credentials.
 */
final class KeycloakInPod {
  static final String REALM = "capgate";
  static final int PORT = 8943;
  static final String KEYCLOAK = "https://keycloak.test:" + PORT;
  static final String ISSUER = KEYCLOAK + "/realms/" + REALM;
  static final String TOKEN_URL = ISSUER + "/protocol/openid-connect/token";
  static final String SIDECAR_CLIENT = "capgate-sidecar";

  /** The host as the pod reaches it (its bridges to test servers listen there). */
  private static final String HOST_IN_POD = "198.18.0.2";

  private KeycloakInPod() {}

  /**
   * A Keycloak with a certificate of the pod's upstream CA for {@code keycloak.test}, bridged into
   * the pod at {@link #PORT}; not started yet, so that the caller holds it (and stops it) even if
   * starting fails.
   */
  static KeycloakServer keycloak(PodNetns pod, String... features) {
    KeycloakServer keycloak =
        new KeycloakServer(pod.issueUpstreamCertificate("keycloak.test"), KEYCLOAK, features);
    pod.bridgeToHost(PORT, new InetSocketAddress("127.0.0.1", keycloak.httpsPort()));
    return keycloak;
  }

  /** The {@link #REALM} realm, enabled, with {@code settings} on top. */
  static void createRealm(KeycloakServer keycloak, Map<String, Object> settings) {
    Map<String, Object> realm = new LinkedHashMap<>(Map.of("realm", REALM, "enabled", true));
    realm.putAll(settings);
    keycloak.adminOk("POST", "/admin/realms", realm);
  }

  /** The sidecar's confidential client (no browser flow) with {@code secret}, and {@code extra}. */
  static void createSidecarClient(
      KeycloakServer keycloak, String secret, Map<String, Object> extra) {
    Map<String, Object> client =
        new LinkedHashMap<>(
            Map.of(
                "clientId",
                SIDECAR_CLIENT,
                "secret",
                secret,
                "publicClient",
                false,
                "standardFlowEnabled",
                false));
    client.putAll(extra);
    keycloak.adminOk("POST", "/admin/realms/" + REALM + "/clients", client);
  }

  /** Keycloak's own id of the client named {@code clientId} (what its admin paths take). */
  static String clientUuid(KeycloakServer keycloak, String clientId) {
    return keycloak
        .adminOk("GET", "/admin/realms/" + REALM + "/clients?clientId=" + clientId, null)
        .json()
        .get(0)
        .path("id")
        .asText();
  }

  /**
   * A REST upstream at {@code https://<host>:<podPort>} in the pod that accepts only tokens the
   * realm signed for {@code audience}.
   */
  static AudienceCheckingUpstream api(
      PodNetns pod, KeycloakServer keycloak, String audience, String host, int podPort)
      throws Exception {
    AudienceCheckingUpstream api =
        AudienceCheckingUpstream.start(
            audience,
            ISSUER,
            () -> keycloak.jwks(REALM),
            pod.issueUpstreamCertificate(host),
            pod.dir().resolve("apis"));
    pod.bridgeToHost(podPort, new InetSocketAddress("127.0.0.1", api.port()));
    return api;
  }

  /** keycloak.test and {@code hosts} resolve to the host's bridges in the pod's hosts file. */
  static void resolveInPod(PodNetns pod, String... hosts) throws Exception {
    pod.writePodHosts(
        Files.readString(Path.of("/etc/netns", pod.podNamespace(), "hosts"))
            + HOST_IN_POD
            + " keycloak.test "
            + String.join(" ", hosts)
            + "\n");
  }

  /**
   * Asserts that none of {@code secrets} is in the agent's {@code outputs}, the pod's logs or
   * Keycloak's log; returns how many texts were searched.
   */
  static int assertNoSecretIn(
      Collection<String> secrets,
      List<Command.Result> outputs,
      PodNetns pod,
      KeycloakServer keycloak)
      throws Exception {
    List<String> texts = new ArrayList<>();
    outputs.forEach(r -> texts.add(r.all()));
    for (Path log : pod.logFiles()) {
      texts.add(Files.readString(log));
    }
    texts.add(Files.readString(keycloak.logFile()));
    for (String secret : secrets) {
      for (String text : texts) {
        assertThat(text.contains(secret)).as("a token or secret in an output or log").isFalse();
      }
    }
    return texts.size();
  }
}
