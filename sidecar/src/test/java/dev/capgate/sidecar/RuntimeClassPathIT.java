package dev.capgate.sidecar;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * What the image ships in {@code lib/} (the jar's runtime class path, made by the package phase):
 * no Fabric8 (client, model, HTTP client), no SnakeYAML, no Jackson YAML. {@code
 * RuntimeClassPathTest} checks that no sidecar class needs them.
 */
class RuntimeClassPathIT {
  @Test
  void lib_holds_no_kubernetes_client_and_no_yaml_parser() throws IOException {
    List<String> jars;
    try (Stream<Path> files = Files.list(Path.of("target/lib"))) {
      jars = files.map(p -> p.getFileName().toString()).sorted().toList();
    }
    assertThat(jars).anyMatch(j -> j.startsWith("vertx-core-"));
    assertThat(jars)
        .noneMatch(
            j ->
                j.startsWith("kubernetes-")
                    || j.startsWith("zjsonpatch")
                    || j.startsWith("snakeyaml")
                    || j.startsWith("jackson-dataformat-yaml")
                    || j.startsWith("generator-annotations"));
  }
}
