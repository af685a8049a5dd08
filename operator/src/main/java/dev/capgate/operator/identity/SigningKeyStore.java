package dev.capgate.operator.identity;

import dev.capgate.api.identity.SessionJwt;
import dev.capgate.api.identity.SigningKeys;
import dev.capgate.operator.secrets.OperatorSecrets;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.security.KeyPair;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps the session-signing key (EC P-256) in a Secret of the operator's namespace, created at the
 * first start: {@code tls.key} (PKCS#8 PEM) and {@code public.pem} (SPKI PEM, what the admin gives
 * Vault as {@code jwt_validation_pubkeys}). Replicas and restarts share it. An existing Secret is
 * never replaced: Vault trusts its public key, and a silent new key would stop every sidecar.
 */
public final class SigningKeyStore {
  private static final Logger LOG = LoggerFactory.getLogger(SigningKeyStore.class);
  public static final String PRIVATE_KEY = "tls.key";
  public static final String PUBLIC_KEY = "public.pem";

  private final KubernetesClient client;

  public SigningKeyStore(KubernetesClient client) {
    this.client = client;
  }

  /**
   * @throws IllegalStateException when the Secret exists but does not hold a usable key pair
   */
  public KeyPair loadOrCreate(String namespace, String secretName) {
    Secret existing = client.secrets().inNamespace(namespace).withName(secretName).get();
    if (existing != null) {
      KeyPair keys = parse(existing, namespace, secretName);
      LOG.info(
          "session signing key {} from secret {}/{}",
          SessionJwt.keyId(keys.getPublic()),
          namespace,
          secretName);
      return keys;
    }
    KeyPair keys = SigningKeys.generate();
    Secret secret =
        OperatorSecrets.of(
            namespace,
            secretName,
            "session-signer",
            Map.of("capgate.dev/key-id", SessionJwt.keyId(keys.getPublic())),
            "Opaque",
            Map.of(
                PRIVATE_KEY,
                SigningKeys.privateKeyPem(keys.getPrivate()),
                PUBLIC_KEY,
                SigningKeys.publicKeyPem(keys.getPublic())));
    try {
      client.secrets().resource(secret).create();
    } catch (KubernetesClientException e) {
      if (e.getCode() == 409) {
        // Another replica created it first: sign with that one, so Vault needs one public key.
        return loadOrCreate(namespace, secretName);
      }
      throw e;
    }
    LOG.info(
        "created the session signing key {} in secret {}/{}: configure Vault's JWT auth with its {}",
        SessionJwt.keyId(keys.getPublic()),
        namespace,
        secretName,
        PUBLIC_KEY);
    return keys;
  }

  private static KeyPair parse(Secret secret, String namespace, String name) {
    Map<String, String> data = secret.getData() == null ? Map.of() : secret.getData();
    if (!data.containsKey(PRIVATE_KEY) || !data.containsKey(PUBLIC_KEY)) {
      throw new IllegalStateException(
          "secret "
              + namespace
              + "/"
              + name
              + " must hold "
              + PRIVATE_KEY
              + " and "
              + PUBLIC_KEY
              + " (the session signing key); delete it to have the operator create a new one"
              + " (and give Vault the new public.pem)");
    }
    try {
      return SigningKeys.fromPem(
          OperatorSecrets.text(secret, PRIVATE_KEY), OperatorSecrets.text(secret, PUBLIC_KEY));
    } catch (IllegalArgumentException e) {
      throw new IllegalStateException(
          "secret "
              + namespace
              + "/"
              + name
              + " does not hold an EC key pair in PEM ("
              + e.getMessage()
              + ")",
          e);
    }
  }
}
