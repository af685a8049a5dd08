package dev.capgate.sidecar;

import dev.capgate.api.sidecar.SidecarContract;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

/**
 * The flags of a sidecar a test starts in its own JVM on loopback ({@code new
 * ProxyCommand(SidecarConfig.parse(List.of(), variables), …)}): what every such start needs, for
 * the test to add its own (an upstream proxy, Vault, host aliases) or replace one. Used here and by
 * the e2e module's in-process sidecar ITs (through this module's test jar).
 */
public final class LoopbackSidecarFlags {
  private LoopbackSidecarFlags() {}

  /**
   * Session file, pod CA files and {@code proxyPort}; DNS and admin on free ports, admin on
   * 127.0.0.1; a DNS upstream nothing answers (refused names never reach it); resolv.conf and the
   * placeholders file absent in {@code dir}. Flag name to value; mutable.
   */
  public static Map<String, String> of(
      Path dir, Path sessionFile, Path caCert, Path caKey, int proxyPort) {
    Map<String, String> flags = new HashMap<>();
    flags.put("session-file", sessionFile.toString());
    flags.put("ca-cert", caCert.toString());
    flags.put("ca-key", caKey.toString());
    flags.put("proxy-port", Integer.toString(proxyPort));
    flags.put("dns-port", Integer.toString(freePort()));
    flags.put("admin-port", Integer.toString(freePort()));
    flags.put("admin-address", "127.0.0.1");
    flags.put("dns-upstream", "127.0.0.1:" + freePort());
    flags.put("resolv-conf", dir.resolve("no-resolv.conf").toString());
    flags.put("placeholders-file", dir.resolve("no-placeholders.json").toString());
    return flags;
  }

  /** The flags as the {@code CAPGATE_*} variables a pod gets them as (mutable). */
  public static Map<String, String> variables(Map<String, String> flags) {
    Map<String, String> variables = new HashMap<>();
    flags.forEach((flag, value) -> variables.put(SidecarContract.envOf(flag), value));
    return variables;
  }

  /** A loopback port that was free a moment ago. */
  public static int freePort() {
    try (ServerSocket socket = new ServerSocket()) {
      socket.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
      return socket.getLocalPort();
    } catch (IOException e) {
      throw new UncheckedIOException("no free loopback port", e);
    }
  }
}
