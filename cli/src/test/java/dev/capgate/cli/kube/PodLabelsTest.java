package dev.capgate.cli.kube;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * The plugin finds a session's pods by the label the webhook writes, which the operator declares
 * ({@code naming.PodMarkers.SESSION}). The plugin does not depend on the operator (JOSDK and all),
 * so this keeps the two spellings equal by reading the operator's source.
 */
class PodLabelsTest {
  @Test
  void sessionLabelIsTheOperators() throws IOException {
    String source =
        Files.readString(
            Path.of("../operator/src/main/java/dev/capgate/operator/naming/PodMarkers.java"));
    assertThat(source).contains("String SESSION = \"" + SessionPods.SESSION_LABEL + "\";");
  }
}
