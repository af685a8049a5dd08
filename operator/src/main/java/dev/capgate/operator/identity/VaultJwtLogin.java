package dev.capgate.operator.identity;

import com.fasterxml.jackson.databind.JsonNode;
import dev.capgate.common.vault.VaultClient;
import dev.capgate.common.vault.VaultReply;
import dev.capgate.operator.metrics.OperatorMetrics;
import dev.capgate.operator.metrics.OperatorMetrics.VaultOperation;
import dev.capgate.operator.metrics.OperatorMetrics.VaultOutcome;
import java.time.Duration;
import java.util.Map;
import java.util.Objects;

/**
 * {@code POST /v1/auth/<mount>/login {"role", "jwt"}} with {@code X-Vault-Wrap-TTL}: Vault answers
 * with a single-use wrapping token instead of the token itself, so the operator never holds a
 * session's Vault token, and the sidecar alone can unwrap it (once; an unwrap by anyone else first
 * makes the sidecar's fail, which it reports). Through Capgate's one Vault client: a refusal is
 * reported with the mount, the role and Vault's status, never Vault's answer. Blocking: called from
 * the identity endpoint's worker threads.
 */
public final class VaultJwtLogin {
  private final VaultClient vault;
  private final OperatorMetrics metrics;

  public VaultJwtLogin(VaultClient vault) {
    this(vault, OperatorMetrics.unserved());
  }

  /**
   * @param metrics counts every login by outcome
   */
  public VaultJwtLogin(VaultClient vault, OperatorMetrics metrics) {
    this.vault = Objects.requireNonNull(vault, "vault");
    this.metrics = Objects.requireNonNull(metrics, "metrics");
  }

  /**
   * What Vault returned: the wrapping token (a secret: never logged) and the accessor of the
   * wrapped token (not a secret: it is what revocation uses).
   */
  public record Wrapped(String wrappingToken, String wrappedAccessor, long ttlSeconds) {
    @Override
    public String toString() {
      return "Wrapped[accessor=" + wrappedAccessor + ", ttl=" + ttlSeconds + "s]";
    }
  }

  /** Vault could not be reached or refused the login; the message says which, without the JWT. */
  public static final class LoginFailedException extends RuntimeException {
    public LoginFailedException(String message, Throwable cause) {
      super(message, cause);
    }
  }

  public Wrapped login(String authMount, String role, String jwt, int wrapTtlSeconds) {
    String path = "auth/" + authMount + "/login";
    VaultReply reply =
        vault.callWrapped(
            "POST",
            path,
            null,
            Map.of("role", role, "jwt", jwt),
            Duration.ofSeconds(wrapTtlSeconds));
    metrics.vaultRequest(
        VaultOperation.LOGIN,
        !reply.answered()
            ? VaultOutcome.UNREACHABLE
            : reply.ok() ? VaultOutcome.OK : VaultOutcome.REFUSED);
    if (!reply.answered()) {
      throw new LoginFailedException(
          "Vault is unreachable at " + vault.address() + " (" + reply.failure() + ")", null);
    }
    if (!reply.ok()) {
      throw new LoginFailedException(
          "Vault refused the login at "
              + path
              + " with role "
              + role
              + " ("
              + reply.status()
              + why(reply.status())
              + ")",
          null);
    }
    JsonNode wrap = reply.body().path("wrap_info");
    String token = wrap.path("token").asText("");
    String accessor = wrap.path("wrapped_accessor").asText("");
    if (token.isEmpty() || accessor.isEmpty()) {
      throw new LoginFailedException(
          "Vault's answer to the login has no wrap_info (is X-Vault-Wrap-TTL allowed?)", null);
    }
    return new Wrapped(token, accessor, wrap.path("ttl").asLong(wrapTtlSeconds));
  }

  /**
   * The likely causes in words written here: Vault's own error texts stay out of messages (they
   * reach the session's Events and the sidecar's logs).
   */
  private static String why(int status) {
    return switch (status) {
      case 400 ->
          ": no such role at this mount, or the session JWT does not match the role"
              + " (audience, issuer, key, bound claims)";
      case 403 -> ": permission denied";
      case 503 -> ": Vault is sealed or unavailable";
      default -> "";
    };
  }
}
