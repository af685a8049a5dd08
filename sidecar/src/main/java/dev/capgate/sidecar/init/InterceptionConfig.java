package dev.capgate.sidecar.init;

/**
 * What the init container needs to know to send a pod's egress through the sidecar.
 *
 * @param proxyUid  the sidecar's uid: the only one whose traffic leaves the pod untouched
 * @param proxyPort the sidecar's transparent TCP listener
 * @param dnsPort   the sidecar's DNS listener (UDP)
 */
public record InterceptionConfig(int proxyUid, int proxyPort, int dnsPort) {
  public static final InterceptionConfig DEFAULTS = new InterceptionConfig(1337, 15001, 15053);

  public InterceptionConfig {
    if (proxyUid <= 0) {
      throw new IllegalArgumentException("proxy uid must be a non-root uid, got " + proxyUid);
    }
    checkPort("proxy port", proxyPort);
    checkPort("dns port", dnsPort);
  }

  private static void checkPort(String what, int port) {
    if (port < 1 || port > 65535) {
      throw new IllegalArgumentException(what + " must be 1..65535, got " + port);
    }
  }
}
