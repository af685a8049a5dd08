package dev.capgate.sidecar.dns;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The pod's real resolver: the first {@code nameserver} of resolv.conf, its search list and ndots.
 */
public final class ResolvConf {
  private ResolvConf() {}

  public static Optional<InetSocketAddress> firstNameserver(Path file) throws IOException {
    for (String line : Files.readAllLines(file)) {
      String[] words = line.strip().split("\\s+");
      if (words.length >= 2 && words[0].equals("nameserver")) {
        String address = words[1];
        int zone = address.indexOf('%');
        return Optional.of(
            new InetSocketAddress(zone < 0 ? address : address.substring(0, zone), 53));
      }
    }
    return Optional.empty();
  }

  /** The {@code search} (or {@code domain}) list; the last such line wins, as in glibc. */
  public static List<String> searchDomains(Path file) throws IOException {
    List<String> domains = new ArrayList<>();
    for (String line : Files.readAllLines(file)) {
      String[] words = line.strip().split("\\s+");
      if (words.length >= 2 && (words[0].equals("search") || words[0].equals("domain"))) {
        domains = new ArrayList<>(List.of(words).subList(1, words.length));
      }
    }
    return domains;
  }

  /** {@code options ndots:n} (default 1). */
  public static int ndots(Path file) throws IOException {
    int ndots = 1;
    for (String line : Files.readAllLines(file)) {
      String[] words = line.strip().split("\\s+");
      if (words.length >= 2 && words[0].equals("options")) {
        for (String option : words) {
          if (option.matches("ndots:[0-9]{1,2}")) {
            ndots = Math.min(15, Integer.parseInt(option.substring(6)));
          }
        }
      }
    }
    return ndots;
  }

  /** {@code host:port}, {@code [v6]:port} or a bare address (port 53). */
  public static InetSocketAddress parseAddress(String text) {
    String t = text.strip();
    if (t.startsWith("[")) {
      int close = t.indexOf(']');
      int port = t.length() > close + 2 ? Integer.parseInt(t.substring(close + 2)) : 53;
      return new InetSocketAddress(t.substring(1, close), port);
    }
    int colon = t.indexOf(':');
    if (colon > 0 && t.indexOf(':', colon + 1) < 0) {
      return new InetSocketAddress(t.substring(0, colon), Integer.parseInt(t.substring(colon + 1)));
    }
    return new InetSocketAddress(t, 53);
  }
}
