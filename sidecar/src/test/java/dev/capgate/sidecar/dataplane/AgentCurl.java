package dev.capgate.sidecar.dataplane;

import dev.capgate.sidecar.netns.Command;
import dev.capgate.sidecar.netns.PodNetns;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * curl as the agent (uid 1000) with the flags every data-plane test uses: silent, at most 15
 * seconds, and the status code printed on a last line of its own, which {@link #status} and {@link
 * #body} split off again.
 */
final class AgentCurl {
  private AgentCurl() {}

  static Command.Result run(PodNetns pod, String... args) {
    List<String> command =
        new ArrayList<>(List.of("curl", "-s", "-m", "15", "-w", "\n%{http_code}"));
    command.addAll(List.of(args));
    return pod.asAgent(command.toArray(String[]::new));
  }

  /**
   * {@link #run} through {@code sh -c}, so that {@code $VARIABLES} in {@code args} expand from
   * {@code env}.
   */
  static Command.Result inShell(PodNetns pod, Map<String, String> env, String args) {
    return pod.asAgent(
        env, Duration.ofSeconds(30), "sh", "-c", "curl -s -m 15 -w '\\n%{http_code}' " + args);
  }

  /** {@link #run} trusting {@code caFile} (usually the pod CA the sidecar mints leaves from). */
  static Command.Result trusting(PodNetns pod, String caFile, String... args) {
    List<String> withCa = new ArrayList<>(List.of("--cacert", caFile));
    withCa.addAll(List.of(args));
    return run(pod, withCa.toArray(String[]::new));
  }

  /** The status code on the last line, -1 when curl printed nothing. */
  static int status(Command.Result r) {
    List<String> lines = r.stdout().lines().toList();
    return lines.isEmpty() ? -1 : Integer.parseInt(lines.getLast().strip());
  }

  /** What curl printed before the status line. */
  static String body(Command.Result r) {
    String out = r.stdout();
    int last = out.lastIndexOf('\n');
    return last < 0 ? "" : out.substring(0, last);
  }
}
