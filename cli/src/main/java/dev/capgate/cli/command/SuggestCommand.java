package dev.capgate.cli.command;

import dev.capgate.cli.audit.AuditLine;
import dev.capgate.cli.learn.RuleSuggestions;
import dev.capgate.cli.learn.SuggestionYaml;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.io.PrintWriter;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

@Command(
    name = "suggest",
    mixinStandardHelpOptions = true,
    description = {
      "Egress rules that would have allowed what a learn session (spec.mode: Audit) let through:",
      "its would-deny audit lines (the lines `audit` shows) grouped by host and methods, paths",
      "generalized (ids -> *, deep paths -> **). An AgentSession fragment to review, never a",
      "credential: add those yourself."
    },
    exitCodeListHeading = "%nExit codes:%n",
    exitCodeList = {
      "0:printed (also when there is nothing to suggest)",
      "3:no pod of that session",
      "4:the API server could not be used",
      "64:wrong command line"
    })
public final class SuggestCommand implements Callable<Integer> {
  @Spec CommandSpec spec;
  @Mixin KubeOptions kube;
  @Mixin SessionAuditOptions audit;

  @Override
  public Integer call() throws Exception {
    Instant from = audit.from();
    PrintWriter out = spec.commandLine().getOut();
    try (KubernetesClient client = kube.connect()) {
      String namespace = kube.namespace(client);
      Optional<SessionAuditLog> log = audit.open(client, namespace, spec.commandLine().getErr());
      if (log.isEmpty()) {
        return ExitCodes.NOT_FOUND;
      }
      List<AuditLine> lines = log.get().read(from);
      String source =
          "kubectl capgate suggest "
              + audit.session
              + " -n "
              + namespace
              + ": "
              + lines.size()
              + " audit line(s) from "
              + log.get().pods().size()
              + " pod(s)"
              + (lines.isEmpty()
                  ? ""
                  : ", " + lines.getFirst().ts() + " .. " + lines.getLast().ts());
      out.print(SuggestionYaml.render(RuleSuggestions.of(lines), source));
      out.flush();
      return ExitCodes.OK;
    }
  }
}
