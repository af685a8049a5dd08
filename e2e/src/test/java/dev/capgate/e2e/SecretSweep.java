package dev.capgate.e2e;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * Greps every output and every log for every secret value of the stack: the transcript and the
 * blobs the suite saved (target/e2e-logs), the stack's log directories (OpenBao server and audit
 * log, upstreams, cluster components, every pod's log — sidecars and operator included) and the
 * operator's current log. Reports where a value was found, never the value.
 */
public final class SecretSweep {
  private SecretSweep() {}

  public static List<String> findings(Stack stack, Kubectl kubectl) {
    // The operator's log as the API server serves it (also in the pod log directory on this node).
    var operator =
        kubectl.run(
            "-n",
            stack.systemNamespace(),
            "logs",
            "-l",
            "app.kubernetes.io/component=operator",
            "--tail=-1",
            "--all-containers");
    Transcript.save(
        "operator.log", (operator.stdout() + operator.stderr()).getBytes(StandardCharsets.UTF_8));
    // Components that run as pods elsewhere (Kind: OpenBao, the upstreams):
    // "<namespace>/<selector>".
    for (String pods : stack.valueOr("CAPGATE_E2E_LOG_PODS", "").split("\\s+")) {
      if (pods.contains("/")) {
        String[] ns = pods.split("/", 2);
        var logs = kubectl.run("-n", ns[0], "logs", "-l", ns[1], "--tail=-1", "--all-containers");
        Transcript.save(
            "pods-" + ns[0] + ".log",
            (logs.stdout() + logs.stderr()).getBytes(StandardCharsets.UTF_8));
      }
    }
    List<Path> files = new ArrayList<>();
    List<Path> roots = new ArrayList<>(stack.logDirs());
    roots.add(Transcript.DIR);
    for (Path root : roots) {
      if (!Files.isDirectory(root)) {
        continue;
      }
      try (Stream<Path> walk = Files.walk(root)) {
        walk.filter(Files::isRegularFile).forEach(files::add);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
    var byFile = stack.secretValuesByFile();
    List<byte[]> secrets =
        byFile.stream().map(e -> e.getValue().getBytes(StandardCharsets.UTF_8)).toList();
    List<String> found = new ArrayList<>();
    long bytes = 0;
    for (Path f : files) {
      byte[] content;
      try {
        content = Files.readAllBytes(f);
      } catch (IOException e) {
        continue; // a log rotated away under us
      }
      bytes += content.length;
      for (int i = 0; i < secrets.size(); i++) {
        if (indexOf(content, secrets.get(i)) >= 0) {
          found.add("secret #" + i + " (of " + byFile.get(i).getKey() + ") in " + f);
        }
      }
    }
    Transcript.note(
        "secret sweep: "
            + secrets.size()
            + " secret values, "
            + files.size()
            + " files, "
            + bytes / 1024
            + " KiB searched, "
            + found.size()
            + " findings");
    return found;
  }

  /** Whether any secret value occurs in {@code content}. */
  public static List<String> findingsIn(Stack stack, String what, byte[] content) {
    List<String> found = new ArrayList<>();
    List<String> secrets = stack.secretValues();
    for (int i = 0; i < secrets.size(); i++) {
      if (indexOf(content, secrets.get(i).getBytes(StandardCharsets.UTF_8)) >= 0) {
        found.add("secret #" + i + " in " + what);
      }
    }
    return found;
  }

  static int indexOf(byte[] haystack, byte[] needle) {
    if (needle.length == 0) {
      return -1;
    }
    outer:
    for (int i = 0; i + needle.length <= haystack.length; i++) {
      if (haystack[i] != needle[0]) {
        continue;
      }
      for (int j = 1; j < needle.length; j++) {
        if (haystack[i + j] != needle[j]) {
          continue outer;
        }
      }
      return i;
    }
    return -1;
  }
}
