package dev.capgate.api.identity;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.spec.ECGenParameterSpec;
import java.security.spec.PKCS8EncodedKeySpec;
import java.security.spec.X509EncodedKeySpec;
import java.util.Base64;

/**
 * The session signing key (EC P-256) and its PEM forms: {@code PRIVATE KEY} (PKCS#8) and {@code
 * PUBLIC KEY} (SubjectPublicKeyInfo, what Vault's {@code jwt_validation_pubkeys} takes).
 */
public final class SigningKeys {
  private SigningKeys() {}

  public static KeyPair generate() {
    try {
      KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
      generator.initialize(new ECGenParameterSpec("secp256r1"));
      return generator.generateKeyPair();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("cannot generate an EC P-256 key: " + e.getMessage(), e);
    }
  }

  public static String privateKeyPem(PrivateKey key) {
    return pem("PRIVATE KEY", key.getEncoded());
  }

  public static String publicKeyPem(PublicKey key) {
    return pem("PUBLIC KEY", key.getEncoded());
  }

  /**
   * @throws IllegalArgumentException when either PEM is not an EC key of that kind
   */
  public static KeyPair fromPem(String privateKeyPem, String publicKeyPem) {
    try {
      KeyFactory factory = KeyFactory.getInstance("EC");
      PrivateKey privateKey =
          factory.generatePrivate(new PKCS8EncodedKeySpec(der(privateKeyPem, "PRIVATE KEY")));
      PublicKey publicKey =
          factory.generatePublic(new X509EncodedKeySpec(der(publicKeyPem, "PUBLIC KEY")));
      return new KeyPair(publicKey, privateKey);
    } catch (GeneralSecurityException e) {
      throw new IllegalArgumentException("not an EC key pair in PEM: " + e.getMessage(), e);
    }
  }

  public static PublicKey publicKeyFromPem(String publicKeyPem) {
    try {
      return KeyFactory.getInstance("EC")
          .generatePublic(new X509EncodedKeySpec(der(publicKeyPem, "PUBLIC KEY")));
    } catch (GeneralSecurityException e) {
      throw new IllegalArgumentException("not an EC public key in PEM: " + e.getMessage(), e);
    }
  }

  private static String pem(String type, byte[] der) {
    return "-----BEGIN "
        + type
        + "-----\n"
        + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(der)
        + "\n-----END "
        + type
        + "-----\n";
  }

  private static byte[] der(String pem, String type) {
    if (pem == null) {
      throw new IllegalArgumentException("no " + type + " PEM");
    }
    String begin = "-----BEGIN " + type + "-----";
    String end = "-----END " + type + "-----";
    int from = pem.indexOf(begin);
    int to = pem.indexOf(end);
    if (from < 0 || to < from) {
      throw new IllegalArgumentException("no " + type + " PEM block");
    }
    return Base64.getMimeDecoder().decode(pem.substring(from + begin.length(), to));
  }
}
