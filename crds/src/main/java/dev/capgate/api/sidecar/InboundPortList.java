package dev.capgate.api.sidecar;

import java.util.List;
import java.util.SortedSet;
import java.util.TreeSet;
import java.util.stream.Collectors;

/**
 * The value of {@link SidecarContract#INBOUND_PORTS_FLAG} (and of the pod annotation it comes
 * from): comma-separated TCP port numbers 1..65535, {@code 8080,9090}.
 */
public final class InboundPortList {
  private InboundPortList() {}

  /** {@code "8080,9090"}, in ascending order. */
  public static String format(SortedSet<Integer> ports) {
    return ports.stream().map(String::valueOf).collect(Collectors.joining(","));
  }

  /**
   * The valid entries of {@code list}; each invalid one is added to {@code bad}, quoted, for the
   * caller's error message.
   */
  public static SortedSet<Integer> parse(String list, List<String> bad) {
    SortedSet<Integer> ports = new TreeSet<>();
    for (String entry : list.split(",", -1)) {
      String e = entry.strip();
      if (e.matches("[0-9]{1,5}") && Integer.parseInt(e) >= 1 && Integer.parseInt(e) <= 65535) {
        ports.add(Integer.parseInt(e));
      } else {
        bad.add("'" + e + "'");
      }
    }
    return ports;
  }
}
