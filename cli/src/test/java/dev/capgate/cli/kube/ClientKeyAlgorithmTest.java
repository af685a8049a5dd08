package dev.capgate.cli.kube;

import static org.assertj.core.api.Assertions.assertThat;

import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.util.Base64;
import org.junit.jupiter.api.Test;

class ClientKeyAlgorithmTest {
  private static String pkcs8(String algorithm, int size) throws Exception {
    KeyPairGenerator generator = KeyPairGenerator.getInstance(algorithm);
    generator.initialize(size);
    PrivateKey key = generator.generateKeyPair().getPrivate();
    return "-----BEGIN PRIVATE KEY-----\n"
        + Base64.getMimeEncoder(64, "\n".getBytes()).encodeToString(key.getEncoded())
        + "\n-----END PRIVATE KEY-----\n";
  }

  @Test
  void aPkcs8EcKeyIsEc() throws Exception {
    assertThat(ClientKeyAlgorithm.of(pkcs8("EC", 256))).contains("EC");
  }

  @Test
  void aPkcs8RsaKeyIsRsa() throws Exception {
    assertThat(ClientKeyAlgorithm.of(pkcs8("RSA", 2048))).contains("RSA");
  }

  @Test
  void aSec1EcKeyIsEcAndAnythingElseIsLeftToFabric8() {
    assertThat(ClientKeyAlgorithm.of("-----BEGIN EC PRIVATE KEY-----\nAAAA\n")).contains("EC");
    assertThat(ClientKeyAlgorithm.of("-----BEGIN RSA PRIVATE KEY-----\nAAAA\n")).isEmpty();
    assertThat(ClientKeyAlgorithm.of("-----BEGIN PRIVATE KEY-----\n!!!\n-----END PRIVATE KEY-----"))
        .isEmpty();
  }
}
