package dev.capgate.cli.command;

import io.fabric8.kubernetes.client.KubernetesClient;
import java.io.PrintWriter;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * What {@code audit} and {@code suggest} both read, one session's audit lines from a time on: the
 * same SESSION and {@code --since}, so the two commands cannot drift apart.
 */
public final class SessionAuditOptions {
  @Parameters(index = "0", paramLabel = "SESSION", description = "The AgentSession.")
  String session;

  @Option(
      names = "--since",
      paramLabel = "DURATION",
      converter = TimeoutOption.ApiDuration.class,
      description = "Only lines of the last DURATION (2h, 10m, 1h30m, 30s: the API's grammar).")
  Duration since;

  /** The time of the oldest line wanted, taken now; null for all the kubelet keeps. */
  Instant from() {
    return since == null ? null : Instant.now().minus(since);
  }

  /** The session's audit log; empty (and said on {@code err}) when it has no pod. */
  Optional<SessionAuditLog> open(KubernetesClient client, String namespace, PrintWriter err) {
    return SessionAuditLog.open(client, namespace, session, err);
  }
}
