package dev.capgate.sidecar.sigv4;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * A request as SigV4 sees it: method, the path and query exactly as on the wire, and the header
 * lines by lower-case name (several lines of one name in order).
 *
 * @param path the request target's path, percent-encoding as sent
 * @param query the raw query without {@code ?}, or null
 */
public record SignedRequest(
    String method, String path, String query, Map<String, List<String>> headers) {

  /** From a request target ({@code /path?query}) and header lines in order. */
  public static SignedRequest of(
      String method, String target, Iterable<Map.Entry<String, String>> headerLines) {
    int q = target.indexOf('?');
    String path = q < 0 ? target : target.substring(0, q);
    String query = q < 0 ? null : target.substring(q + 1);
    Map<String, List<String>> headers = new HashMap<>();
    for (Map.Entry<String, String> e : headerLines) {
      headers
          .computeIfAbsent(e.getKey().toLowerCase(Locale.ROOT), k -> new ArrayList<>(1))
          .add(e.getValue());
    }
    return new SignedRequest(method, path.isEmpty() ? "/" : path, query, headers);
  }

  /** Every line of header {@code lowerCaseName}; empty if none. */
  public List<String> header(String lowerCaseName) {
    return headers.getOrDefault(lowerCaseName, List.of());
  }

  /** The one value of a header that must appear once, or null (absent or repeated). */
  public String single(String lowerCaseName) {
    List<String> values = header(lowerCaseName);
    return values.size() == 1 ? values.getFirst() : null;
  }

  /** Whether the query names a parameter (case-sensitive, as AWS does), before any decoding. */
  public boolean hasQueryParameter(String name) {
    if (query == null) {
      return false;
    }
    for (String p : query.split("&")) {
      if (p.equals(name) || p.startsWith(name + "=")) {
        return true;
      }
    }
    return false;
  }

  @Override
  public String toString() {
    return "SignedRequest[" + method + " " + path + ", headers=" + headers.keySet() + "]";
  }
}
