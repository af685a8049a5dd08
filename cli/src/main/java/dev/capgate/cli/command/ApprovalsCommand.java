package dev.capgate.cli.command;

import com.fasterxml.jackson.databind.JsonNode;
import dev.capgate.cli.kube.AgentApprovals;
import dev.capgate.cli.text.Columns;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(
    name = "approvals",
    mixinStandardHelpOptions = true,
    description = {
      "Lists the requests held for approval (AgentApprovals): pending ones by default, of one",
      "session or of all in the namespace. Decide with approve or reject."
    },
    exitCodeListHeading = "%nExit codes:%n",
    exitCodeList = {"0:listed", "4:the API server could not be used", "64:wrong command line"})
public final class ApprovalsCommand implements Callable<Integer> {
  @Spec CommandSpec spec;
  @Mixin KubeOptions kube;

  @Parameters(
      index = "0",
      arity = "0..1",
      paramLabel = "SESSION",
      description = "Only this session's requests.")
  String session;

  @Option(names = "--all", description = "Decided ones too.")
  boolean all;

  @Override
  public Integer call() {
    PrintWriter out = spec.commandLine().getOut();
    try (KubernetesClient client = kube.connect()) {
      List<JsonNode> approvals =
          new AgentApprovals(client, kube.namespace(client))
              .list(session).stream().filter(a -> all || AgentApprovals.pending(a)).toList();
      if (approvals.isEmpty()) {
        out.println(all ? "no approvals" : "no request waits for approval");
        out.flush();
        return ExitCodes.OK;
      }
      List<List<String>> rows = new ArrayList<>();
      rows.add(
          List.of(
              "REQUEST-ID",
              "SESSION",
              "RULE",
              "METHOD",
              "HOST",
              "PATH",
              "STATE",
              "EXPIRES",
              "DECIDED-BY"));
      for (JsonNode a : approvals) {
        JsonNode s = a.path("spec");
        JsonNode st = a.path("status");
        rows.add(
            List.of(
                s.path("requestId").asText(),
                s.path("session").asText(),
                s.path("rule").asText(),
                s.path("method").asText(),
                s.path("host").asText(),
                s.path("path").asText(),
                st.path("decision").asText("Pending"),
                s.path("expiresAt").asText(),
                st.path("decidedBy").asText("")));
      }
      out.print(Columns.align(rows));
      out.flush();
      return ExitCodes.OK;
    }
  }
}
