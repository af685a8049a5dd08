package dev.capgate.operator.lifecycle;

import dev.capgate.api.v1alpha1.AgentSession;
import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The chart's pre-delete hook: deletes every AgentSession of the installation while its operator
 * still runs, and waits until the operator's finalizer has let each go, i.e. until Vault confirmed
 * the revocation of its tokens and leases and its pod CAs are destroyed. Deleting the operator
 * first would leave every session stuck behind {@code capgate.dev/revocation} with live leases;
 * removing the finalizer by hand would leave the leases. So on timeout (Vault unreachable, operator
 * down) the hook fails, {@code helm uninstall} stops and nothing else is removed: the operator
 * keeps retrying, and the failure names the sessions and why they wait.
 */
public final class SessionDrain {
  private static final Logger LOG = LoggerFactory.getLogger(SessionDrain.class);
  private static final Duration POLL = Duration.ofMillis(500);

  private final KubernetesClient client;
  private final UninstallSettings settings;

  public SessionDrain(KubernetesClient client, UninstallSettings settings) {
    this.client = client;
    this.settings = settings;
  }

  /** Returns 0 when no session of the installation is left, 1 when some are after the timeout. */
  public int run() {
    long deadline = System.nanoTime() + settings.timeout().toNanos();
    List<AgentSession> left = sessions();
    LOG.info(
        "uninstall: deleting {} AgentSession(s) in {} and waiting up to {} for their revocation",
        left.size(),
        scope(),
        settings.timeout());
    while (true) {
      // Every round, not once: a session created meanwhile is deleted too.
      for (AgentSession s : left) {
        if (s.getMetadata().getDeletionTimestamp() == null) {
          client.resource(s).delete();
          LOG.info("uninstall: deleted AgentSession {}", id(s));
        }
      }
      left = sessions();
      if (left.isEmpty()) {
        LOG.info("uninstall: no AgentSession left in {}: every one revoked", scope());
        return 0;
      }
      if (System.nanoTime() > deadline) {
        for (AgentSession s : left) {
          LOG.error(
              "uninstall: AgentSession {} still waits for revocation (finalizers {}): {}",
              id(s),
              s.getMetadata().getFinalizers(),
              lastWarning(s));
        }
        LOG.error(
            "uninstall: {} AgentSession(s) not revoked within {}; the operator keeps retrying."
                + " Fix what the events say (Vault reachable? operator running?) and run helm"
                + " uninstall again (charts/capgate/README.md, \"Uninstall\")",
            left.size(),
            settings.timeout());
        return 1;
      }
      sleep(POLL);
    }
  }

  private List<AgentSession> sessions() {
    if (settings.watchNamespaces().isEmpty()) {
      return client.resources(AgentSession.class).inAnyNamespace().list().getItems();
    }
    List<AgentSession> all = new ArrayList<>();
    for (String ns : settings.watchNamespaces()) {
      all.addAll(client.resources(AgentSession.class).inNamespace(ns).list().getItems());
    }
    return all;
  }

  /** The newest Warning event of the session (RevocationFailed says why Vault refused). */
  private String lastWarning(AgentSession s) {
    try {
      return client
          .v1()
          .events()
          .inNamespace(s.getMetadata().getNamespace())
          .withField("involvedObject.name", s.getMetadata().getName())
          .list()
          .getItems()
          .stream()
          .filter(e -> "Warning".equals(e.getType()))
          .max(Comparator.comparing(SessionDrain::eventTime))
          .map(e -> e.getReason() + ": " + e.getMessage())
          .orElse("no Warning event (is the operator running?)");
    } catch (RuntimeException e) {
      return "events unreadable: " + e.getMessage();
    }
  }

  private static String eventTime(Event e) {
    String t =
        e.getLastTimestamp() != null
            ? e.getLastTimestamp()
            : e.getEventTime() == null ? null : e.getEventTime().getTime();
    return t == null ? "" : t;
  }

  private String scope() {
    return settings.watchNamespaces().isEmpty()
        ? "all namespaces"
        : "namespaces " + settings.watchNamespaces();
  }

  private static String id(AgentSession s) {
    return s.getMetadata().getNamespace() + "/" + s.getMetadata().getName();
  }

  static void sleep(Duration d) {
    try {
      Thread.sleep(d);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }
}
