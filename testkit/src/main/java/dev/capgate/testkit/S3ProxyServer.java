package dev.capgate.testkit;

import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.util.ArrayList;
import java.util.List;

/**
 * s3proxy (org.gaul:s3proxy, Apache-2.0): a real S3 server that checks every request's AWS
 * Signature V4 itself, with one identity and its filesystem blob store. {@code make tools} puts it
 * and its class path in {@code <tools>/s3proxy/lib}, off every test class path (it brings logback,
 * cloud SDKs and other Netty natives). A test starts {@link #command} where it needs it: on
 * loopback, or in a network namespace of its own as the sidecar ITs do.
 */
public final class S3ProxyServer {
  public static final String VERSION = "2.6.0";

  private S3ProxyServer() {}

  /** {@code <tools>/s3proxy/lib}; throws with the fix when {@code make tools} has not run. */
  public static Path lib() {
    Path lib = Tools.home().resolve("s3proxy").resolve("lib");
    if (!Files.isRegularFile(lib.resolve("s3proxy-" + VERSION + ".jar"))) {
      throw new IllegalStateException(
          "s3proxy "
              + VERSION
              + " not found in "
              + lib
              + " — run `make tools` (or hack/tools.sh); set -Dcapgate.tools or CAPGATE_TOOLS if"
              + " the tools live elsewhere");
    }
    return lib;
  }

  /**
   * Writes {@code dir/s3proxy.properties} and {@code dir/s3proxy.p12}: HTTPS only on {@code
   * address:port} with {@code server}'s certificate, SigV4 (and V2) checked against {@code
   * accessKeyId}/{@code secretKey}, blobs under {@code dir/blobs}.
   *
   * @return the properties file, for {@link #command}
   */
  public static Path configure(
      Path dir, String address, int port, Pki.Issued server, String accessKeyId, String secretKey) {
    try {
      Files.createDirectories(dir.resolve("blobs"));
      Path keystore = dir.resolve("s3proxy.p12");
      String password = "s3proxy-test";
      KeyStore ks = KeyStore.getInstance("PKCS12");
      ks.load(null, null);
      ks.setKeyEntry(
          "server", server.key(), password.toCharArray(), new Certificate[] {server.certificate()});
      try (OutputStream out = Files.newOutputStream(keystore)) {
        ks.store(out, password.toCharArray());
      }
      // Without a configuration logback logs at DEBUG: tens of thousands of lines per test class.
      Files.writeString(
          dir.resolve("logback.xml"),
          """
          <configuration>
            <appender name="out" class="ch.qos.logback.core.ConsoleAppender">
              <encoder><pattern>%d %level %logger{20} - %msg%n</pattern></encoder>
            </appender>
            <root level="INFO"><appender-ref ref="out"/></root>
          </configuration>
          """);
      Path properties = dir.resolve("s3proxy.properties");
      Files.writeString(
          properties,
          String.join(
              "\n",
              "s3proxy.secure-endpoint=https://" + address + ":" + port,
              "s3proxy.keystore-path=" + keystore,
              "s3proxy.keystore-password=" + password,
              "s3proxy.authorization=aws-v2-or-v4",
              "s3proxy.identity=" + accessKeyId,
              "s3proxy.credential=" + secretKey,
              "jclouds.provider=filesystem",
              "jclouds.filesystem.basedir=" + dir.resolve("blobs"),
              ""));
      return properties;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  /** The line s3proxy logs once it serves. */
  public static final String READY_LINE = "Started Server";

  /** {@code java -cp <lib>/* org.gaul.s3proxy.Main --properties <file>}, with this JVM's java. */
  public static List<String> command(Path properties) {
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.add("-Dlogback.configurationFile=" + properties.resolveSibling("logback.xml"));
    command.add("-cp");
    command.add(lib().resolve("*").toString());
    command.add("org.gaul.s3proxy.Main");
    command.add("--properties");
    command.add(properties.toString());
    return command;
  }
}
