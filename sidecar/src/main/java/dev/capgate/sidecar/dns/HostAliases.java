package dev.capgate.sidecar.dns;

import io.netty.resolver.HostsFileEntriesResolver;
import io.netty.resolver.ResolvedAddressTypes;
import io.netty.util.NetUtil;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The pod spec's {@code hostAliases}, as the webhook saw them at admission ({@code
 * CAPGATE_HOST_ALIASES}, the Kubernetes JSON: {@code [{"ip": "...", "hostnames": [...]}]}). Kubelet
 * writes the same entries into the pod's {@code /etc/hosts}, but that file is shared with (and
 * writable by a root) agent; this copy is fixed at admission, so the sidecar takes its aliases from
 * here and never reads {@code /etc/hosts}.
 */
public final class HostAliases implements HostsFileEntriesResolver {
  public static final HostAliases NONE = new HostAliases(Map.of());

  private final Map<String, List<InetAddress>> byName;

  private HostAliases(Map<String, List<InetAddress>> byName) {
    this.byName = byName;
  }

  /**
   * @throws IllegalArgumentException naming what is wrong (not JSON, an entry without ip, ...)
   */
  public static HostAliases parse(String json) {
    if (json == null || json.isBlank()) {
      return NONE;
    }
    JsonArray entries;
    try {
      entries = new JsonArray(json);
    } catch (DecodeException | ClassCastException e) {
      throw new IllegalArgumentException(
          "host aliases must be a JSON array of {\"ip\", \"hostnames\"} objects: "
              + e.getMessage());
    }
    Map<String, List<InetAddress>> byName = new LinkedHashMap<>();
    for (int i = 0; i < entries.size(); i++) {
      if (!(entries.getValue(i) instanceof JsonObject entry)) {
        throw new IllegalArgumentException("host alias " + i + " is not an object");
      }
      InetAddress ip = literal(entry.getValue("ip"), i);
      if (!(entry.getValue("hostnames") instanceof JsonArray names) || names.isEmpty()) {
        throw new IllegalArgumentException(
            "host alias " + i + " (" + ip.getHostAddress() + ") has no hostnames");
      }
      for (Object name : names) {
        if (!(name instanceof String n) || n.isBlank()) {
          throw new IllegalArgumentException(
              "host alias " + i + " has a hostname that is not a name: " + name);
        }
        byName.computeIfAbsent(normalize(n), k -> new ArrayList<>()).add(ip);
      }
    }
    return new HostAliases(Map.copyOf(byName));
  }

  public boolean isEmpty() {
    return byName.isEmpty();
  }

  /** The alias address for {@code host} of the preferred family, or null: then DNS answers. */
  @Override
  public InetAddress address(String host, ResolvedAddressTypes types) {
    List<InetAddress> all = byName.get(normalize(host));
    if (all == null) {
      return null;
    }
    InetAddress v4 = all.stream().filter(a -> a instanceof Inet4Address).findFirst().orElse(null);
    InetAddress v6 = all.stream().filter(a -> a instanceof Inet6Address).findFirst().orElse(null);
    return switch (types) {
      case IPV4_ONLY -> v4;
      case IPV6_ONLY -> v6;
      case IPV4_PREFERRED -> v4 != null ? v4 : v6;
      case IPV6_PREFERRED -> v6 != null ? v6 : v4;
    };
  }

  private static InetAddress literal(Object ip, int index) {
    byte[] bytes =
        ip instanceof String s ? NetUtil.createByteArrayFromIpAddressString(s.strip()) : null;
    if (bytes == null) {
      throw new IllegalArgumentException(
          "host alias " + index + " has no valid \"ip\" (got " + ip + ")");
    }
    try {
      return InetAddress.getByAddress(bytes);
    } catch (UnknownHostException e) {
      throw new IllegalArgumentException(
          "host alias " + index + " has no valid \"ip\" (got " + ip + ")");
    }
  }

  private static String normalize(String host) {
    String h = host.strip().toLowerCase(Locale.ROOT);
    return h.endsWith(".") ? h.substring(0, h.length() - 1) : h;
  }
}
