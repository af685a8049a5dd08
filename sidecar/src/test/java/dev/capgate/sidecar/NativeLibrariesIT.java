package dev.capgate.sidecar;

import static org.assertj.core.api.Assertions.assertThat;

import dev.capgate.api.sidecar.SidecarContract;
import dev.capgate.testkit.Pki;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The shipped layout ({@code capgate-sidecar.jar}, {@code lib/}, {@code native/}) started as a
 * process, as the image starts it: with {@code -Djava.library.path} naming {@code native/}, Netty
 * loads BoringSSL and epoll from there and never needs the temp directory (issue 13: extracting
 * BoringSSL cost every start a 3 MiB write; a read-only {@code /tmp} no longer matters). Without
 * the directory the sidecar behaves as before: Netty extracts from the jars, and where it cannot,
 * BoringSSL falls back to the JDK engine with its warning.
 */
class NativeLibrariesIT {
  private static final Path SHIPPED = Path.of("target/native").toAbsolutePath();

  @TempDir Path dir;

  @Test
  void withTheShippedDirectoryNeitherLibraryNeedsAWritableTempDirectory() throws Exception {
    String log = startToReady(SHIPPED, unwritable());

    assertThat(log).contains("TLS engine: BoringSSL").doesNotContain("TLS engine: JDK");
  }

  @Test
  void withoutBoringSslThereAndNoWritableTempDirectoryTheJdkEngineTakesOverWithItsWarning()
      throws Exception {
    // Only epoll's library (the sidecar cannot run without epoll, it refuses to start).
    Path epollOnly = Files.createDirectories(dir.resolve("epoll-only"));
    Files.copy(
        SHIPPED.resolve("libnetty_transport_native_epoll_x86_64.so"),
        epollOnly.resolve("libnetty_transport_native_epoll_x86_64.so"));

    String log = startToReady(epollOnly, unwritable());

    assertThat(log)
        .contains("TLS engine: JDK, the native BoringSSL library did not load")
        .doesNotContain("TLS engine: BoringSSL");
  }

  @Test
  void withoutTheDirectoryNettyExtractsFromTheJarsAsBefore() throws Exception {
    Path tmp = Files.createDirectories(dir.resolve("tmp"));

    String log = startToReady(dir.resolve("no-native-dir"), tmp);

    assertThat(log).contains("TLS engine: BoringSSL");
  }

  /**
   * A temp directory nothing can write, root included: a read-only tmpfs, mounted in the sidecar's
   * own mount namespace ({@link #startToReady}), as a pod's read-only root file system would be.
   * Netty's work directory is pointed there too (it defaults to the temp directory; it must exist,
   * or Netty's loader refuses to initialize at all).
   */
  private Path unwritable() throws IOException {
    return Files.createDirectories(dir.resolve("read-only-tmp"));
  }

  /** Starts the sidecar, waits for its ready line, stops it; returns its log (stdout + stderr). */
  private String startToReady(Path libraryPath, Path tmp) throws Exception {
    Path log = dir.resolve("sidecar-" + System.nanoTime() + ".log");
    List<String> command = new ArrayList<>();
    if (tmp.endsWith("read-only-tmp")) {
      // A private mount namespace: the mount goes away with the process, whatever happens.
      command.addAll(
          List.of(
              "unshare",
              "--mount",
              "--propagation",
              "private",
              "sh",
              "-c",
              "mount -t tmpfs -o ro,size=1m capgate-ro-tmp \"$0\" && exec \"$@\"",
              tmp.toString()));
    }
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.addAll(
        List.of(
            "-XX:TieredStopAtLevel=1",
            "-Djava.library.path=" + libraryPath,
            "-Djava.io.tmpdir=" + tmp,
            "-Dio.netty.native.workdir=" + tmp,
            "-jar",
            Path.of("target/capgate-sidecar.jar").toAbsolutePath().toString(),
            "proxy"));
    ProcessBuilder builder =
        new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile());
    builder.environment().keySet().removeIf(k -> k.startsWith(SidecarContract.ENV_PREFIX));
    builder.environment().putAll(podVariables());
    Process sidecar = builder.start();
    try {
      Instant deadline = Instant.now().plus(Duration.ofSeconds(60));
      while (!Files.readString(log).contains("capgate sidecar ready")) {
        assertThat(sidecar.isAlive())
            .as("sidecar exited before ready:\n%s", Files.readString(log))
            .isTrue();
        assertThat(Instant.now())
            .as("ready within 60 s:\n%s", Files.readString(log))
            .isBefore(deadline);
        Thread.sleep(50);
      }
      return Files.readString(log);
    } finally {
      sidecar.destroy();
      if (!sidecar.waitFor(10, TimeUnit.SECONDS)) {
        sidecar.destroyForcibly().waitFor();
      }
    }
  }

  /** File mode, configured through CAPGATE_* variables as the webhook configures a pod. */
  private Map<String, String> podVariables() throws IOException {
    Pki ca = new Pki("capgate pod CA (native libraries test)");
    Path caDir = Files.createDirectories(dir.resolve("ca-" + System.nanoTime()));
    Files.writeString(caDir.resolve(SidecarContract.CA_CERT), ca.caCertPem());
    Files.writeString(caDir.resolve(SidecarContract.CA_KEY), ca.caKeyPem());
    Path session =
        Files.writeString(
            caDir.resolve("session.json"),
            """
            {"metadata": {"namespace": "agents", "name": "native"},
             "spec": {"user": "alice@example.com", "agent": "native-test",
               "egress": [{"name": "api", "hosts": ["api.example.test"], "methods": ["GET"], "paths": ["/**"]}]}}
            """);
    Map<String, String> variables = new HashMap<>();
    variables.put(SidecarContract.ENV_CA_DIR, caDir.toString());
    variables.put(SidecarContract.envOf("session-file"), session.toString());
    variables.put(SidecarContract.ENV_PROXY_PORT, Integer.toString(freePort()));
    variables.put(SidecarContract.ENV_DNS_PORT, Integer.toString(freePort()));
    variables.put(SidecarContract.ENV_ADMIN_PORT, Integer.toString(freePort()));
    variables.put(SidecarContract.envOf("admin-address"), "127.0.0.1");
    variables.put(SidecarContract.envOf("dns-upstream"), "127.0.0.1:" + freePort());
    variables.put(SidecarContract.envOf("resolv-conf"), dir.resolve("no-resolv.conf").toString());
    return variables;
  }

  private static int freePort() throws IOException {
    try (ServerSocket socket = new ServerSocket(0)) {
      return socket.getLocalPort();
    }
  }
}
