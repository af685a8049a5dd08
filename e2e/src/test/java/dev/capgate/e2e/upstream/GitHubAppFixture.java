package dev.capgate.e2e.upstream;

import dev.capgate.testkit.OpenBaoServer;
import io.vertx.core.json.JsonObject;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;

/**
 * What the GitHub App ITs set up the same way: an App key pair, the GitHub-style App installed on
 * acme's repo-a and repo-b, and that key in a fresh OpenBao KV mount with a read-only token for the
 * sidecar. Each IT keeps what differs (its upstream's hosts, its clock, its extra secrets).
 *
 * @param keys the App's key pair (the upstream checks JWTs with the public half)
 * @param app the GitHub-style App that holds every minted token to its scope
 * @param mount the KV v2 mount: the private key is at {@code <mount>/data/github-app/acme}
 * @param tokenFile a file with an OpenBao token that may read the mount (and nothing else)
 */
public record GitHubAppFixture(KeyPair keys, GitHubApp app, String mount, Path tokenFile) {

  /** The Vault path of the App's private key, as a credential's {@code privateKey.path}. */
  public String privateKeyPath() {
    return mount + "/data/github-app/acme";
  }

  /** A new App key, the App on acme/{repo-a,repo-b}, and its key in {@code bao}. */
  public static GitHubAppFixture create(
      OpenBaoServer bao, Path dir, long appId, long installation, Clock clock) throws Exception {
    KeyPair keys = newKey();
    GitHubApp app =
        new GitHubApp(
            appId,
            keys.getPublic(),
            installation,
            "acme",
            Set.of("repo-a", "repo-b"),
            Map.of("contents", "write", "pull_requests", "write", "metadata", "read"),
            clock);
    String mount = bao.newKvMount();
    bao.putKv(mount + "/github-app/acme", Map.of("private_key", pkcs1(keys)));
    bao.request(
        "PUT",
        "sys/policies/acl/read-" + mount,
        Map.of("policy", "path \"" + mount + "/data/*\" { capabilities = [\"read\"] }"));
    String token =
        new JsonObject(
                bao.request(
                    "POST",
                    "auth/token/create",
                    Map.of(
                        "policies",
                        List.of("read-" + mount),
                        "no_default_policy",
                        true,
                        "ttl",
                        "1h")))
            .getJsonObject("auth")
            .getString("client_token");
    Path tokenFile = Files.writeString(dir.resolve("vault-token"), token + "\n");
    return new GitHubAppFixture(keys, app, mount, tokenFile);
  }

  /** A 2048-bit RSA key pair, the kind GitHub generates for an App. */
  public static KeyPair newKey() throws Exception {
    KeyPairGenerator rsa = KeyPairGenerator.getInstance("RSA");
    rsa.initialize(2048);
    return rsa.generateKeyPair();
  }

  /** The private key as GitHub hands it out: {@code BEGIN RSA PRIVATE KEY} (PKCS#1) PEM. */
  public static String pkcs1(KeyPair keys) throws Exception {
    StringWriter out = new StringWriter();
    try (JcaPEMWriter pem = new JcaPEMWriter(out)) {
      pem.writeObject(keys);
    }
    return out.toString();
  }
}
