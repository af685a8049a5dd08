package dev.capgate.sidecar.http;

import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Every credential value the data plane has resolved for the session and still holds, so that the
 * response scrubber masks all of them on every exchange, not only the value injected in this one
 * (issue 11): an upstream that stored a credential sent on one route (a request log, a debug page)
 * could otherwise hand it back on a route that injects nothing.
 *
 * <p>Values arrive through the exchanges that resolve them (the resolver's own cache decides when
 * Vault is read; nothing here reads Vault). For each credential the latest value is kept for as
 * long as the session has a policy; a value that was replaced (rotated, a new dynamic lease) is
 * kept until the time its resolver said it expires. {@link #forget()} drops everything (the session
 * ended).
 *
 * <p>Hot path: {@link #patterns()} is one volatile read (plus a clock read when a replaced value is
 * waiting to expire); {@link #remember} compares a few strings and compiles new patterns only when
 * a value is new. Thread-safe: exchanges of every event loop share it.
 */
public final class KnownSecrets {
  /**
   * @param raw the raw value and {@code header} its rendered header value, when the secrets were
   *     derived from them ({@link #rememberInjected}); null otherwise
   */
  private record Held(List<String> secrets, Instant expiresAt, String raw, String header) {
    Held until(Instant later) {
      return new Held(secrets, later, raw, header);
    }
  }

  private final Map<String, Held> latest = new HashMap<>();
  private final List<Held> replaced = new ArrayList<>();
  private volatile ScrubPatterns compiled = ScrubPatterns.NONE;
  private volatile long nextExpiryMillis = Long.MAX_VALUE;

  /**
   * Records what one credential's value looks like on the wire.
   *
   * @param key the credential (or another stable name for a value derived from it)
   * @param secrets the raw value and the rendered header values ({@link SecretScrubber#secretsOf})
   * @param expiresAt when the resolver would fetch the value again (cache expiry, lease end)
   */
  void remember(String key, List<String> secrets, Instant expiresAt) {
    synchronized (this) {
      hold(key, secrets, expiresAt, null, null);
    }
  }

  /**
   * {@link #remember} for an injected header: the secrets are {@link SecretScrubber#secretsOf}
   * {@code raw} and {@code headerValue}. The resolver hands back the same value, rendered once, for
   * every request while it is cached, so this is usually an identity check, without the secrets'
   * list or a comparison of their text (issue 13).
   */
  void rememberInjected(String key, String raw, String headerValue, Instant expiresAt) {
    synchronized (this) {
      Held before = latest.get(key);
      if (before != null && before.raw() == raw && before.header() == headerValue) {
        if (expiresAt.isAfter(before.expiresAt())) {
          latest.put(key, before.until(expiresAt));
        }
        return;
      }
      hold(key, SecretScrubber.secretsOf(raw, headerValue), expiresAt, raw, headerValue);
    }
  }

  /**
   * Holds {@code secrets} for {@code key} (caller holds the lock): the same text only moves the
   * expiry later (and takes {@code raw}/{@code header} when given); new text replaces the value,
   * the old one kept masked until it expires.
   */
  private void hold(
      String key, List<String> secrets, Instant expiresAt, String raw, String header) {
    Held before = latest.get(key);
    if (before != null && before.secrets().equals(secrets)) {
      Instant until = expiresAt.isAfter(before.expiresAt()) ? expiresAt : before.expiresAt();
      if (raw != null) {
        latest.put(key, new Held(before.secrets(), until, raw, header));
      } else if (until != before.expiresAt()) {
        latest.put(key, before.until(until));
      }
      return;
    }
    latest.put(key, new Held(List.copyOf(secrets), expiresAt, raw, header));
    if (before != null) {
      replaced.add(before);
    }
    recompile(System.currentTimeMillis());
  }

  /**
   * The patterns of every value held now (shared, immutable; {@link ScrubPatterns#NONE} when none).
   */
  ScrubPatterns patterns() {
    if (nextExpiryMillis != Long.MAX_VALUE) {
      long now = System.currentTimeMillis();
      if (now >= nextExpiryMillis) {
        synchronized (this) {
          recompile(now);
        }
      }
    }
    return compiled;
  }

  /** A scrubber for one exchange, or null when the sidecar holds no value at all. */
  SecretScrubber newScrubber() {
    ScrubPatterns p = patterns();
    return p.isEmpty() ? null : new SecretScrubber(p);
  }

  /** The session ended: hold nothing more. */
  void forget() {
    synchronized (this) {
      if (latest.isEmpty() && replaced.isEmpty()) {
        return;
      }
      latest.clear();
      replaced.clear();
      recompile(System.currentTimeMillis());
    }
  }

  private void recompile(long now) {
    replaced.removeIf(h -> h.expiresAt().toEpochMilli() <= now);
    long next = Long.MAX_VALUE;
    List<String> all = new ArrayList<>();
    for (Held h : replaced) {
      next = Math.min(next, h.expiresAt().toEpochMilli());
      all.addAll(h.secrets());
    }
    for (Held h : latest.values()) {
      all.addAll(h.secrets());
    }
    compiled = ScrubPatterns.of(all);
    nextExpiryMillis = next;
  }
}
