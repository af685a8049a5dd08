package dev.capgate.operator;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.javaoperatorsdk.operator.api.monitoring.Metrics;
import io.javaoperatorsdk.operator.api.reconciler.RetryInfo;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

/**
 * How many reconciliations this replica ran (JOSDK's metrics hook). With leader election only the
 * leader's count grows: the followers keep warm informers but process no events.
 */
final class ReconcileCounter implements Metrics {
  private final AtomicLong reconciliations = new AtomicLong();

  @Override
  public void reconcileCustomResource(
      HasMetadata resource, RetryInfo retryInfo, Map<String, Object> metadata) {
    reconciliations.incrementAndGet();
  }

  long reconciliations() {
    return reconciliations.get();
  }
}
