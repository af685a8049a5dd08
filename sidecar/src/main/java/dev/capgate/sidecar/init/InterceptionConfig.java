package dev.capgate.sidecar.init;

import dev.capgate.api.sidecar.InboundPortList;
import dev.capgate.api.sidecar.SidecarPorts;
import java.util.ArrayList;
import java.util.List;
import java.util.SortedSet;
import java.util.TreeSet;

/**
 * What the init container needs to know to send a pod's egress through the sidecar and to keep
 * peers from connecting in.
 *
 * @param proxyUid the sidecar's uid: the only one whose traffic leaves the pod untouched
 * @param proxyPort the sidecar's transparent TCP listener
 * @param dnsPort the sidecar's DNS listener (UDP)
 * @param adminPort the sidecar's admin port (kubelet probes of the sidecar): open to inbound TCP
 * @param inboundPorts TCP ports the pod declared as served to peers (annotation, agent probes);
 *     every other inbound connection is dropped
 * @param exemptUids another proxy's uids (a service mesh's) whose traffic is left alone too, so
 *     that the two proxies do not loop ({@code --exempt-uids}; docs/meshes.md)
 */
public record InterceptionConfig(
    int proxyUid,
    int proxyPort,
    int dnsPort,
    int adminPort,
    SortedSet<Integer> inboundPorts,
    SortedSet<Integer> exemptUids) {
  public static final InterceptionConfig DEFAULTS =
      new InterceptionConfig(SidecarPorts.DEFAULTS, new TreeSet<>());

  public InterceptionConfig {
    // The same checks as the sidecar's.
    new SidecarPorts(proxyUid, proxyPort, dnsPort, adminPort, exemptUids);
    inboundPorts.forEach(p -> checkPort("inbound port", p));
    // A peer must never reach the transparent listener or the DNS proxy directly: both act for
    // the pod's agents, and a connection that nat did not redirect has no original destination.
    if (inboundPorts.contains(proxyPort) || inboundPorts.contains(dnsPort)) {
      throw new IllegalArgumentException(
          "--inbound-ports may not open the sidecar's own proxy port "
              + proxyPort
              + " or DNS port "
              + dnsPort);
    }
    inboundPorts = java.util.Collections.unmodifiableSortedSet(new TreeSet<>(inboundPorts));
    exemptUids = java.util.Collections.unmodifiableSortedSet(new TreeSet<>(exemptUids));
  }

  /** Without exempt uids besides the sidecar's. */
  public InterceptionConfig(
      int proxyUid, int proxyPort, int dnsPort, int adminPort, SortedSet<Integer> inboundPorts) {
    this(proxyUid, proxyPort, dnsPort, adminPort, inboundPorts, new TreeSet<>());
  }

  public InterceptionConfig(SidecarPorts ports, SortedSet<Integer> inboundPorts) {
    this(
        ports.proxyUid(),
        ports.proxyPort(),
        ports.dnsPort(),
        ports.adminPort(),
        inboundPorts,
        ports.exemptUids());
  }

  public InterceptionConfig(int proxyUid, int proxyPort, int dnsPort) {
    this(proxyUid, proxyPort, dnsPort, SidecarPorts.DEFAULTS.adminPort(), new TreeSet<>());
  }

  /**
   * {@code --inbound-ports}: comma-separated TCP port numbers, 1..65535 (blank: none).
   *
   * @throws IllegalArgumentException naming the offending entry
   */
  public static SortedSet<Integer> parsePorts(String list) {
    SortedSet<Integer> ports = new TreeSet<>();
    if (list == null || list.isBlank()) {
      return ports;
    }
    List<String> bad = new ArrayList<>();
    ports.addAll(InboundPortList.parse(list, bad));
    if (!bad.isEmpty()) {
      throw new IllegalArgumentException(
          "--inbound-ports must be comma-separated port numbers 1..65535, got "
              + String.join(", ", bad)
              + " in '"
              + list
              + "'");
    }
    return ports;
  }

  private static void checkPort(String what, int port) {
    if (port < 1 || port > 65535) {
      throw new IllegalArgumentException(what + " must be 1..65535, got " + port);
    }
  }
}
