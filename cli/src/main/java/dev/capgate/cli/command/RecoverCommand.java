package dev.capgate.cli.command;

import com.fasterxml.jackson.databind.JsonNode;
import dev.capgate.cli.kube.AgentSessions;
import dev.capgate.cli.status.Recovery;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.io.PrintWriter;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(
    name = "recover",
    mixinStandardHelpOptions = true,
    description = {
      "Recovery after compromise: asks the operator to revoke the session's Vault tokens and",
      "leases and restart its pods (new pods get new pod CAs), by setting the annotation",
      "capgate.dev/recover to now (RFC 3339, UTC); waits until status.lastRecovery and the",
      "Recovered condition show it was done, and prints what the operator reported."
    },
    exitCodeListHeading = "%nExit codes:%n",
    exitCodeList = {
      "0:recovered",
      "1:the operator reports RecoveryFailed",
      "2:not confirmed within --timeout (an operator without recovery, or not running)",
      "3:no such session (or none in the namespace with --all)",
      "4:the API server could not be used",
      "64:wrong command line"
    })
public final class RecoverCommand implements Callable<Integer> {
  @Spec CommandSpec spec;
  @Mixin KubeOptions kube;

  @ArgGroup(exclusive = true, multiplicity = "1")
  Target target;

  /** One session, or all of the namespace. */
  static final class Target {
    @Parameters(paramLabel = "SESSION", description = "The AgentSession.")
    String session;

    @Option(names = "--all", description = "Every AgentSession of the namespace.")
    boolean all;
  }

  @Mixin TimeoutOption timeout;

  @Override
  public Integer call() throws InterruptedException {
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    try (KubernetesClient client = kube.connect()) {
      String namespace = kube.namespace(client);
      AgentSessions sessions = new AgentSessions(client, namespace);
      List<String> names = new ArrayList<>();
      if (target.all) {
        sessions.list().forEach(s -> names.add(s.path("metadata").path("name").asText()));
        if (names.isEmpty()) {
          err.println("error: no AgentSession in namespace " + namespace);
          return ExitCodes.NOT_FOUND;
        }
      } else {
        if (sessions.get(target.session).isEmpty()) {
          err.println("error: no AgentSession " + target.session + " in namespace " + namespace);
          return ExitCodes.NOT_FOUND;
        }
        names.add(target.session);
      }
      // Seconds: the plain RFC 3339 form; the operator compares instants, not strings.
      Instant requested = Instant.now().truncatedTo(ChronoUnit.SECONDS);
      for (String name : names) {
        sessions.annotate(name, Recovery.ANNOTATION, requested.toString());
        out.println(
            "recovery requested for "
                + namespace
                + "/"
                + name
                + " ("
                + Recovery.ANNOTATION
                + "="
                + requested
                + ")");
      }
      out.flush();
      Map<String, Recovery.State> states = new LinkedHashMap<>();
      Map<String, JsonNode> last = new LinkedHashMap<>();
      names.forEach(n -> states.put(n, Recovery.State.PENDING));
      timeout.waitUntil(
          () -> {
            for (String name : names) {
              if (states.get(name) != Recovery.State.PENDING) {
                continue;
              }
              var now = sessions.get(name);
              if (now.isEmpty()) {
                continue; // deleted meanwhile: reported below
              }
              last.put(name, now.get());
              Recovery.State state = Recovery.state(now.get(), requested);
              states.put(name, state);
              if (state != Recovery.State.PENDING) {
                out.println(
                    (state == Recovery.State.COMPLETED ? "recovered " : "recovery FAILED for ")
                        + namespace
                        + "/"
                        + name
                        + ": "
                        + Recovery.message(now.get()));
                out.flush();
              }
            }
            return !states.containsValue(Recovery.State.PENDING);
          });
      int exit = ExitCodes.OK;
      for (String name : names) {
        switch (states.get(name)) {
          case FAILED -> exit = Math.max(exit, ExitCodes.FAILED);
          case PENDING -> {
            exit = Math.max(exit, ExitCodes.TIMEOUT);
            err.println(
                "error: "
                    + namespace
                    + "/"
                    + name
                    + ": the operator did not confirm the recovery within "
                    + timeout.seconds()
                    + "s (no status.lastRecovery at or after "
                    + requested
                    + "; is the operator running, and a version with recovery?)."
                    + " The annotation stays: the operator acts on it when it can.");
          }
          case COMPLETED -> {}
        }
      }
      return exit;
    }
  }
}
