package dev.capgate.sidecar.http;

import dev.capgate.sidecar.credentials.PlaceholderLeak;
import dev.capgate.sidecar.credentials.Placeholders;
import dev.capgate.sidecar.policy.NormalizedRequest;
import io.netty.handler.codec.http.HttpHeaders;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;

/**
 * Where a placeholder may appear in an intercepted request, and its swap for the real value.
 *
 * <p>Allowed: an exact copy of the placeholder of a credential the matched rule injects, in a
 * request header value (also inside {@code Basic base64(user:placeholder)}). Everything else is a
 * {@link PlaceholderLeak}: any placeholder in the host, path or query, a placeholder of another
 * credential in any header, a placeholder on a route without that credential, and (see {@link
 * #newBodyScanner()}) any placeholder in the body or trailers.
 */
final class PlaceholderGuard {
  private static final PlaceholderGuard INACTIVE = new PlaceholderGuard(Placeholders.none());

  private final Placeholders placeholders;

  PlaceholderGuard(Placeholders placeholders) {
    this.placeholders = placeholders;
  }

  static PlaceholderGuard inactive() {
    return INACTIVE;
  }

  boolean active() {
    return !placeholders.isEmpty();
  }

  /**
   * The request head, before anything is forwarded.
   *
   * @param routeCredentials the credentials the matching rule injects (empty when it injects none
   *     or the request is denied anyway): only their placeholders may stay, in header values
   * @return the first leak, or null when the request may go on
   */
  PlaceholderLeak inspect(
      Iterable<Map.Entry<String, String>> headers,
      NormalizedRequest request,
      List<String> routeCredentials) {
    if (!active()) {
      return null;
    }
    Placeholders.Match m = placeholders.find(request.host());
    if (m != null) {
      return leak(m, "the host name");
    }
    m = placeholders.find(request.path());
    if (m != null) {
      return leak(m, "the request path");
    }
    if (request.query() != null) {
      m = placeholders.find(request.query());
      if (m == null) {
        m = placeholders.find(percentDecode(request.query()));
      }
      if (m != null) {
        return leak(m, "the query string");
      }
    }
    return inspectHeaders(headers, routeCredentials, " header");
  }

  /** Trailers are never rewritten: any placeholder there is a leak. */
  PlaceholderLeak inspectTrailers(HttpHeaders trailers) {
    return active() && !trailers.isEmpty() ? inspectHeaders(trailers, List.of(), " trailer") : null;
  }

  private PlaceholderLeak inspectHeaders(
      Iterable<Map.Entry<String, String>> headers, List<String> allowed, String kind) {
    for (Map.Entry<String, String> h : headers) {
      String name = h.getKey();
      Placeholders.Match m = placeholders.find(name);
      if (m != null) {
        return leak(m, "a header name");
      }
      PlaceholderLeak leak = inspectValue(h.getValue(), allowed, "the " + name + kind);
      if (leak != null) {
        return leak;
      }
      String basic = decodeBasic(h.getValue());
      if (basic != null) {
        leak = inspectValue(basic, allowed, "the Basic credentials of the " + name + kind);
        if (leak != null) {
          return leak;
        }
      }
    }
    return null;
  }

  private PlaceholderLeak inspectValue(String value, List<String> allowed, String where) {
    int from = 0;
    Placeholders.Match m;
    while ((m = placeholders.find(value, from)) != null) {
      if (m.credential() == null || !m.exact() || !allowed.contains(m.credential())) {
        return leak(m, where);
      }
      from = m.end();
    }
    return null;
  }

  private static PlaceholderLeak leak(Placeholders.Match m, String where) {
    return new PlaceholderLeak(m.credential(), where);
  }

  /**
   * Replaces, in the headers to forward, every exact placeholder of the given credentials by the
   * real value, in plain values and inside {@code Basic} credentials (decoded, replaced, encoded).
   * Called after {@link #inspect} allowed the request.
   *
   * @param values credential name → real value, for the rule's credentials
   * @return the rewritten header values (the response scrubber hides them too)
   */
  List<String> substitute(HttpHeaders headers, Map<String, String> values) {
    if (!active() || values.isEmpty()) {
      return List.of();
    }
    List<Map.Entry<String, String>> entries = headers.entries();
    List<String> rewrittenValues = new ArrayList<>(1);
    List<Map.Entry<String, String>> out = new ArrayList<>(entries.size());
    for (Map.Entry<String, String> e : entries) {
      String value = e.getValue();
      String replaced = replace(value, values);
      String basic = decodeBasic(replaced);
      if (basic != null) {
        String inner = replace(basic, values);
        if (!inner.equals(basic)) {
          replaced =
              replaced.substring(0, replaced.indexOf(' ') + 1)
                  + Base64.getEncoder().encodeToString(inner.getBytes(StandardCharsets.ISO_8859_1));
        }
      }
      if (!replaced.equals(value)) {
        rewrittenValues.add(replaced);
      }
      out.add(Map.entry(e.getKey(), replaced));
    }
    if (!rewrittenValues.isEmpty()) {
      headers.clear();
      out.forEach(e -> headers.add(e.getKey(), e.getValue()));
    }
    return rewrittenValues;
  }

  /**
   * Exact placeholders of {@code values}' credentials replaced by the values (as ISO-8859-1 text of
   * their UTF-8).
   */
  private String replace(String text, Map<String, String> values) {
    StringBuilder out = null;
    int copied = 0;
    int from = 0;
    Placeholders.Match m;
    while ((m = placeholders.find(text, from)) != null) {
      String real = m.exact() ? values.get(m.credential()) : null;
      if (real != null) {
        if (out == null) {
          out = new StringBuilder(text.length() + real.length());
        }
        out.append(text, copied, m.start())
            .append(new String(real.getBytes(StandardCharsets.UTF_8), StandardCharsets.ISO_8859_1));
        copied = m.end();
      }
      from = m.end();
    }
    return out == null ? text : out.append(text, copied, text.length()).toString();
  }

  /** A scanner for the request body, or null when there is nothing to look for. */
  StreamMatcher newBodyScanner() {
    if (!active()) {
      return null;
    }
    // The pod's placeholders are loaded once: their automaton is compiled once, not per request.
    CompiledPlaceholders compiled = lastCompiled;
    if (compiled == null || compiled.placeholders() != placeholders) {
      compiled =
          new CompiledPlaceholders(
              placeholders, new PatternAutomaton(placeholders.patterns(), true));
      lastCompiled = compiled;
    }
    return new StreamMatcher(compiled.automaton());
  }

  private record CompiledPlaceholders(Placeholders placeholders, PatternAutomaton automaton) {}

  private static volatile CompiledPlaceholders lastCompiled;

  /** The credential of a scanner's pattern (null when the placeholders file was unreadable). */
  PlaceholderLeak bodyLeak(int pattern) {
    return new PlaceholderLeak(placeholders.patternCredential(pattern), "the request body");
  }

  /** The decoded {@code user:password} of a {@code Basic} value (ISO-8859-1), or null. */
  static String decodeBasic(String value) {
    if (value.length() < 7 || !value.regionMatches(true, 0, "basic ", 0, 6)) {
      return null;
    }
    String token = value.substring(6).strip();
    try {
      return new String(Base64.getDecoder().decode(token), StandardCharsets.ISO_8859_1);
    } catch (IllegalArgumentException e) {
      return null;
    }
  }

  /** Lenient %XX decoding (a malformed escape stays as it is); '+' is left alone. */
  static String percentDecode(String text) {
    if (text.indexOf('%') < 0) {
      return text;
    }
    StringBuilder out = new StringBuilder(text.length());
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      if (c == '%'
          && i + 2 < text.length()
          && Character.digit(text.charAt(i + 1), 16) >= 0
          && Character.digit(text.charAt(i + 2), 16) >= 0) {
        out.append((char) Integer.parseInt(text, i + 1, i + 3, 16));
        i += 2;
      } else {
        out.append(c);
      }
    }
    return out.toString();
  }
}
