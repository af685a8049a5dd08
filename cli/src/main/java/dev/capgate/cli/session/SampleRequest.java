package dev.capgate.cli.session;

import java.util.Locale;

/**
 * A request written as {@code METHOD URL}, e.g. {@code GET https://api.github.com/repos/a/b}: what
 * {@code kubectl capgate test --request} takes.
 *
 * @param authority {@code host[:port]} as written (what the Host header carries)
 * @param host the host without port (IPv6 literals with their brackets)
 * @param target the path and query as written, {@code /} when the URL had none
 */
public record SampleRequest(
    String method, boolean tls, String authority, String host, int port, String target) {

  /**
   * @throws IllegalArgumentException saying what is wrong with the text
   */
  public static SampleRequest parse(String text) {
    String t = text == null ? "" : text.strip();
    int space = t.indexOf(' ');
    if (space <= 0) {
      throw new IllegalArgumentException(
          "a request is 'METHOD URL', e.g. 'GET https://api.github.com/repos/a/b', not '"
              + t
              + "'");
    }
    String method = t.substring(0, space);
    String url = t.substring(space + 1).strip();
    int schemeEnd = url.indexOf("://");
    if (schemeEnd < 0) {
      throw new IllegalArgumentException(
          "the URL must start with https:// or http://: '" + url + "'");
    }
    String scheme = url.substring(0, schemeEnd).toLowerCase(Locale.ROOT);
    boolean tls;
    if (scheme.equals("https")) {
      tls = true;
    } else if (scheme.equals("http")) {
      tls = false;
    } else {
      throw new IllegalArgumentException(
          "the URL must start with https:// or http://: '" + url + "'");
    }
    String rest = url.substring(schemeEnd + 3);
    int end = rest.length();
    for (char c : new char[] {'/', '?', '#'}) {
      int i = rest.indexOf(c);
      if (i >= 0 && i < end) {
        end = i;
      }
    }
    String authority = rest.substring(0, end);
    String target = rest.substring(end);
    if (target.isEmpty()) {
      target = "/";
    } else if (target.charAt(0) == '?') {
      target = "/" + target;
    }
    if (authority.isEmpty()) {
      throw new IllegalArgumentException("the URL names no host: '" + url + "'");
    }
    String host = authority;
    int port = tls ? 443 : 80;
    int colon = authority.lastIndexOf(':');
    if (colon > authority.lastIndexOf(']')) {
      host = authority.substring(0, colon);
      try {
        port = Integer.parseInt(authority.substring(colon + 1));
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException("not a port in '" + authority + "'");
      }
    }
    return new SampleRequest(method, tls, authority, host, port, target);
  }

  @Override
  public String toString() {
    return method + " " + (tls ? "https://" : "http://") + authority + target;
  }
}
