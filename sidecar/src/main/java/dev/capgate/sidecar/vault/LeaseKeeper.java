package dev.capgate.sidecar.vault;

import dev.capgate.common.vault.VaultClient;
import dev.capgate.common.vault.VaultReply;
import dev.capgate.common.vault.VaultStatus;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.logging.Logger;

/**
 * Keeps the leases of dynamic secrets alive while they are in use, and no longer. At two thirds of
 * a lease's time it looks at whether a request used the secret since the last renewal: if so the
 * lease is renewed ({@code sys/leases/renew}, in Vault's default policy) and stays in the cache; if
 * not, it leaves the cache and is revoked when the policy allows {@code sys/leases/revoke}, else
 * left to expire. A lease Vault will not extend any further (max TTL) is served until shortly
 * before its end, then the next request reads a new one.
 */
final class LeaseKeeper implements AutoCloseable {
  private static final Logger LOG = Logger.getLogger(LeaseKeeper.class.getName());

  private final VaultClient vault;
  private final VaultTokenSource tokens;
  private final LeaseRecorder ledger;
  private final Clock clock;
  private final ScheduledExecutorService timer =
      Executors.newSingleThreadScheduledExecutor(
          Thread.ofVirtual().name("capgate-vault-leases").factory());
  private final Map<String, Lease> live = new ConcurrentHashMap<>();
  private final AtomicLong renewals = new AtomicLong();

  LeaseKeeper(VaultClient vault, VaultTokenSource tokens, LeaseRecorder ledger, Clock clock) {
    this.vault = vault;
    this.tokens = tokens;
    this.ledger = ledger;
    this.clock = clock;
  }

  /** Starts looking after the lease of {@code secret}; {@code evict} takes it out of the cache. */
  void track(FetchedSecret secret, Runnable evict) {
    Lease lease = secret.lease;
    live.put(lease.id, lease);
    ledger.recordLease(lease.id);
    scheduleCheck(secret, evict, lease.duration);
  }

  /** Leases not known to be over, e.g. to revoke when the session ends. */
  List<Lease> live() {
    return List.copyOf(live.values());
  }

  long renewals() {
    return renewals.get();
  }

  /** The token that created these leases is gone, and Vault revoked them with it. */
  void forgetLeasesOf(String tokenAccessor) {
    live.values().stream().filter(l -> l.tokenAccessor.equals(tokenAccessor)).forEach(this::over);
  }

  private void scheduleCheck(FetchedSecret secret, Runnable evict, Duration granted) {
    if (!timer.isShutdown()) {
      timer.schedule(() -> check(secret, evict), granted.toMillis() * 2 / 3, TimeUnit.MILLISECONDS);
    }
  }

  private void check(FetchedSecret secret, Runnable evict) {
    Lease lease = secret.lease;
    if (lease.over) {
      return;
    }
    Instant now = clock.instant();
    Instant used = secret.lastUsed;
    if (used == null || !used.isAfter(lease.renewedAt) || !lease.renewable) {
      evict.run();
      if (used == null || !used.isAfter(lease.renewedAt)) {
        revokeIdle(lease);
      } else {
        forgetAt(lease, lease.expiresAt); // still in use but not renewable: it ends by itself
      }
      return;
    }
    VaultReply reply;
    try {
      reply =
          vault.call(
              "PUT",
              "sys/leases/renew",
              tokens.current().token(),
              Map.of("lease_id", lease.id, "increment", lease.duration.toSeconds()));
    } catch (VaultReadException e) {
      reply = VaultReply.noAnswer(e.getMessage());
    }
    if (!reply.ok()) {
      retryOrGiveUp(secret, evict, reply.status(), now);
      return;
    }
    Duration granted = Duration.ofSeconds(reply.body().path("lease_duration").asLong(0));
    lease.renewedAt = now;
    lease.renewBackoff.succeeded();
    lease.expiresAt = now.plus(granted);
    secret.expiresAt = lease.expiresAt;
    secret.freshUntil = lease.expiresAt.minus(FetchedSecret.margin(lease.duration));
    renewals.incrementAndGet();
    LOG.fine("renewed Vault lease " + lease.id + " for " + granted.toSeconds() + " s");
    if (granted.compareTo(lease.duration.minusSeconds(1)) >= 0) {
      scheduleCheck(secret, evict, granted);
    } else {
      forgetAt(
          lease, lease.expiresAt); // capped by the max TTL: served until freshUntil, then replaced
    }
  }

  private void retryOrGiveUp(FetchedSecret secret, Runnable evict, int status, Instant now) {
    Lease lease = secret.lease;
    Duration wait = lease.renewBackoff.failed();
    LOG.warning(
        "cannot renew Vault lease "
            + lease.id
            + ": "
            + VaultStatus.describe(status, "sys/leases/renew"));
    if (status == 400 || status == 403 || now.plus(wait).isAfter(lease.expiresAt)) {
      evict.run(); // gone or about to be: the next request reads a new one
      over(lease);
      return;
    }
    timer.schedule(() -> check(secret, evict), wait.toMillis(), TimeUnit.MILLISECONDS);
  }

  private void revokeIdle(Lease lease) {
    VaultReply reply;
    try {
      reply =
          vault.call(
              "PUT", "sys/leases/revoke", tokens.current().token(), Map.of("lease_id", lease.id));
    } catch (VaultReadException e) {
      reply = VaultReply.noAnswer(e.getMessage());
    }
    if (reply.ok()) {
      LOG.fine("revoked idle Vault lease " + lease.id);
      over(lease);
    } else {
      forgetAt(
          lease,
          lease.expiresAt); // no right to revoke (not in the default policy): it expires unused
    }
  }

  private void forgetAt(Lease lease, Instant when) {
    long delay = Math.max(0, Duration.between(clock.instant(), when).toMillis());
    if (!timer.isShutdown()) {
      timer.schedule(() -> over(lease), delay, TimeUnit.MILLISECONDS);
    }
  }

  private void over(Lease lease) {
    lease.over = true;
    if (live.remove(lease.id) != null) {
      ledger.forgetLease(lease.id);
    }
  }

  @Override
  public void close() {
    timer.shutdownNow();
  }
}
