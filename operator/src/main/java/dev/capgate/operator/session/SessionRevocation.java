package dev.capgate.operator.session;

import dev.capgate.api.sidecar.LeaseLedger;
import dev.capgate.api.v1alpha1.AgentSession;
import dev.capgate.operator.ca.PodCaObjects;
import dev.capgate.operator.events.KubernetesEvents;
import dev.capgate.operator.metrics.OperatorMetrics;
import dev.capgate.operator.metrics.OperatorMetrics.RevocationOutcome;
import dev.capgate.operator.naming.PodMarkers;
import dev.capgate.operator.naming.SessionNames;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The parts of revoking a session: Vault leases and tokens recorded in its ledger, its pods' CAs,
 * and (with {@code onRevoke: DeletePods}) its pods. Each step can run again safely.
 *
 * <p>The ledger is written by the session's sidecars, and so by any pod bound to the session: an
 * entry is revoked only if it is the session's ({@link LedgerScope}); anything else is refused —
 * left alone in Vault, removed from the ledger, logged and reported in a Warning event.
 */
public final class SessionRevocation {
  private static final Logger LOG = LoggerFactory.getLogger(SessionRevocation.class);
  static final String REASON_REFUSED = "LedgerEntryRefused";
  static final String REASON_NOT_REVOKED = "LedgerNotRevoked";

  /** Events are cut at 1024 characters: what does not fit is counted, and is in the log. */
  private static final int EVENT_MESSAGE_BUDGET = 1000;

  private final KubernetesClient client;
  private final VaultRevoker vault;
  private final KubernetesEvents events;
  private final OperatorMetrics metrics;

  /**
   * @param vault null when the operator has no Vault token: the ledger is then reported, not
   *     revoked (sidecars revoke their own token, and with it its leases, when the session ends)
   * @param events where refused ledger entries are reported (Warning {@value #REASON_REFUSED})
   */
  public SessionRevocation(KubernetesClient client, VaultRevoker vault, KubernetesEvents events) {
    this(client, vault, events, OperatorMetrics.unserved());
  }

  /**
   * @param metrics counts every ledger entry by what its revocation came to
   */
  public SessionRevocation(
      KubernetesClient client,
      VaultRevoker vault,
      KubernetesEvents events,
      OperatorMetrics metrics) {
    this.client = client;
    this.vault = vault;
    this.events = events;
    this.metrics = metrics;
  }

  /** What one revocation pass did, for the event. */
  public record Revoked(int leases, int accessors, int refused) {}

  /**
   * A ledger entry that was not the session's: not revoked. Lease ids and accessors are not
   * secrets.
   */
  record Refusal(String key, String value, String reason) {
    @Override
    public String toString() {
      return key + "=" + printable(value) + " (" + reason + ")";
    }
  }

  /**
   * Revokes every lease and accessor in the session's ledger that is the session's, refuses the
   * others, and removes both from the ledger.
   *
   * @throws VaultRevoker.VaultUnavailableException if Vault could not revoke or look up one (it and
   *     the rest stay in the ledger for the next attempt; refusals so far are reported)
   */
  public Revoked revokeLeases(AgentSession session) {
    // The operator's own record of the tokens it issued first (sidecars cannot write it), then
    // what the sidecars recorded. Both are checked against the session's scope all the same: a
    // namespace admin could write either ConfigMap.
    Revoked issued = revokeLedger(session, SessionNames.tokens(session.getMetadata().getName()));
    Revoked recorded = revokeLedger(session, SessionNames.leases(session.getMetadata().getName()));
    return new Revoked(
        issued.leases() + recorded.leases(),
        issued.accessors() + recorded.accessors(),
        issued.refused() + recorded.refused());
  }

  private Revoked revokeLedger(AgentSession session, String ledgerName) {
    String namespace = session.getMetadata().getNamespace();
    ConfigMap ledger = client.configMaps().inNamespace(namespace).withName(ledgerName).get();
    Map<String, String> data =
        ledger == null || ledger.getData() == null ? Map.of() : ledger.getData();
    LedgerScope scope = LedgerScope.of(session);
    List<String> done = new ArrayList<>();
    List<Refusal> refused = new ArrayList<>();
    List<String> unrevocable = new ArrayList<>();
    int leases = 0;
    int accessors = 0;
    try {
      for (var entry : new TreeMap<>(data).entrySet()) {
        String key = entry.getKey();
        String value = entry.getValue() == null ? "" : entry.getValue().strip();
        boolean lease = LeaseLedger.isLeaseKey(key);
        boolean accessor = LeaseLedger.isAccessorKey(key);
        if ((!lease && !accessor) || value.isEmpty()) {
          continue;
        }
        if (vault == null) {
          // Blocking deletion here would let any pod of the session (which may write the ledger)
          // hold the session hostage; the sidecars' own revocation and lease TTLs still apply.
          unrevocable.add(key);
          metrics.revocation(lease, RevocationOutcome.NO_TOKEN);
          continue;
        }
        LedgerScope.Verdict verdict = lease ? scope.lease(value) : checkToken(scope, value);
        if (!verdict.allowed()) {
          refused.add(new Refusal(key, value, verdict.reason()));
          metrics.revocation(lease, RevocationOutcome.REFUSED);
          LOG.warn(
              "refused ledger entry {}={} of session {}/{}, not revoked (possible tampering with {}): {}",
              key,
              printable(value),
              namespace,
              session.getMetadata().getName(),
              ledgerName,
              verdict.reason());
        } else {
          try {
            if (lease) {
              vault.revokeLease(verdict.value());
              leases++;
            } else {
              if (verdict.value() != null) {
                vault.revokeAccessor(verdict.value());
              }
              accessors++;
            }
          } catch (RuntimeException e) {
            metrics.revocation(lease, RevocationOutcome.FAILED);
            throw e;
          }
          metrics.revocation(lease, RevocationOutcome.REVOKED);
        }
        done.add(key);
      }
    } finally {
      try {
        forget(namespace, ledgerName, done);
      } finally {
        report(session, ledgerName, scope, refused);
      }
    }
    if (!unrevocable.isEmpty()) {
      String message =
          "the operator has no Vault token (CAPGATE_OPERATOR_VAULT_TOKEN[_FILE]), so the "
              + unrevocable.size()
              + " entries of "
              + ledgerName
              + " were not revoked by it; the sidecars revoke "
              + "their own Vault token and leases when the session ends, and leases expire with their TTL";
      LOG.warn("session {}/{}: {}", namespace, session.getMetadata().getName(), message);
      if (events != null) {
        events.warning(session, REASON_NOT_REVOKED, message);
      }
    }
    if (leases + accessors > 0) {
      LOG.info(
          "revoked {} Vault lease(s) and {} token accessor(s) of session {}/{}",
          leases,
          accessors,
          namespace,
          session.getMetadata().getName());
    }
    return new Revoked(leases, accessors, refused.size());
  }

  /**
   * A token the session's sidecars got from Vault; {@code value} null: already gone, nothing to
   * revoke.
   */
  private LedgerScope.Verdict checkToken(LedgerScope scope, String accessor) {
    var malformed = scope.malformedAccessor(accessor);
    if (malformed.isPresent()) {
      return LedgerScope.Verdict.refuse(malformed.get());
    }
    return vault
        .lookupAccessor(accessor)
        .map(origin -> scope.token(accessor, origin))
        .orElse(LedgerScope.Verdict.revoke(null));
  }

  private void report(
      AgentSession session, String ledgerName, LedgerScope scope, List<Refusal> refused) {
    if (refused.isEmpty() || events == null) {
      return;
    }
    StringBuilder message =
        new StringBuilder("refused ")
            .append(refused.size())
            .append(refused.size() == 1 ? " entry" : " entries")
            .append(" of the ledger ")
            .append(ledgerName)
            .append(
                " (not revoked, removed; possible tampering by a pod of the session; revoked are only ")
            .append(scope.describe())
            .append("): ");
    for (int i = 0; i < refused.size(); i++) {
      String item = (i == 0 ? "" : "; ") + refused.get(i);
      String more = "; and " + (refused.size() - i) + " more (see the operator's log)";
      if (message.length() + item.length() > EVENT_MESSAGE_BUDGET - more.length()) {
        message.append(more);
        break;
      }
      message.append(item);
    }
    events.warning(session, REASON_REFUSED, message.toString());
  }

  /** For logs and events: what a pod wrote may be anything; show it bounded and on one line. */
  static String printable(String value) {
    StringBuilder out = new StringBuilder();
    int limit = Math.min(value.length(), 200);
    for (int i = 0; i < limit; i++) {
      char c = value.charAt(i);
      out.append(c < 0x20 || c == 0x7f ? '?' : c);
    }
    return value.length() > limit ? out.append("...").toString() : out.toString();
  }

  private void forget(String namespace, String ledgerName, List<String> keys) {
    if (keys.isEmpty()) {
      return;
    }
    client
        .configMaps()
        .inNamespace(namespace)
        .withName(ledgerName)
        .edit(
            cm -> {
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
    int secrets =
        client.secrets().inNamespace(namespace).withLabels(selector).list().getItems().size();
    client.secrets().inNamespace(namespace).withLabels(selector).delete();
    client.configMaps().inNamespace(namespace).withLabels(selector).delete();
    return secrets;
  }

  /** Deletes the session's pods (onRevoke: DeletePods); returns how many. */
  public int deletePods(AgentSession session) {
    var pods =
        client
            .pods()
            .inNamespace(session.getMetadata().getNamespace())
            .withLabel(PodMarkers.SESSION, session.getMetadata().getName());
    int count = pods.list().getItems().size();
    if (count > 0) {
      pods.delete();
    }
    return count;
  }
}
