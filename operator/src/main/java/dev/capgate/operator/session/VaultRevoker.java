package dev.capgate.operator.session;

import com.fasterxml.jackson.databind.JsonNode;
import dev.capgate.common.vault.VaultClient;
import dev.capgate.common.vault.VaultReply;
import dev.capgate.operator.metrics.OperatorMetrics;
import dev.capgate.operator.metrics.OperatorMetrics.VaultOperation;
import dev.capgate.operator.metrics.OperatorMetrics.VaultOutcome;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * Revokes Vault leases and tokens with the operator's own Vault token: {@code sys/leases/revoke}
 * and {@code auth/token/revoke-accessor}; asks {@code auth/token/lookup-accessor} who a token was
 * issued to before ({@link LedgerScope}). Something already gone counts as revoked. Through
 * Capgate's one Vault client: errors name the call and Vault's status, never its answer. Blocking:
 * called from the reconciler's worker threads.
 */
public final class VaultRevoker {
  /** For each call to Vault: the reconciler retries a failed revocation. */
  public static final Duration TIMEOUT = Duration.ofSeconds(10);

  private final VaultClient vault;
  private final Supplier<String> token;
  private final OperatorMetrics metrics;

  /**
   * @param token read again for every call (a mounted token file may rotate)
   */
  public VaultRevoker(VaultClient vault, Supplier<String> token) {
    this(vault, token, OperatorMetrics.unserved());
  }

  /**
   * @param metrics counts every call by operation and outcome
   */
  public VaultRevoker(VaultClient vault, Supplier<String> token, OperatorMetrics metrics) {
    this.vault = Objects.requireNonNull(vault, "vault");
    this.token = Objects.requireNonNull(token, "token");
    this.metrics = Objects.requireNonNull(metrics, "metrics");
  }

  /** Vault could not be asked, or said no for another reason than "already gone". */
  public static final class VaultUnavailableException extends RuntimeException {
    public VaultUnavailableException(String message, Throwable cause) {
      super(message, cause);
    }
  }

  /**
   * How a token came to be, from {@code auth/token/lookup-accessor}: {@code path} is where it was
   * issued ({@code auth/kubernetes/login}, {@code auth/token/create}, ...), {@code meta} its
   * metadata (the Kubernetes auth method sets {@code role}, {@code service_account_namespace},
   * {@code service_account_name}, {@code service_account_uid}, {@code
   * service_account_secret_name}).
   */
  public record TokenOrigin(String path, Map<String, String> meta) {
    public TokenOrigin {
      path = path == null ? "" : path;
      meta = meta == null ? Map.of() : Map.copyOf(meta);
    }
  }

  /**
   * Who the token of this accessor was issued to; empty when Vault knows no such accessor (gone).
   */
  public Optional<TokenOrigin> lookupAccessor(String accessor) {
    String what = "look up token accessor " + accessor;
    VaultReply reply =
        send(
            VaultOperation.LOOKUP_ACCESSOR,
            "POST",
            "auth/token/lookup-accessor",
            Map.of("accessor", accessor),
            what);
    if (reply.ok()) {
      return Optional.of(origin(reply.data()));
    }
    if (alreadyGone(reply)) {
      return Optional.empty();
    }
    if (reply.status() == 403) {
      throw new VaultUnavailableException(
          "Vault refused to look up token accessor "
              + accessor
              + " (403): the operator's Vault policy needs update on auth/token/lookup-accessor",
          null);
    }
    throw new VaultUnavailableException(
        "Vault answered " + reply.status() + " to the look-up of token accessor " + accessor, null);
  }

  private static TokenOrigin origin(JsonNode data) {
    Map<String, String> meta = new HashMap<>();
    data.path("meta")
        .properties()
        .forEach(
            e -> {
              if (e.getValue().isTextual()) {
                meta.put(e.getKey(), e.getValue().asText());
              }
            });
    return new TokenOrigin(data.path("path").asText(""), meta);
  }

  public void revokeLease(String leaseId) {
    call(
        VaultOperation.REVOKE_LEASE,
        "PUT",
        "sys/leases/revoke",
        Map.of("lease_id", leaseId),
        "lease " + leaseId);
  }

  public void revokeAccessor(String accessor) {
    // The accessor identifies the token without being it; it is safe to log.
    call(
        VaultOperation.REVOKE_ACCESSOR,
        "POST",
        "auth/token/revoke-accessor",
        Map.of("accessor", accessor),
        "token accessor " + accessor);
  }

  private void call(
      VaultOperation operation, String method, String path, Map<String, String> body, String what) {
    VaultReply reply = send(operation, method, path, body, "revoke " + what);
    if (reply.ok() || alreadyGone(reply)) {
      return;
    }
    throw new VaultUnavailableException(
        "Vault answered " + reply.status() + " to the revocation of " + what, null);
  }

  private VaultReply send(
      VaultOperation operation, String method, String path, Map<String, String> body, String what) {
    VaultReply reply = vault.call(method, path, token.get().strip(), body);
    metrics.vaultRequest(
        operation,
        !reply.answered()
            ? VaultOutcome.UNREACHABLE
            : reply.ok() || alreadyGone(reply) ? VaultOutcome.OK : VaultOutcome.REFUSED);
    if (!reply.answered()) {
      throw new VaultUnavailableException(
          "could not reach Vault at " + vault.address() + " to " + what + ": " + reply.failure(),
          null);
    }
    return reply;
  }

  /** Vault answers 400 "invalid accessor" / "invalid lease" for what no longer exists. */
  static boolean alreadyGone(VaultReply reply) {
    return (reply.status() == 400 || reply.status() == 404)
        && (reply.errorsMention("invalid") || reply.errorsMention("not found"));
  }
}
