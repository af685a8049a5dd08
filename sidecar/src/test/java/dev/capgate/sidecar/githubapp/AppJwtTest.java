package dev.capgate.sidecar.githubapp;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.Signature;
import java.time.Instant;
import java.util.Base64;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.openssl.jcajce.JcaPKCS8Generator;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The App JWT as GitHub's documentation asks for it, from the key forms GitHub hands out. */
class AppJwtTest {
  static KeyPair keys;

  @BeforeAll
  static void keys() throws Exception {
    KeyPairGenerator rsa = KeyPairGenerator.getInstance("RSA");
    rsa.initialize(2048);
    keys = rsa.generateKeyPair();
  }

  static String pem(Object object) throws Exception {
    StringWriter out = new StringWriter();
    try (JcaPEMWriter writer = new JcaPEMWriter(out)) {
      writer.writeObject(object);
    }
    return out.toString();
  }

  @Test
  void signsRs256WithBackdatedIatNineMinuteExpiryAndTheAppIdAsIssuer() throws Exception {
    Instant now = Instant.parse("2026-12-07T06:00:00Z");
    String jwt = AppJwt.sign(keys.getPrivate(), 123456, now);
    String[] parts = jwt.split("\\.");
    assertThat(parts).hasSize(3);
    ObjectMapper json = new ObjectMapper();
    JsonNode header = json.readTree(Base64.getUrlDecoder().decode(parts[0]));
    JsonNode claims = json.readTree(Base64.getUrlDecoder().decode(parts[1]));
    assertThat(header.path("alg").asText()).isEqualTo("RS256");
    assertThat(claims.path("iss").asText()).isEqualTo("123456");
    assertThat(claims.path("iat").asLong()).isEqualTo(now.getEpochSecond() - 60);
    assertThat(claims.path("exp").asLong()).isEqualTo(now.getEpochSecond() + 540);
    assertThat(claims.path("exp").asLong() - now.getEpochSecond())
        .as("GitHub refuses exp more than 10 minutes ahead")
        .isLessThanOrEqualTo(600);
    Signature rsa = Signature.getInstance("SHA256withRSA");
    rsa.initVerify(keys.getPublic());
    rsa.update((parts[0] + "." + parts[1]).getBytes(StandardCharsets.US_ASCII));
    assertThat(rsa.verify(Base64.getUrlDecoder().decode(parts[2]))).isTrue();
  }

  @Test
  void readsPkcs1AsGitHubHandsItOutAndPkcs8() throws Exception {
    String pkcs1 = pem(keys);
    assertThat(pkcs1).startsWith("-----BEGIN RSA PRIVATE KEY-----");
    assertThat(AppJwt.privateKey(pkcs1).getEncoded()).isEqualTo(keys.getPrivate().getEncoded());
    String pkcs8 = pem(new JcaPKCS8Generator(keys.getPrivate(), null));
    assertThat(pkcs8).startsWith("-----BEGIN PRIVATE KEY-----");
    assertThat(AppJwt.privateKey(pkcs8).getEncoded()).isEqualTo(keys.getPrivate().getEncoded());
  }

  @Test
  void refusesWhatIsNoRsaKeyWithoutQuotingIt() throws Exception {
    KeyPairGenerator ec = KeyPairGenerator.getInstance("EC");
    ec.initialize(256);
    String ecKey = pem(new JcaPKCS8Generator(ec.generateKeyPair().getPrivate(), null));
    String truncated = pem(keys).substring(0, 200);
    for (String bad : new String[] {"not a key", ecKey, truncated, pem(keys.getPublic())}) {
      assertThatThrownBy(() -> AppJwt.privateKey(bad))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessage("the App private key is not a PEM RSA private key");
    }
  }
}
