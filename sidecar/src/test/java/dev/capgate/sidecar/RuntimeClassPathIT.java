package dev.capgate.sidecar;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.jar.JarFile;
import java.util.jar.Manifest;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * What the image ships in {@code lib/} (the jar's runtime class path, made by the package phase):
 * no Fabric8 (client, model, HTTP client), no SnakeYAML, no Jackson YAML. {@code
 * RuntimeClassPathTest} checks that no sidecar class needs them. Bouncy Castle's jars come without
 * their signature (an AOT cache skips signed jars) and without its per-entry manifest digests (the
 * class loader keeps every one of them on the heap: 3 MiB). {@code native/} holds the JNI libraries
 * of BoringSSL and epoll, the same bytes as in their jars, for the image's {@code
 * -Djava.library.path} ({@code NativeLibrariesIT} starts the sidecar on them).
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

  @Test
  void bouncy_castle_jars_are_unsigned_and_keep_only_the_main_manifest() throws IOException {
    List<Path> jars;
    try (Stream<Path> files = Files.list(Path.of("target/lib"))) {
      jars = files.filter(p -> p.getFileName().toString().startsWith("bc")).sorted().toList();
    }
    assertThat(jars).hasSize(3);
    for (Path jar : jars) {
      try (JarFile file = new JarFile(jar.toFile())) {
        assertThat(file.stream().map(e -> e.getName()))
            .as(jar + " signature files")
            .noneMatch(n -> n.matches("META-INF/[^/]+\\.(SF|RSA|DSA|EC)"));
        Manifest manifest = file.getManifest();
        assertThat(manifest.getEntries()).as(jar + " per-entry manifest sections").isEmpty();
        // What the main section carries that matters at run time.
        assertThat(manifest.getMainAttributes().getValue("Multi-Release")).isEqualTo("true");
        assertThat(file.isMultiRelease()).isTrue();
      }
    }
  }

  @Test
  void native_holds_the_jni_libraries_of_the_jars_in_lib_byte_for_byte() throws IOException {
    // Library file -> the jar (by name prefix and classifier) it comes from.
    Map<String, String> shipped =
        Map.of(
            "libnetty_tcnative_linux_x86_64.so", "netty-tcnative-boringssl-static-",
            "libnetty_transport_native_epoll_x86_64.so", "netty-transport-native-epoll-",
            "libnetty_transport_native_epoll_aarch_64.so", "netty-transport-native-epoll-");
    List<String> files;
    try (Stream<Path> list = Files.list(Path.of("target/native"))) {
      files = list.map(p -> p.getFileName().toString()).sorted().toList();
    }
    assertThat(files).containsExactlyInAnyOrderElementsOf(shipped.keySet());
    for (var entry : shipped.entrySet()) {
      String arch = entry.getKey().contains("aarch_64") ? "linux-aarch_64" : "linux-x86_64";
      Path jar;
      try (Stream<Path> list = Files.list(Path.of("target/lib"))) {
        jar =
            list.filter(p -> p.getFileName().toString().startsWith(entry.getValue()))
                .filter(p -> p.getFileName().toString().endsWith(arch + ".jar"))
                .findFirst()
                .orElseThrow(() -> new AssertionError("no " + entry.getValue() + arch + " jar"));
      }
      try (JarFile file = new JarFile(jar.toFile())) {
        byte[] inJar =
            file.getInputStream(file.getEntry("META-INF/native/" + entry.getKey())).readAllBytes();
        assertThat(
                Arrays.equals(inJar, Files.readAllBytes(Path.of("target/native", entry.getKey()))))
            .as(entry.getKey() + " is the one in " + jar.getFileName())
            .isTrue();
      }
    }
  }

  @Test
  void the_image_copies_native_and_names_it_in_the_jvm_flags() throws IOException {
    String dockerfile = Files.readString(Path.of("Dockerfile"));
    assertThat(dockerfile).contains("COPY target/native/ native/");
    assertThat(dockerfile)
        .containsPattern("ARG JVM_FLAGS=\"[^\"]*-Djava.library.path=/opt/capgate/native[ \"]");
  }
}
