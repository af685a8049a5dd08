package dev.capgate.operator.identity;

import dev.capgate.api.identity.SessionJwt;
import dev.capgate.api.identity.SigningKeys;
import dev.capgate.api.v1alpha1.AgentSession;
import io.fabric8.kubernetes.api.model.Pod;
import java.security.KeyPair;
import java.time.Clock;

/**
 * Signs the session JWT for one attested pod: Vault's JWT auth verifies it with the public key and
 * maps {@code user}, {@code namespace}, {@code session}, {@code agent}, {@code pod} into the token
 * (alias name and metadata), on which its templated policy is written.
 */
public final class SessionSigner {
  private final KeyPair keys;
  private final String issuer;
  private final String audience;
  private final Clock clock;

  public SessionSigner(KeyPair keys, String issuer, String audience, Clock clock) {
    this.keys = keys;
    this.issuer = issuer;
    this.audience = audience;
    this.clock = clock;
  }

  public String sign(AgentSession session, Pod pod) {
    return SessionJwt.sign(
        new SessionJwt.Claims(
            issuer,
            audience,
            session.getSpec().user(),
            session.getSpec().agent(),
            session.getMetadata().getNamespace(),
            session.getMetadata().getName(),
            session.getMetadata().getUid(),
            pod.getMetadata().getName(),
            pod.getMetadata().getUid(),
            clock.instant(),
            SessionJwt.LIFETIME),
        keys);
  }

  public String keyId() {
    return SessionJwt.keyId(keys.getPublic());
  }

  public String publicKeyPem() {
    return SigningKeys.publicKeyPem(keys.getPublic());
  }
}
