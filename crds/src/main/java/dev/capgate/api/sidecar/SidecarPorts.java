package dev.capgate.api.sidecar;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.SortedSet;
import java.util.TreeSet;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * The sidecar's uid and ports, which the init container's iptables rules and the sidecar's
 * listeners must agree on (both get them from the webhook, {@link #toEnv}).
 *
 * @param proxyUid the sidecar's uid: the only one whose traffic leaves the pod untouched
 * @param proxyPort the transparent TCP listener
 * @param dnsPort the DNS listener (UDP)
 * @param adminPort health, readiness and metrics (the kubelet's probes)
 * @param exemptUids uids of another proxy in the pod (a service mesh's: Istio 1337, Linkerd 2102)
 *     whose traffic the init rules leave alone as well, so that the two proxies do not send each
 *     other's connections back and forth; empty by default. No agent may run as one of them either
 *     (docs/meshes.md)
 */
public record SidecarPorts(
    int proxyUid, int proxyPort, int dnsPort, int adminPort, SortedSet<Integer> exemptUids) {
  /** At most this many exempt uids: one mesh proxy, perhaps its helpers. */
  public static final int MAX_EXEMPT_UIDS = 8;

  public static final SidecarPorts DEFAULTS =
      new SidecarPorts(
          Math.toIntExact(SidecarContract.PROXY_UID),
          SidecarContract.PROXY_PORT,
          SidecarContract.DNS_PORT,
          SidecarContract.ADMIN_PORT);

  /** Without exempt uids besides the sidecar's. */
  public SidecarPorts(int proxyUid, int proxyPort, int dnsPort, int adminPort) {
    this(proxyUid, proxyPort, dnsPort, adminPort, new TreeSet<>());
  }

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
    exemptUids = Collections.unmodifiableSortedSet(new TreeSet<>(exemptUids));
    if (exemptUids.size() > MAX_EXEMPT_UIDS) {
      throw new IllegalArgumentException(
          "at most " + MAX_EXEMPT_UIDS + " exempt uids, got " + exemptUids.size());
    }
    for (int uid : exemptUids) {
      if (uid <= 0) {
        throw new IllegalArgumentException(
            "exempt uid must be a non-root uid 1.."
                + Integer.MAX_VALUE
                + ", got "
                + uid
                + ": root's traffic is always intercepted");
      }
      if (uid == proxyUid) {
        throw new IllegalArgumentException(
            "exempt uid "
                + uid
                + " is the sidecar's own uid (proxy uid): list other proxies' only");
      }
    }
  }

  /** The sidecar's uid and the exempt ones: every uid whose traffic the init rules leave alone. */
  public SortedSet<Integer> uidsLeftAlone() {
    SortedSet<Integer> all = new TreeSet<>(exemptUids);
    all.add(proxyUid);
    return Collections.unmodifiableSortedSet(all);
  }

  /** {@code CAPGATE_PROXY_UID}, {@code _PROXY_PORT}, {@code _DNS_PORT}, {@code _ADMIN_PORT}. */
  public Map<String, String> toEnv() {
    Map<String, String> env = new LinkedHashMap<>();
    env.put(SidecarContract.ENV_PROXY_UID, Integer.toString(proxyUid));
    env.put(SidecarContract.ENV_PROXY_PORT, Integer.toString(proxyPort));
    env.put(SidecarContract.ENV_DNS_PORT, Integer.toString(dnsPort));
    env.put(SidecarContract.ENV_ADMIN_PORT, Integer.toString(adminPort));
    if (!exemptUids.isEmpty()) {
      env.put(
          SidecarContract.ENV_EXEMPT_UIDS,
          exemptUids.stream().map(String::valueOf).collect(Collectors.joining(",")));
    }
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
        number(setting, SidecarContract.ENV_ADMIN_PORT, DEFAULTS.adminPort),
        uids(setting, SidecarContract.ENV_EXEMPT_UIDS));
  }

  /** {@code 1337,2102}: comma-separated uids; unset or blank is none. */
  static SortedSet<Integer> uids(Function<String, Optional<String>> setting, String env) {
    SortedSet<Integer> uids = new TreeSet<>();
    Optional<String> value = setting.apply(env).filter(v -> !v.isBlank());
    if (value.isEmpty()) {
      return uids;
    }
    for (String entry : value.get().split(",", -1)) {
      String e = entry.strip();
      if (!e.matches("-?[0-9]{1,10}")) {
        throw new IllegalArgumentException(
            env
                + " (--"
                + SidecarContract.flagOf(env)
                + ") must be comma-separated uids, got '"
                + value.get()
                + "'");
      }
      long uid = Long.parseLong(e);
      if (uid > Integer.MAX_VALUE) {
        throw new IllegalArgumentException(
            env
                + " (--"
                + SidecarContract.flagOf(env)
                + "): uid "
                + e
                + " is over "
                + Integer.MAX_VALUE);
      }
      uids.add((int) uid);
    }
    return uids;
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
