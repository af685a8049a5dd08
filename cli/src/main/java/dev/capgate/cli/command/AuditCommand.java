package dev.capgate.cli.command;

import dev.capgate.cli.audit.AuditLine;
import dev.capgate.cli.audit.AuditLines;
import dev.capgate.cli.audit.AuditTable;
import dev.capgate.cli.kube.SessionPods;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.dsl.LogWatch;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(
    name = "audit",
    mixinStandardHelpOptions = true,
    description = {
      "The audit lines of a session's sidecars (docs/audit.md), all its pods merged by time.",
      "Read from the capgate-proxy container logs, so as far back as the kubelet keeps them."
    },
    exitCodeListHeading = "%nExit codes:%n",
    exitCodeList = {
      "0:shown (also when there are no lines yet)",
      "3:no pod of that session",
      "4:the API server could not be used",
      "64:wrong command line"
    })
public final class AuditCommand implements Callable<Integer> {
  @Spec CommandSpec spec;
  @Mixin KubeOptions kube;
  @Mixin SessionAuditOptions audit;

  @Option(
      names = {"-f", "--follow"},
      description = "Keep printing lines as the sidecars write them (until interrupted).")
  boolean follow;

  @Option(
      names = {"-o", "--output"},
      paramLabel = "FORMAT",
      description = "table (default) or json (the lines as the sidecar wrote them).")
  Format output = Format.table;

  /** Output formats. */
  public enum Format {
    table,
    json
  }

  @Override
  public Integer call() throws Exception {
    Instant from = audit.from();
    PrintWriter out = spec.commandLine().getOut();
    try (KubernetesClient client = kube.connect()) {
      Optional<SessionAuditLog> log =
          audit.open(client, kube.namespace(client), spec.commandLine().getErr());
      if (log.isEmpty()) {
        return ExitCodes.NOT_FOUND;
      }
      List<Pod> pods = log.get().pods();
      if (follow) {
        follow(log.get().sessionPods(), pods, from, out);
        return ExitCodes.OK;
      }
      List<AuditLine> lines = log.get().read(from);
      if (output == Format.json) {
        lines.forEach(l -> out.println(l.raw()));
      } else if (lines.isEmpty()) {
        out.println(
            "No audit lines yet from " + pods.size() + " pod(s) of session " + audit.session + ".");
      } else {
        out.print(AuditTable.format(lines));
      }
      out.flush();
      return ExitCodes.OK;
    }
  }

  /**
   * One reader per pod, each printing its lines as they come: across pods, arrival order (a live
   * stream cannot wait for a slower pod to sort by time). Pods started later are not followed.
   */
  private void follow(SessionPods sessionPods, List<Pod> pods, Instant from, PrintWriter out)
      throws InterruptedException {
    if (output == Format.table) {
      // Live rows cannot be aligned to a width not seen yet: the table's header, separated only.
      out.println(String.join("  ", AuditTable.HEADER));
      out.flush();
    }
    List<Thread> readers = new ArrayList<>();
    List<LogWatch> watches = new ArrayList<>();
    for (Pod pod : pods) {
      String name = pod.getMetadata().getName();
      LogWatch watch;
      try {
        watch = sessionPods.followProxyLog(pod, from);
      } catch (io.fabric8.kubernetes.client.KubernetesClientException e) {
        spec.commandLine()
            .getErr()
            .println("warning: not following pod " + name + ": " + e.getMessage());
        continue;
      }
      watches.add(watch);
      readers.add(
          Thread.ofVirtual()
              .start(
                  () -> {
                    try (BufferedReader r =
                        new BufferedReader(
                            new InputStreamReader(watch.getOutput(), StandardCharsets.UTF_8))) {
                      String line;
                      while ((line = r.readLine()) != null) {
                        AuditLines.parse(name, line)
                            .filter(l -> from == null || !l.ts().isBefore(from))
                            .ifPresent(
                                l -> {
                                  synchronized (out) {
                                    out.println(
                                        output == Format.json ? l.raw() : AuditTable.formatRow(l));
                                    out.flush();
                                  }
                                });
                      }
                    } catch (IOException e) {
                      synchronized (out) {
                        spec.commandLine()
                            .getErr()
                            .println("warning: stopped following " + name + ": " + e.getMessage());
                      }
                    }
                  }));
    }
    try {
      for (Thread t : readers) {
        t.join();
      }
    } finally {
      watches.forEach(LogWatch::close);
    }
  }
}
