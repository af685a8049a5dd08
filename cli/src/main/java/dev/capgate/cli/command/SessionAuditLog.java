package dev.capgate.cli.command;

import dev.capgate.cli.audit.AuditLine;
import dev.capgate.cli.audit.AuditLines;
import dev.capgate.cli.kube.SessionPods;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.io.PrintWriter;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * A session's audit lines as {@code audit} and {@code suggest} both read them: the session's
 * injected pods, found once, and their proxy logs. Warnings (a pod whose log cannot be read) and
 * the not-found error go to {@code err}.
 */
record SessionAuditLog(SessionPods sessionPods, List<Pod> pods, PrintWriter err) {

  /**
   * The session's injected pods in {@code namespace}; none: says so on {@code err} and is empty
   * (the caller exits NOT_FOUND).
   */
  static Optional<SessionAuditLog> open(
      KubernetesClient client, String namespace, String session, PrintWriter err) {
    SessionPods sessionPods = new SessionPods(client, namespace);
    List<Pod> pods = sessionPods.of(session).stream().filter(SessionPods::hasProxy).toList();
    if (pods.isEmpty()) {
      err.println(
          "error: no injected pod of session "
              + session
              + " in namespace "
              + namespace
              + " (label "
              + SessionPods.SESSION_LABEL
              + "="
              + session
              + ")");
      return Optional.empty();
    }
    return Optional.of(new SessionAuditLog(sessionPods, pods, err));
  }

  /** The pods' audit lines, merged by time, from {@code from} on (null: all). */
  List<AuditLine> read(Instant from) {
    List<List<AuditLine>> perPod = new ArrayList<>();
    for (Pod pod : pods) {
      perPod.add(
          AuditLines.parseLog(
              pod.getMetadata().getName(), sessionPods.proxyLogOrWarn(pod, from, err)));
    }
    return AuditLines.since(AuditLines.merge(perPod), from);
  }
}
