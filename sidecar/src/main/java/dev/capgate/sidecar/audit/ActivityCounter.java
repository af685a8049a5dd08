package dev.capgate.sidecar.audit;

import dev.capgate.api.v1alpha1.SessionActivity;
import java.time.Instant;
import java.util.concurrent.atomic.LongAdder;

/**
 * This pod's activity for {@code status.activity}: requests and connections decided (allowed,
 * denied or failed), denials, and the time and fields of the last of each. Fed by {@link
 * AuditRecorder#record} on the event loops: two adders and a volatile write per decision (and one
 * small holder per denial, formatted only when read), no lock. {@link #snapshot} is read by the
 * ledger writer, which sends it when it changed.
 */
public final class ActivityCounter {
  private final LongAdder requests = new LongAdder();
  private final LongAdder denials = new LongAdder();
  private volatile long lastActivityMillis;
  private volatile Denied lastDenial;

  private record Denied(AuditEvent event, long millis) {}

  void record(AuditEvent event) {
    long now = System.currentTimeMillis();
    requests.increment();
    lastActivityMillis = now;
    if (event.decision() == Decision.DENY) {
      denials.increment();
      lastDenial = new Denied(event, now);
    }
  }

  /** What this pod did so far, bounded as the ledger entry will be. */
  public SessionActivity snapshot() {
    long last = lastActivityMillis;
    Denied denied = lastDenial;
    SessionActivity.Denial denial =
        denied == null
            ? null
            : new SessionActivity.Denial(
                Instant.ofEpochMilli(denied.millis()).toString(),
                denied.event().host(),
                denied.event().method(),
                denied.event().path(),
                denied.event().rule(),
                denied.event().reason(),
                denied.event().requestId());
    return new SessionActivity(
            requests.sum(),
            denials.sum(),
            last == 0 ? null : Instant.ofEpochMilli(last).toString(),
            denial)
        .bounded();
  }
}
