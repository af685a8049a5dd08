package dev.capgate.cli.command;

import com.fasterxml.jackson.databind.JsonNode;
import dev.capgate.cli.kube.AgentSessions;
import dev.capgate.cli.status.SessionSummary;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.io.PrintWriter;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicReference;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(
    name = "revoke",
    mixinStandardHelpOptions = true,
    description = {
      "Revokes a session: deletes the AgentSession (what kubectl delete agentsession does) and",
      "waits until it is gone. The operator's finalizer keeps it until the session's Vault tokens",
      "and leases are revoked, so gone means revoked; sidecars deny from the deletion on."
    },
    exitCodeListHeading = "%nExit codes:%n",
    exitCodeList = {
      "0:revoked (the object is gone)",
      "2:still there after --timeout (is the operator running? see status)",
      "3:no such session",
      "4:the API server could not be used",
      "64:wrong command line"
    })
public final class RevokeCommand implements Callable<Integer> {
  @Spec CommandSpec spec;
  @Mixin KubeOptions kube;

  @Parameters(index = "0", paramLabel = "SESSION", description = "The AgentSession.")
  String session;

  @Mixin TimeoutOption timeout;

  @Override
  public Integer call() throws InterruptedException {
    PrintWriter out = spec.commandLine().getOut();
    try (KubernetesClient client = kube.connect()) {
      String namespace = kube.namespace(client);
      AgentSessions sessions = new AgentSessions(client, namespace);
      Instant start = Instant.now();
      if (!sessions.delete(session)) {
        spec.commandLine()
            .getErr()
            .println("error: no AgentSession " + session + " in namespace " + namespace);
        return ExitCodes.NOT_FOUND;
      }
      out.println(
          "agentsession " + namespace + "/" + session + " deleted; sidecars deny from now on");
      out.println(
          "waiting for the operator to revoke its Vault tokens and leases and release it...");
      out.flush();
      AtomicReference<Optional<JsonNode>> last = new AtomicReference<>(Optional.empty());
      boolean gone =
          timeout.waitUntil(
              () -> {
                Optional<JsonNode> now = sessions.get(session);
                last.set(now);
                return now.isEmpty();
              });
      long ms = Duration.between(start, Instant.now()).toMillis();
      if (gone) {
        out.println("revoked: " + namespace + "/" + session + " is gone (" + ms + " ms)");
        out.flush();
        return ExitCodes.OK;
      }
      JsonNode still = last.get().orElseThrow();
      SessionSummary s = new SessionSummary(still);
      spec.commandLine()
          .getErr()
          .println(
              "error: "
                  + namespace
                  + "/"
                  + session
                  + " still exists after "
                  + timeout.seconds()
                  + "s (phase "
                  + s.phase()
                  + ", finalizers "
                  + still.path("metadata").path("finalizers")
                  + "): the operator has not confirmed the revocation; is it running?"
                  + " Sidecars deny already: the deletion is recorded.");
      return ExitCodes.TIMEOUT;
    }
  }
}
