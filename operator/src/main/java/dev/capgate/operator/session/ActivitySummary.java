package dev.capgate.operator.session;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.capgate.api.sidecar.LeaseLedger;
import dev.capgate.api.v1alpha1.SessionActivity;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code status.activity}: the sum of the {@code activity.<pod>} entries the session's sidecars
 * write into its lease ledger ({@link LeaseLedger}), each bounded first (a pod of the session may
 * write anything there; see operator/README.md "Session activity").
 *
 * <p>The entries of pods that are gone are folded into {@link LeaseLedger#RETIRED_ACTIVITY_KEY}, so
 * the counts cover the session's life while the ledger stays one small entry per live pod (a
 * ConfigMap holds at most 1 MiB, and the lease ids share it).
 */
final class ActivitySummary {
  private static final Logger LOG = LoggerFactory.getLogger(ActivitySummary.class);
  private static final ObjectMapper JSON =
      new ObjectMapper().configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false);

  private ActivitySummary() {}

  /** The session's activity; {@link SessionActivity#NONE} without a ledger or entries. */
  static SessionActivity of(ConfigMap ledger) {
    SessionActivity sum = SessionActivity.NONE;
    for (var entry : data(ledger).entrySet()) {
      if (LeaseLedger.isActivityKey(entry.getKey())) {
        sum = sum.plus(parse(entry.getKey(), entry.getValue()));
      }
    }
    return sum;
  }

  /**
   * Folds the entries of pods not in {@code livePods} into the retired entry, in one edit of the
   * ledger; nothing when there are none. The sum stays the same.
   */
  static void retireGonePods(KubernetesClient client, ConfigMap ledger, Set<String> livePods) {
    List<String> gone = new ArrayList<>();
    for (String key : data(ledger).keySet()) {
      if (LeaseLedger.isActivityKey(key)
          && !key.equals(LeaseLedger.RETIRED_ACTIVITY_KEY)
          && !livePods.contains(key.substring(LeaseLedger.ACTIVITY_KEY_PREFIX.length()))) {
        gone.add(key);
      }
    }
    if (gone.isEmpty()) {
      return;
    }
    try {
      client
          .configMaps()
          .inNamespace(ledger.getMetadata().getNamespace())
          .withName(ledger.getMetadata().getName())
          .edit(
              cm -> {
                Map<String, String> data = cm.getData();
                if (data == null) {
                  return cm;
                }
                SessionActivity retired =
                    parse(
                        LeaseLedger.RETIRED_ACTIVITY_KEY,
                        data.get(LeaseLedger.RETIRED_ACTIVITY_KEY));
                for (String key : gone) {
                  String value = data.remove(key);
                  if (value != null) {
                    retired = retired.plus(parse(key, value));
                  }
                }
                data.put(LeaseLedger.RETIRED_ACTIVITY_KEY, write(retired));
                return cm;
              });
    } catch (RuntimeException e) {
      // The sum is right either way; the next reconcile tries again.
      LOG.debug("could not fold the activity of gone pods: {}", e.getMessage());
    }
  }

  private static Map<String, String> data(ConfigMap ledger) {
    return ledger == null || ledger.getData() == null ? Map.of() : ledger.getData();
  }

  private static SessionActivity parse(String key, String value) {
    if (value == null || value.isBlank()) {
      return SessionActivity.NONE;
    }
    try {
      return JSON.readValue(value, SessionActivity.class).bounded();
    } catch (Exception e) {
      LOG.debug("ignoring ledger entry {}: not an activity record", key);
      return SessionActivity.NONE;
    }
  }

  static String write(SessionActivity activity) {
    try {
      return JSON.writeValueAsString(activity);
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }
}
