package dev.capgate.cli.command;

import com.fasterxml.jackson.databind.JsonNode;
import dev.capgate.api.v1alpha1.ApprovalDecision;
import dev.capgate.cli.kube.AgentApprovals;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.io.PrintWriter;
import java.util.Optional;
import picocli.CommandLine.Model.CommandSpec;

/** What approve and reject share: find the held request, check it is the session's, decide. */
final class Decision {
  private Decision() {}

  static int decide(
      CommandSpec spec,
      KubeOptions kube,
      String session,
      String requestId,
      ApprovalDecision decision,
      String message) {
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    try (KubernetesClient client = kube.connect()) {
      String namespace = kube.namespace(client);
      AgentApprovals approvals = new AgentApprovals(client, namespace);
      Optional<JsonNode> found = approvals.get(requestId);
      if (found.isEmpty() || !session.equals(found.get().path("spec").path("session").asText())) {
        err.println(
            "error: no request "
                + requestId
                + " of session "
                + session
                + " waits for approval in namespace "
                + namespace
                + " (kubectl capgate approvals "
                + session
                + " lists them)");
        return ExitCodes.NOT_FOUND;
      }
      JsonNode held = found.get();
      if (!AgentApprovals.pending(held)) {
        err.println(
            "error: request "
                + requestId
                + " was already decided: "
                + held.path("status").path("decision").asText()
                + " by "
                + held.path("status").path("decidedBy").asText("?"));
        return ExitCodes.FAILED;
      }
      JsonNode stored;
      try {
        stored = approvals.decide(requestId, decision, message);
      } catch (KubernetesClientException e) {
        err.println(
            "error: " + (e.getStatus() != null ? e.getStatus().getMessage() : e.getMessage()));
        return e.getCode() == 403 ? ExitCodes.FAILED : ExitCodes.ERROR;
      }
      JsonNode spec0 = stored.path("spec");
      out.println(
          decision.wire().toLowerCase(java.util.Locale.ROOT)
              + ": "
              + spec0.path("method").asText()
              + " "
              + spec0.path("host").asText()
              + spec0.path("path").asText()
              + " (session "
              + session
              + ", rule "
              + spec0.path("rule").asText()
              + ", request "
              + requestId
              + ") by "
              + stored.path("status").path("decidedBy").asText("?"));
      out.flush();
      return ExitCodes.OK;
    }
  }
}
