package dev.capgate.api.sidecar;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;

/**
 * The sidecar's uid and ports, which the init container's iptables rules and the sidecar's
 * listeners must agree on (both get them from the webhook, {@link #toEnv}).
 *
 * @param proxyUid the sidecar's uid: the only one whose traffic leaves the pod untouched
 * @param proxyPort the transparent TCP listener
 * @param dnsPort the DNS listener (UDP)
 * @param adminPort health, readiness and metrics (the kubelet's probes)
 */
public record SidecarPorts(int proxyUid, int proxyPort, int dnsPort, int adminPort) {
  public static final SidecarPorts DEFAULTS =
      new SidecarPorts(
          Math.toIntExact(SidecarContract.PROXY_UID),
          SidecarContract.PROXY_PORT,
          SidecarContract.DNS_PORT,
          SidecarContract.ADMIN_PORT);

  /**
   * @throws IllegalArgumentException naming the value: a uid of 0 (root is never exempt from
   *     interception) or negative, a port outside 1..65535, or two listeners on one port
   */
  public SidecarPorts {
    if (proxyUid <= 0) {
      throw new IllegalArgumentException(
          "proxy uid must be a non-root uid 1.."
              + Integer.MAX_VALUE
              + ", got "
              + proxyUid
              + ": its traffic is the only traffic not intercepted");
    }
    checkPort("proxy port", proxyPort);
    checkPort("dns port", dnsPort);
    checkPort("admin port", adminPort);
    // One network namespace for all: two listeners cannot share a port, and nat would send the
    // agents' traffic for one to the other.
    distinct("proxy port", proxyPort, "dns port", dnsPort);
    distinct("proxy port", proxyPort, "admin port", adminPort);
    distinct("dns port", dnsPort, "admin port", adminPort);
  }

  /** {@code CAPGATE_PROXY_UID}, {@code _PROXY_PORT}, {@code _DNS_PORT}, {@code _ADMIN_PORT}. */
  public Map<String, String> toEnv() {
    Map<String, String> env = new LinkedHashMap<>();
    env.put(SidecarContract.ENV_PROXY_UID, Integer.toString(proxyUid));
    env.put(SidecarContract.ENV_PROXY_PORT, Integer.toString(proxyPort));
    env.put(SidecarContract.ENV_DNS_PORT, Integer.toString(dnsPort));
    env.put(SidecarContract.ENV_ADMIN_PORT, Integer.toString(adminPort));
    return env;
  }

  /**
   * What {@link #toEnv} wrote; {@link #DEFAULTS} for what is absent.
   *
   * @param setting a variable's value by its name, empty when unset
   * @throws IllegalArgumentException naming the variable that is not a number or out of range
   */
  public static SidecarPorts read(Function<String, Optional<String>> setting) {
    return new SidecarPorts(
        number(setting, SidecarContract.ENV_PROXY_UID, DEFAULTS.proxyUid),
        number(setting, SidecarContract.ENV_PROXY_PORT, DEFAULTS.proxyPort),
        number(setting, SidecarContract.ENV_DNS_PORT, DEFAULTS.dnsPort),
        number(setting, SidecarContract.ENV_ADMIN_PORT, DEFAULTS.adminPort));
  }

  static int number(Function<String, Optional<String>> setting, String env, int fallback) {
    Optional<String> value = setting.apply(env);
    if (value.isEmpty()) {
      return fallback;
    }
    try {
      return Integer.parseInt(value.get().strip());
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(
          env
              + " (--"
              + SidecarContract.flagOf(env)
              + ") must be a number, got '"
              + value.get()
              + "'");
    }
  }

  private static void distinct(String what, int port, String other, int otherPort) {
    if (port == otherPort) {
      throw new IllegalArgumentException(what + " and " + other + " must differ, both are " + port);
    }
  }

  private static void checkPort(String what, int port) {
    if (port < 1 || port > 65535) {
      throw new IllegalArgumentException(what + " must be 1..65535, got " + port);
    }
  }
}
