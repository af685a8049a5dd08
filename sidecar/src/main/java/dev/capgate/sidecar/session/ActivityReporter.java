package dev.capgate.sidecar.session;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.capgate.api.sidecar.LeaseLedger;
import dev.capgate.api.v1alpha1.SessionActivity;
import dev.capgate.sidecar.kube.ApiClient;
import io.vertx.core.Vertx;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Supplier;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Writes this pod's activity into the session's lease ledger, key {@code activity.<pod>} ({@link
 * LeaseLedger#activityKey}), for the operator to sum into {@code status.activity}. Debounced: a
 * Vert.x timer looks every {@code interval} (5 s) and sends a JSON merge patch of this one key only
 * when the activity changed since the last write and no write is in flight; the async API client
 * never blocks the event loop. A failed write is simply tried again at the next tick: the counts
 * are cumulative, so nothing is lost but time.
 */
final class ActivityReporter implements AutoCloseable {
  private static final Logger LOG = Logger.getLogger(ActivityReporter.class.getName());
  static final Duration INTERVAL = Duration.ofSeconds(5);

  private final Vertx vertx;
  private final ApiClient api;
  private final String path;
  private final String key;
  private final Supplier<SessionActivity> activity;
  private final AtomicBoolean inFlight = new AtomicBoolean();
  private volatile SessionActivity written = SessionActivity.NONE;
  private volatile boolean warned;
  private final long timer;

  ActivityReporter(
      Vertx vertx,
      ApiClient api,
      String namespace,
      String ledger,
      String pod,
      Supplier<SessionActivity> activity,
      Duration interval) {
    this.vertx = vertx;
    this.api = api;
    this.path = "/api/v1/namespaces/" + namespace + "/configmaps/" + ledger;
    this.key = LeaseLedger.activityKey(Objects.requireNonNull(pod, "pod"));
    this.activity = activity;
    this.timer = vertx.setPeriodic(interval.toMillis(), id -> tick());
  }

  /** On the timer's event loop: at most one write, and only of something new. */
  private io.vertx.core.Future<Void> tick() {
    SessionActivity now = activity.get();
    if (now.equals(written) || !inFlight.compareAndSet(false, true)) {
      return io.vertx.core.Future.succeededFuture();
    }
    String body;
    try {
      ObjectNode patch = SessionReader.JSON.createObjectNode();
      patch.putObject("data").put(key, SessionReader.JSON.writeValueAsString(now));
      body = patch.toString();
    } catch (JsonProcessingException e) {
      inFlight.set(false);
      return io.vertx.core.Future.failedFuture(e);
    }
    return api.mergePatch(path, body)
        .<Void>map(
            reply -> {
              if (reply.ok()) {
                written = now;
                warned = false;
              } else if (!warned) {
                warned = true;
                LOG.warning(
                    "cannot write this pod's activity into "
                        + path
                        + " ("
                        + reply.status()
                        + "): retrying every tick; the session's status.activity lags meanwhile");
              }
              return null;
            })
        .onFailure(e -> LOG.log(Level.FINE, "activity write failed, retrying: " + e.getMessage()))
        .onComplete(done -> inFlight.set(false));
  }

  /** Stops the timer and sends what changed since the last write (waiting at most 2 s). */
  @Override
  public void close() {
    vertx.cancelTimer(timer);
    try {
      for (int i = 0; i < 20 && inFlight.get(); i++) {
        Thread.sleep(100);
      }
      tick().toCompletionStage().toCompletableFuture().get(2, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (Exception e) {
      LOG.fine("last activity write failed: " + e);
    }
  }
}
