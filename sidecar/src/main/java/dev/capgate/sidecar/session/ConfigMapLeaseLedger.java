package dev.capgate.sidecar.session;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.capgate.api.sidecar.LeaseLedger;
import dev.capgate.sidecar.kube.ApiClient;
import dev.capgate.sidecar.kube.ApiException;
import dev.capgate.sidecar.kube.ApiReply;
import dev.capgate.sidecar.vault.LeaseRecorder;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.logging.Logger;

/**
 * The session's lease ledger, ConfigMap {@code capgate-leases-<session>}: {@code lease.<id-hash>}
 * and {@code accessor.<id-hash>} keys whose values are the lease ids and token accessors this
 * sidecar holds, so the operator can revoke them when the session is deleted.
 *
 * <p>Keys are derived from the id ({@link LeaseLedger}, the format the operator reads: a hash,
 * since lease ids hold '/' which a key may not), so every pod of the session writes its own keys
 * without a counter to agree on, and writing twice is harmless. Writes are JSON merge patches (no
 * read-modify-write, no conflicts between pods), queued and sent off the caller's thread, retried
 * with back-off while the API server is away. The operator creates the ConfigMap (a Role cannot
 * grant {@code create} for one name); if it is missing, writes wait for it: the sidecar revokes its
 * leases itself too.
 */
final class ConfigMapLeaseLedger implements LeaseRecorder, AutoCloseable {
  private static final Logger LOG = Logger.getLogger(ConfigMapLeaseLedger.class.getName());
  private static final Duration MAX_RETRY = Duration.ofSeconds(10);

  private final ApiClient api;
  private final String namespace;
  private final String name;
  private final ScheduledExecutorService writer =
      Executors.newSingleThreadScheduledExecutor(
          Thread.ofVirtual().name("capgate-lease-ledger").factory());

  /** Key → value to set, or empty to remove. Guarded by this. */
  private final Map<String, Optional<String>> pending = new LinkedHashMap<>();

  private boolean flushScheduled;
  private int failures;
  private boolean warnedMissing;

  ConfigMapLeaseLedger(ApiClient api, String namespace, String name) {
    this.api = api;
    this.namespace = namespace;
    this.name = name;
  }

  @Override
  public void recordLease(String leaseId) {
    change(LeaseLedger.leaseKey(leaseId), Optional.of(leaseId));
  }

  @Override
  public void recordAccessor(String accessor) {
    if (!accessor.isEmpty()) {
      change(LeaseLedger.accessorKey(accessor), Optional.of(accessor));
    }
  }

  @Override
  public void forgetLease(String leaseId) {
    change(LeaseLedger.leaseKey(leaseId), Optional.empty());
  }

  @Override
  public void forgetAccessor(String accessor) {
    if (!accessor.isEmpty()) {
      change(LeaseLedger.accessorKey(accessor), Optional.empty());
    }
  }

  private synchronized void change(String key, Optional<String> value) {
    pending.put(key, value);
    if (!flushScheduled && !writer.isShutdown()) {
      flushScheduled = true;
      try {
        writer.execute(this::flush);
      } catch (java.util.concurrent.RejectedExecutionException e) {
        flushScheduled = false; // closed meanwhile
      }
    }
  }

  private void flush() {
    Map<String, Optional<String>> batch;
    synchronized (this) {
      batch = new LinkedHashMap<>(pending);
    }
    if (batch.isEmpty()) {
      synchronized (this) {
        flushScheduled = !pending.isEmpty();
      }
      return;
    }
    try {
      patch(batch);
      synchronized (this) {
        batch.forEach(pending::remove);
        failures = 0;
        if (pending.isEmpty()) {
          flushScheduled = false;
        } else {
          writer.execute(this::flush);
        }
      }
    } catch (ApiException e) {
      long wait;
      synchronized (this) {
        failures++;
        wait = Math.min(MAX_RETRY.toMillis(), 250L << Math.min(failures, 10));
      }
      if (e.status() == 404 && !warnedMissing) {
        warnedMissing = true;
        LOG.warning(
            "the lease ledger ConfigMap "
                + namespace
                + "/"
                + name
                + " does not exist (the operator creates it):"
                + " retrying; until then only this sidecar can revoke its Vault leases");
      } else if (e.status() != 404) {
        LOG.warning(
            "cannot write the lease ledger "
                + namespace
                + "/"
                + name
                + " ("
                + (e.status() == 0 ? "no answer" : e.getMessage())
                + "): retrying in "
                + wait
                + " ms");
      }
      if (!writer.isShutdown()) {
        writer.schedule(this::flush, wait, TimeUnit.MILLISECONDS);
      }
    }
  }

  private void patch(Map<String, Optional<String>> batch) {
    ObjectNode root = SessionReader.JSON.createObjectNode();
    ObjectNode data = root.putObject("data");
    batch.forEach(
        (k, v) -> {
          if (v.isPresent()) {
            data.put(k, v.get());
          } else {
            data.putNull(k); // merge patch: null removes the key
          }
        });
    ApiReply reply;
    try {
      // On the ledger's virtual thread: waiting here blocks no event loop.
      reply =
          api.mergePatch("/api/v1/namespaces/" + namespace + "/configmaps/" + name, root.toString())
              .toCompletionStage()
              .toCompletableFuture()
              .get(15, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new ApiException(0);
    } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
      throw new ApiException(0); // no answer: retried like any failure
    }
    if (!reply.ok()) {
      throw new ApiException(reply.status());
    }
  }

  /** Sends what is queued (waiting at most {@code timeout}), then stops. */
  @Override
  public void close() {
    close(Duration.ofSeconds(3));
  }

  void close(Duration timeout) {
    try {
      writer.submit(this::flush).get(timeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (Exception e) {
      LOG.fine("lease ledger not flushed on close: " + e);
    }
    writer.shutdownNow();
  }
}
