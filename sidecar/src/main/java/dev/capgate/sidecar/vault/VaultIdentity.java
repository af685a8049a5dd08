package dev.capgate.sidecar.vault;

import dev.capgate.common.vault.VaultClient;
import dev.capgate.common.vault.VaultReply;
import dev.capgate.common.vault.VaultStatus;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;
import java.util.logging.Logger;

/**
 * The sidecar's own Vault identity: a token for this session alone, obtained through the operator
 * ({@link OperatorLogin}: the operator attests the pod and hands over a response-wrapped token that
 * Vault's JWT auth method issued for the session's user) and kept alive. Renewed ({@code
 * renew-self}) at two thirds of its TTL; when Vault stops extending it (the role's max TTL), a
 * fresh login replaces it at two thirds of what is left and the old token is revoked, which also
 * revokes the leases created with it. A token found revoked behind the sidecar's back is dropped
 * and the next caller logs in again. Failed logins back off (250 ms doubling to 5 s), so an outage
 * costs Vault little and service resumes by itself.
 *
 * <p>Blocking calls, made from virtual threads only (the broker's readers and this class's timer);
 * the token never reaches a log line, an exception message or {@code toString()}.
 */
public final class VaultIdentity implements VaultTokenSource, AutoCloseable {
  private static final Logger LOG = Logger.getLogger(VaultIdentity.class.getName());

  /** A token this close to its expiry is not handed out: the request would race the expiry. */
  private static final Duration EXPIRY_SLACK = Duration.ofSeconds(1);

  private final OperatorLogin login;
  private final VaultClient vault;
  private final LeaseRecorder ledger;
  private final Clock clock;
  private final ScheduledExecutorService timer =
      Executors.newSingleThreadScheduledExecutor(
          Thread.ofVirtual().name("capgate-vault-identity").factory());
  private final ReentrantLock lock = new ReentrantLock();
  private final Backoff loginBackoff = Backoff.standard();
  private final Backoff renewBackoff = Backoff.standard();
  private final List<Consumer<String>> retirementListeners = new CopyOnWriteArrayList<>();
  private final AtomicLong logins = new AtomicLong();
  private final AtomicLong renewals = new AtomicLong();

  // Guarded by lock.
  private volatile Held held;
  private Instant loginBlockedUntil = Instant.MIN;
  private String lastLoginFailure;
  private boolean revoked;
  private ScheduledFuture<?> nextStep;

  /** The token in force and until when; the expiry moves with each renewal. */
  private static final class Held {
    final VaultToken token;
    volatile Instant expiresAt;

    Held(VaultToken token, Instant expiresAt) {
      this.token = token;
      this.expiresAt = expiresAt;
    }
  }

  /**
   * @param login one login = one request to the operator + one unwrap at {@code vault}
   */
  public VaultIdentity(VaultClient vault, OperatorLogin login, LeaseRecorder ledger, Clock clock) {
    this.vault = Objects.requireNonNull(vault, "vault");
    this.login = Objects.requireNonNull(login, "login");
    this.ledger = Objects.requireNonNull(ledger, "ledger");
    this.clock = Objects.requireNonNull(clock, "clock");
  }

  /** The token to use now, logging in first if there is none. Blocks: virtual threads only. */
  @Override
  public String token() {
    return current().token();
  }

  /** The token in force with its accessor, logging in first if there is none. */
  @Override
  public VaultToken current() {
    lock.lock();
    try {
      if (revoked) {
        throw new VaultReadException(
            "the sidecar's Vault token was revoked: the session has ended");
      }
      if (held != null && clock.instant().isBefore(held.expiresAt.minus(EXPIRY_SLACK))) {
        return held.token;
      }
      return loginLocked();
    } finally {
      lock.unlock();
    }
  }

  /**
   * Logs in ahead of the first request, on a virtual thread; a failure is logged and retried on
   * use.
   */
  public void warmUp() {
    later(
        () -> {
          try {
            current();
          } catch (VaultReadException e) {
            // already logged by loginLocked; the first request tries again
          }
        });
  }

  /**
   * A request made with {@code token} was denied. Asks Vault whether the token itself is dead
   * (revoked behind the sidecar's back, expired) rather than merely lacking the path's policy; a
   * dead token is dropped so that the next {@link #token()} logs in again.
   *
   * @return true if the token was dead and a retry with a new login makes sense
   */
  @Override
  public boolean dropIfDead(String token) {
    VaultReply lookup = vault.call("GET", "auth/token/lookup-self", token, null);
    if (lookup.status() != 403 && lookup.status() != 401) {
      return false;
    }
    Held dead;
    lock.lock();
    try {
      if (held == null || !held.token.token().equals(token)) {
        return true; // someone else already replaced it
      }
      dead = held;
      held = null;
      cancelNextStepLocked();
    } finally {
      lock.unlock();
    }
    LOG.warning(
        "the sidecar's Vault token (accessor "
            + dead.token.accessor()
            + ") was revoked or expired: logging in again");
    later(() -> retire(dead.token, false));
    return true;
  }

  /**
   * Called with the accessor of every token that is replaced or dropped (the broker forgets its
   * leases).
   */
  @Override
  public void onTokenRetired(Consumer<String> listener) {
    retirementListeners.add(listener);
  }

  /**
   * The session has ended: revokes the token (Vault then revokes every lease created with it) and
   * refuses to log in again.
   *
   * @return false if Vault could not be told (down, sealed): the token then stays in the ledger
   */
  @Override
  public boolean revoke() {
    Held last;
    lock.lock();
    try {
      revoked = true;
      cancelNextStepLocked();
      last = held;
      held = null;
    } finally {
      lock.unlock();
    }
    return last == null || retire(last.token, true);
  }

  public long logins() {
    return logins.get();
  }

  public long renewals() {
    return renewals.get();
  }

  /** The accessor of the token in force, if any (for the ledger and tests; never the token). */
  public String accessor() {
    Held h = held;
    return h == null ? null : h.token.accessor();
  }

  @Override
  public void close() {
    timer.shutdownNow();
  }

  // ------------------------------------------------------------------ login, renewal, retirement

  private VaultToken loginLocked() {
    Instant now = clock.instant();
    if (now.isBefore(loginBlockedUntil)) {
      throw new VaultReadException(
          lastLoginFailure
              + " (retrying in "
              + Duration.between(now, loginBlockedUntil).toMillis()
              + " ms)");
    }
    VaultToken fresh;
    try {
      fresh = login.login();
    } catch (VaultReadException e) {
      Duration wait = loginBackoff.failed();
      loginBlockedUntil = now.plus(wait);
      lastLoginFailure = e.getMessage();
      // The operator's reason (pod not attested, session not active...) is what an admin needs.
      LOG.warning(
          "Vault login as "
              + login.describe()
              + " failed: "
              + e.getMessage()
              + " (next attempt in "
              + wait.toMillis()
              + " ms at the earliest)");
      throw e;
    }
    loginBackoff.succeeded();
    logins.incrementAndGet();
    Held previous = held;
    held = new Held(fresh, fresh.ttl().isZero() ? Instant.MAX : clock.instant().plus(fresh.ttl()));
    ledger.recordAccessor(fresh.accessor());
    planLocked(held, fresh.ttl(), fresh.renewable());
    LOG.info(
        "logged in to Vault as "
            + login.describe()
            + ": token accessor "
            + fresh.accessor()
            + ", ttl "
            + fresh.ttl().toSeconds()
            + " s"
            + (fresh.renewable() ? ", renewable" : ""));
    if (previous != null) {
      later(() -> retire(previous.token, true));
    }
    return fresh;
  }

  /** Renew at 2/3 of what was granted while Vault extends the token; else log in afresh then. */
  private void planLocked(Held h, Duration granted, boolean extendable) {
    cancelNextStepLocked();
    if (granted.isZero() || timer.isShutdown()) {
      return; // a token without TTL lives until revoked
    }
    long delay = granted.toMillis() * 2 / 3;
    Runnable step = extendable ? () -> renew(h) : () -> refresh(h);
    nextStep = timer.schedule(step, delay, TimeUnit.MILLISECONDS);
  }

  private void renew(Held h) {
    if (held != h) {
      return;
    }
    Duration wanted = h.token.ttl();
    VaultReply reply =
        vault.call(
            "POST",
            "auth/token/renew-self",
            h.token.token(),
            Map.of("increment", wanted.toSeconds() + "s"));
    lock.lock();
    try {
      if (held != h || revoked) {
        return;
      }
      Instant now = clock.instant();
      if (reply.ok()) {
        Duration granted = Duration.ofSeconds(reply.auth().path("lease_duration").asLong(0));
        h.expiresAt = now.plus(granted);
        renewals.incrementAndGet();
        renewBackoff.succeeded();
        // Less than asked for: the role's max TTL is near, and renewing cannot go past it.
        boolean extendable = granted.compareTo(wanted.minusSeconds(1)) >= 0;
        planLocked(h, granted, extendable);
        return;
      }
      if (reply.status() == 403 || reply.status() == 400 || reply.status() == 401) {
        LOG.warning(
            "Vault refused to renew the sidecar's token (accessor "
                + h.token.accessor()
                + ", HTTP "
                + reply.status()
                + "): logging in again");
        held = null;
        later(() -> retire(h.token, false));
        later(() -> refresh(null));
        return;
      }
      Duration wait = renewBackoff.failed();
      LOG.warning(
          "cannot renew the sidecar's Vault token: "
              + VaultStatus.describe(reply.status(), "renew-self")
              + "; retrying in "
              + wait.toMillis()
              + " ms");
      if (now.plus(wait).isBefore(h.expiresAt)) {
        nextStep = timer.schedule(() -> renew(h), wait.toMillis(), TimeUnit.MILLISECONDS);
      } else {
        nextStep = timer.schedule(() -> refresh(h), wait.toMillis(), TimeUnit.MILLISECONDS);
      }
    } finally {
      lock.unlock();
    }
  }

  /** A fresh login replacing {@code h} (or filling the gap when {@code h} is null). */
  private void refresh(Held h) {
    lock.lock();
    try {
      if (revoked || held != h) {
        return;
      }
      if (h != null && clock.instant().isAfter(h.expiresAt)) {
        held = null; // expired during an outage: the next caller must not get it
        later(() -> retire(h.token, false));
      }
      loginLocked();
    } catch (VaultReadException e) {
      Duration wait =
          Duration.between(clock.instant(), loginBlockedUntil); // loginLocked logged why
      nextStep =
          timer.schedule(() -> refresh(held), Math.max(wait.toMillis(), 50), TimeUnit.MILLISECONDS);
    } finally {
      lock.unlock();
    }
  }

  /** A token the sidecar no longer uses: tell the listeners, revoke it (its leases go with it). */
  private boolean retire(VaultToken token, boolean revoke) {
    retirementListeners.forEach(listener -> listener.accept(token.accessor()));
    if (revoke) {
      VaultReply reply = vault.call("POST", "auth/token/revoke-self", token.token(), null);
      if (reply.ok() || reply.status() == 403) {
        LOG.info("revoked the sidecar's Vault token (accessor " + token.accessor() + ")");
      } else {
        // The token stays in the ledger: the operator revokes it with the session.
        LOG.warning(
            "cannot revoke the sidecar's Vault token (accessor "
                + token.accessor()
                + "): "
                + VaultStatus.describe(reply.status(), "revoke-self"));
        return false;
      }
    }
    ledger.forgetAccessor(token.accessor());
    return true;
  }

  /** Runs {@code task} on the timer thread; after {@link #close()} there is nothing left to do. */
  private void later(Runnable task) {
    try {
      timer.execute(task);
    } catch (RejectedExecutionException e) {
      // closed
    }
  }

  private void cancelNextStepLocked() {
    if (nextStep != null) {
      nextStep.cancel(false);
      nextStep = null;
    }
  }
}
