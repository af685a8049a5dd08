package dev.capgate.cli.kube;

import io.fabric8.kubernetes.client.Config;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.Base64;
import java.util.Optional;

/**
 * The algorithm of a kubeconfig's client key, for Fabric8. kubectl reads it from the key itself;
 * Fabric8 takes {@code clientKeyAlgo} (default RSA) and fails on a PKCS#8 EC key ("Invalid DER:
 * object is not integer"), which is what kubeadm-style and the e2e cluster's admin kubeconfigs
 * hold.
 */
final class ClientKeyAlgorithm {
  private static final String PKCS8 = "-----BEGIN PRIVATE KEY-----";
  private static final String SEC1_EC = "-----BEGIN EC PRIVATE KEY-----";

  private ClientKeyAlgorithm() {}

  /** Sets {@code clientKeyAlgo} from the client key when the key says which it is. */
  static void apply(Config config) {
    pem(config).flatMap(ClientKeyAlgorithm::of).ifPresent(config::setClientKeyAlgo);
  }

  /** "EC" or "RSA" for a PEM private key, empty when the PEM is neither or unreadable. */
  static Optional<String> of(String pem) {
    if (pem.contains(SEC1_EC)) {
      return Optional.of("EC");
    }
    int start = pem.indexOf(PKCS8);
    if (start < 0) {
      return Optional.empty();
    }
    int end = pem.indexOf("-----END", start + PKCS8.length());
    if (end < 0) {
      return Optional.empty();
    }
    byte[] der;
    try {
      der = Base64.getMimeDecoder().decode(pem.substring(start + PKCS8.length(), end));
    } catch (IllegalArgumentException e) {
      return Optional.empty();
    }
    for (String algorithm : new String[] {"RSA", "EC"}) {
      try {
        KeyFactory.getInstance(algorithm).generatePrivate(new PKCS8EncodedKeySpec(der));
        return Optional.of(algorithm);
      } catch (GeneralSecurityException e) {
        // not this algorithm: try the next
      }
    }
    return Optional.empty();
  }

  private static Optional<String> pem(Config config) {
    try {
      if (config.getClientKeyData() != null) {
        return Optional.of(
            new String(
                Base64.getMimeDecoder().decode(config.getClientKeyData()),
                StandardCharsets.US_ASCII));
      }
      if (config.getClientKeyFile() != null) {
        return Optional.of(Files.readString(Path.of(config.getClientKeyFile())));
      }
    } catch (IOException | IllegalArgumentException e) {
      // Fabric8 reports an unreadable key itself, naming the file.
    }
    return Optional.empty();
  }
}
