package dev.capgate.operator.session;

import dev.capgate.api.v1alpha1.AgentSession;
import dev.capgate.operator.ca.PodCaObjects;
import dev.capgate.operator.injection.PodMarkers;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The parts of revoking a session: Vault leases and tokens recorded in its ledger, its pods'
 * CAs, and (with {@code onRevoke: DeletePods}) its pods. Each step can run again safely.
 */
public final class SessionRevocation {
  private static final Logger LOG = LoggerFactory.getLogger(SessionRevocation.class);
  static final String LEASE_KEY_PREFIX = "lease.";
  static final String ACCESSOR_KEY_PREFIX = "accessor.";

  private final KubernetesClient client;
  private final VaultRevoker vault;

  /** @param vault null when no Vault is configured: a ledger with entries is then an error */
  public SessionRevocation(KubernetesClient client, VaultRevoker vault) {
    this.client = client;
    this.vault = vault;
  }

  /** What one revocation pass did, for the event. */
  public record Revoked(int leases, int accessors) {
  }

  /**
   * Revokes every lease and accessor in the session's ledger and removes them from it.
   *
   * @throws VaultRevoker.VaultUnavailableException if Vault could not revoke one (the rest stay
   *     in the ledger for the next attempt)
   */
  public Revoked revokeLeases(AgentSession session) {
    String namespace = session.getMetadata().getNamespace();
    String ledgerName = SessionNames.leases(session.getMetadata().getName());
    ConfigMap ledger = client.configMaps().inNamespace(namespace).withName(ledgerName).get();
    Map<String, String> data = ledger == null || ledger.getData() == null ? Map.of() : ledger.getData();
    List<String> done = new ArrayList<>();
    int leases = 0;
    int accessors = 0;
    try {
      for (var entry : data.entrySet()) {
        String value = entry.getValue() == null ? "" : entry.getValue().strip();
        boolean lease = entry.getKey().startsWith(LEASE_KEY_PREFIX);
        boolean accessor = entry.getKey().startsWith(ACCESSOR_KEY_PREFIX);
        if ((!lease && !accessor) || value.isEmpty()) {
          continue;
        }
        if (vault == null) {
          throw new VaultRevoker.VaultUnavailableException(
              "the ledger " + ledgerName + " lists Vault leases but the operator has no Vault address configured", null);
        }
        if (lease) {
          vault.revokeLease(value);
          leases++;
        } else {
          vault.revokeAccessor(value);
          accessors++;
        }
        done.add(entry.getKey());
      }
    } finally {
      forget(namespace, ledgerName, done);
    }
    if (leases + accessors > 0) {
      LOG.info("revoked {} Vault lease(s) and {} token accessor(s) of session {}/{}", leases, accessors, namespace,
          session.getMetadata().getName());
    }
    return new Revoked(leases, accessors);
  }

  private void forget(String namespace, String ledgerName, List<String> keys) {
    if (keys.isEmpty()) {
      return;
    }
    client.configMaps().inNamespace(namespace).withName(ledgerName).edit(cm -> {
      if (cm.getData() != null) {
        keys.forEach(cm.getData()::remove);
      }
      return cm;
    });
  }

  /** Deletes the CA Secrets and ConfigMaps of all the session's pods; returns how many CAs. */
  public int destroyPodCas(AgentSession session) {
    String namespace = session.getMetadata().getNamespace();
    Map<String, String> selector = PodCaObjects.selector(session.getMetadata().getName());
    int secrets = client.secrets().inNamespace(namespace).withLabels(selector).list().getItems().size();
    client.secrets().inNamespace(namespace).withLabels(selector).delete();
    client.configMaps().inNamespace(namespace).withLabels(selector).delete();
    return secrets;
  }

  /** Deletes the session's pods (onRevoke: DeletePods); returns how many. */
  public int deletePods(AgentSession session) {
    var pods = client.pods().inNamespace(session.getMetadata().getNamespace())
        .withLabel(PodMarkers.SESSION, session.getMetadata().getName());
    int count = pods.list().getItems().size();
    if (count > 0) {
      pods.delete();
    }
    return count;
  }
}
