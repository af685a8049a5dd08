package dev.capgate.cli.command;

import dev.capgate.cli.audit.AuditLine;
import dev.capgate.cli.audit.AuditLines;
import dev.capgate.cli.kube.SessionPods;
import io.fabric8.kubernetes.api.model.Pod;
import java.io.PrintWriter;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/** A session's audit lines as {@code audit} and {@code suggest} both read them. */
final class SessionAuditLog {
  private SessionAuditLog() {}

  /** The session's injected pods; none: says so on {@code err} (the caller exits NOT_FOUND). */
  static List<Pod> injectedPods(
      SessionPods sessionPods, String session, String namespace, PrintWriter err) {
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
    }
    return pods;
  }

  /** Their proxy logs' audit lines, merged by time, from {@code from} on (null: all). */
  static List<AuditLine> read(
      SessionPods sessionPods, List<Pod> pods, Instant from, PrintWriter err) {
    List<List<AuditLine>> perPod = new ArrayList<>();
    for (Pod pod : pods) {
      perPod.add(
          AuditLines.parseLog(
              pod.getMetadata().getName(), sessionPods.proxyLogOrWarn(pod, from, err)));
    }
    return AuditLines.since(AuditLines.merge(perPod), from);
  }
}
