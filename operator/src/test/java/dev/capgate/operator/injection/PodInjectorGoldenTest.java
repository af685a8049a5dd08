package dev.capgate.operator.injection;

import static dev.capgate.operator.injection.InjectionFixtures.SETTINGS;
import static dev.capgate.operator.injection.InjectionFixtures.planFor;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.zjsonpatch.JsonPatch;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Golden files (Istio's model): {@code golden/<name>.yaml} injected gives {@code
 * golden/<name>.injected.yaml}; injecting that gives it back unchanged; and the admission patch
 * (the diff) turns the input into the same pod.
 *
 * <p>After an intended change: {@code mvn -pl operator test -Dtest=PodInjectorGoldenTest
 * -Dcapgate.golden.update=true}, then read the diff of the golden files.
 */
class PodInjectorGoldenTest {
  private static final Path GOLDEN_SOURCES = Path.of("src/test/resources/golden");
  private final PodInjector injector = new PodInjector(SETTINGS, InjectionFixtures.TRUST_ROOTS);

  @ParameterizedTest(name = "{0}")
  @ValueSource(
      strings = {
        "pod",
        "pod-with-init-containers",
        "pod-with-java-tool-options",
        "pod-generate-name",
        "pod-with-placeholders"
      })
  void injectsAsTheGoldenFileSays(String name) throws IOException {
    Pod input = InjectionFixtures.pod(InjectionFixtures.resource("/golden/" + name + ".yaml"));
    String actual = InjectionFixtures.yaml(injector.inject(input, planFor(name)));
    if (Boolean.getBoolean("capgate.golden.update")) {
      Files.writeString(GOLDEN_SOURCES.resolve(name + ".injected.yaml"), actual);
    }
    assertThat(actual).isEqualTo(InjectionFixtures.resource("/golden/" + name + ".injected.yaml"));
  }

  @ParameterizedTest(name = "{0}: injecting the injected pod changes nothing")
  @ValueSource(
      strings = {
        "pod",
        "pod-with-init-containers",
        "pod-with-java-tool-options",
        "pod-generate-name",
        "pod-with-placeholders"
      })
  void reinjectionIsANoOp(String name) {
    Pod injected =
        InjectionFixtures.pod(InjectionFixtures.resource("/golden/" + name + ".injected.yaml"));
    Pod again = injector.inject(injected, null);
    assertThat(InjectionFixtures.yaml(again)).isEqualTo(InjectionFixtures.yaml(injected));
    assertThat(PodPatch.diff(injected, again)).isEmpty();
  }

  @ParameterizedTest(name = "{0}: the patch turns the input into the injected pod")
  @ValueSource(
      strings = {
        "pod",
        "pod-with-init-containers",
        "pod-with-java-tool-options",
        "pod-generate-name",
        "pod-with-placeholders"
      })
  void patchIsTheDiff(String name) {
    Pod input = InjectionFixtures.pod(InjectionFixtures.resource("/golden/" + name + ".yaml"));
    Pod injected = injector.inject(input, planFor(name));
    JsonNode patch = PodPatch.diff(input, injected);
    JsonNode patched = JsonPatch.apply(patch, PodPatch.tree(input));
    assertThat(patched).isEqualTo(PodPatch.tree(injected));
    patch.forEach(op -> assertThat(op.get("op").asText()).isIn("add", "remove", "replace"));
  }

  @ParameterizedTest(name = "{0}: the input pod is not modified")
  @ValueSource(strings = {"pod", "pod-generate-name"})
  void inputIsLeftAlone(String name) {
    String yaml = InjectionFixtures.resource("/golden/" + name + ".yaml");
    Pod input = InjectionFixtures.pod(yaml);
    String before = InjectionFixtures.yaml(input);
    injector.inject(input, planFor(name));
    assertThat(InjectionFixtures.yaml(input)).isEqualTo(before);
  }
}
