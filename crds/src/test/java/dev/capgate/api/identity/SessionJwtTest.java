package dev.capgate.api.identity;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.security.Signature;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.Map;
import org.junit.jupiter.api.Test;

class SessionJwtTest {
  private static final Instant NOW = Instant.parse("2026-12-06T12:00:00Z");

  private static SessionJwt.Claims claims() {
    return new SessionJwt.Claims(
        "capgate",
        "vault",
        "alice@example.com",
        "claude",
        "team-a",
        "fix-42",
        "uid-s",
        "agent-pod",
        "uid-p",
        NOW,
        null);
  }

  @Test
  void theJdkVerifiesTheSignatureOverTheSigningInput() throws Exception {
    KeyPair keys = SigningKeys.generate();
    String jwt = SessionJwt.sign(claims(), keys);
    String[] parts = jwt.split("\\.");
    assertThat(parts).hasSize(3);

    // Independently of SessionJwt.verify: the raw JDK, ES256 = P1363 (r || s, 64 bytes).
    byte[] signature = Base64.getUrlDecoder().decode(parts[2]);
    assertThat(signature).hasSize(64);
    Signature jdk = Signature.getInstance("SHA256withECDSAinP1363Format");
    jdk.initVerify(keys.getPublic());
    jdk.update((parts[0] + "." + parts[1]).getBytes(StandardCharsets.US_ASCII));
    assertThat(jdk.verify(signature)).isTrue();
    assertThat(jwt).doesNotContain("=");
  }

  @Test
  void headerAndClaimsAreAsSpecified() {
    KeyPair keys = SigningKeys.generate();
    String jwt = SessionJwt.sign(claims(), keys);

    assertThat(SessionJwt.header(jwt))
        .containsExactly(
            Map.entry("alg", "ES256"),
            Map.entry("typ", "JWT"),
            Map.entry("kid", SessionJwt.keyId(keys.getPublic())));
    assertThat(SessionJwt.keyId(keys.getPublic())).hasSize(16).matches("[0-9a-f]{16}");

    Map<String, Object> c = SessionJwt.verify(jwt, keys.getPublic());
    assertThat(c)
        .containsEntry("iss", "capgate")
        .containsEntry("aud", "vault")
        .containsEntry("sub", "alice@example.com")
        .containsEntry("user", "alice@example.com")
        .containsEntry("agent", "claude")
        .containsEntry("namespace", "team-a")
        .containsEntry("session", "fix-42")
        .containsEntry("session_uid", "uid-s")
        .containsEntry("pod", "agent-pod")
        .containsEntry("pod_uid", "uid-p");
    long iat = NOW.getEpochSecond();
    assertThat(((Number) c.get("iat")).longValue()).isEqualTo(iat);
    assertThat(((Number) c.get("nbf")).longValue()).isEqualTo(iat);
    assertThat(((Number) c.get("exp")).longValue()).isEqualTo(iat + 120);
    assertThat((String) c.get("jti")).matches("[0-9a-f]{32}");
    assertThat(SessionJwt.verify(SessionJwt.sign(claims(), keys), keys.getPublic()).get("jti"))
        .isNotEqualTo(c.get("jti"));
  }

  @Test
  void anotherKeyOrATamperedBodyDoesNotVerify() {
    KeyPair keys = SigningKeys.generate();
    String jwt = SessionJwt.sign(claims(), keys);
    assertThatThrownBy(() -> SessionJwt.verify(jwt, SigningKeys.generate().getPublic()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("does not verify");

    String[] parts = jwt.split("\\.");
    String forgedBody =
        Base64.getUrlEncoder()
            .withoutPadding()
            .encodeToString(
                new String(Base64.getUrlDecoder().decode(parts[1]), StandardCharsets.UTF_8)
                    .replace("alice@example.com", "bob@example.com")
                    .getBytes(StandardCharsets.UTF_8));
    assertThatThrownBy(
            () -> SessionJwt.verify(parts[0] + "." + forgedBody + "." + parts[2], keys.getPublic()))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> SessionJwt.verify("a.b", keys.getPublic()))
        .hasMessageContaining("three parts");
  }

  @Test
  void keysSurviveTheirPemForms() {
    KeyPair keys = SigningKeys.generate();
    String privatePem = SigningKeys.privateKeyPem(keys.getPrivate());
    String publicPem = SigningKeys.publicKeyPem(keys.getPublic());
    assertThat(privatePem).startsWith("-----BEGIN PRIVATE KEY-----\n");
    assertThat(publicPem).startsWith("-----BEGIN PUBLIC KEY-----\n");

    KeyPair back = SigningKeys.fromPem(privatePem, publicPem);
    String jwt =
        SessionJwt.sign(
            new SessionJwt.Claims(
                "i", "a", "u", null, "n", "s", "su", "p", "pu", NOW, Duration.ofSeconds(30)),
            back);
    assertThat(SessionJwt.verify(jwt, SigningKeys.publicKeyFromPem(publicPem)))
        .containsEntry("agent", "");
    assertThatThrownBy(() -> SigningKeys.fromPem(publicPem, publicPem))
        .isInstanceOf(IllegalArgumentException.class);
  }
}
