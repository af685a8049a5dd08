package dev.capgate.api;

import static org.assertj.core.api.Assertions.assertThat;

import dev.capgate.api.v1alpha1.AgentApproval;
import dev.capgate.api.v1alpha1.AgentSession;
import io.fabric8.crd.generator.annotation.AdditionalPrinterColumn;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceColumnDefinition;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The CRD YAML is generated from the Java types (crd-generator-maven-plugin, at build time) and
 * committed twice: {@code crds/} for users and {@code charts/capgate/crds/} for Helm. This test
 * fails when a committed copy differs from what the types generate; {@code make crds} rewrites
 * both.
 */
class CrdYamlInSyncTest {
  static final String FILE = "agentsessions.capgate.dev-v1.yml";
  static final String APPROVAL_FILE = "agentapprovals.capgate.dev-v1.yml";
  static final Path MODULE = Path.of("").toAbsolutePath();

  static List<Path> copies(String file) {
    return List.of(MODULE.resolve(file), MODULE.resolveSibling("charts/capgate/crds/" + file));
  }

  @Test
  void committedCrdYamlMatchesTheJavaTypes() throws IOException {
    check(FILE, render());
  }

  @Test
  void committedApprovalCrdYamlMatchesTheJavaTypes() throws IOException {
    check(APPROVAL_FILE, render(APPROVAL_FILE, AgentApproval.class));
  }

  private static void check(String file, String expected) throws IOException {
    List<Path> copies = copies(file);
    if (Boolean.getBoolean("capgate.crds.update")) {
      for (Path copy : copies) {
        Files.createDirectories(copy.getParent());
        Files.writeString(copy, expected);
      }
    }
    for (Path copy : copies) {
      assertThat(copy).as("%s is missing: run `make crds`", copy).exists();
      assertThat(Files.readString(copy))
          .as(
              "%s is out of date with the Java types in dev.capgate.api.v1alpha1: run `make crds`",
              copy)
          .isEqualTo(expected);
    }
  }

  /** The generator's output, with printer columns in the order the annotations declare them. */
  static String render() throws IOException {
    return render(FILE, AgentSession.class);
  }

  static String render(String file, Class<?> type) throws IOException {
    CustomResourceDefinition crd;
    try (InputStream in = type.getResourceAsStream("/META-INF/fabric8/" + file)) {
      assertThat(in)
          .as("generated CRD missing: build with mvn (crd-generator-maven-plugin)")
          .isNotNull();
      crd = Serialization.unmarshal(in, CustomResourceDefinition.class);
    }
    List<String> order =
        Arrays.stream(type.getAnnotationsByType(AdditionalPrinterColumn.class))
            .map(AdditionalPrinterColumn::name)
            .toList();
    crd.getSpec()
        .getVersions()
        .forEach(
            v ->
                v.getAdditionalPrinterColumns()
                    .sort(
                        Comparator.comparingInt(
                            (CustomResourceColumnDefinition c) -> order.indexOf(c.getName()))));
    return "# Generated from dev.capgate.api.v1alpha1 by `make crds`: do not edit by hand.\n"
        + Serialization.asYaml(crd);
  }
}
