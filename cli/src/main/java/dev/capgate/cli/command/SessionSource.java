package dev.capgate.cli.command;

import dev.capgate.cli.kube.AgentSessions;
import dev.capgate.cli.session.SessionDocument;
import dev.capgate.cli.session.SessionFiles;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Where {@code lint} and {@code test} read sessions: a file, or {@code agentsession/NAME}
 * (kubectl's TYPE/NAME form) for the live object in the namespace, so that what the cluster holds
 * can be checked as well as what is about to be applied.
 */
final class SessionSource {
  private static final Pattern REF =
      Pattern.compile("(?:agentsessions?|ags|agentsessions?\\.capgate\\.dev)/(.+)");

  /** The source named nothing that exists: a file or a session in the namespace. */
  static final class NotFound extends Exception {
    NotFound(String message) {
      super(message);
    }
  }

  private SessionSource() {}

  static boolean isClusterRef(String source) {
    return REF.matcher(source).matches();
  }

  /**
   * @throws IOException the file is not YAML/JSON
   * @throws NotFound no such file or session
   */
  static List<SessionDocument> load(String source, KubeOptions kube) throws IOException, NotFound {
    Matcher m = REF.matcher(source);
    if (m.matches()) {
      try (KubernetesClient client = kube.connect()) {
        String namespace = kube.namespace(client);
        var found = new AgentSessions(client, namespace).get(m.group(1));
        if (found.isEmpty()) {
          throw new NotFound("no AgentSession " + m.group(1) + " in namespace " + namespace);
        }
        return List.of(SessionFiles.document(1, found.get()));
      }
    }
    Path file = Path.of(source);
    if (!Files.isRegularFile(file)) {
      throw new NotFound(source + ": no such file");
    }
    return SessionFiles.read(file);
  }
}
