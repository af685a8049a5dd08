package dev.capgate.sidecar.upstream;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A corporate egress proxy the sidecar's own outbound connections go through: an HTTP proxy that
 * opens {@code CONNECT host:port} tunnels ({@code CAPGATE_UPSTREAM_PROXY}), optionally with Basic
 * proxy credentials ({@code CAPGATE_UPSTREAM_PROXY_AUTH_FILE}, {@code user:password}). TLS to the
 * origin runs inside the tunnel as without a proxy, and the proxy (not the sidecar) resolves the
 * origin's name. {@link #toString()} never shows the password.
 */
public record UpstreamProxy(String host, int port, String username, String password) {

  /**
   * @param spec {@code host:port}, {@code [v6]:port}, or {@code http://host:port}
   * @param authFile a file holding {@code user:password}, or null
   * @throws IllegalArgumentException naming what is wrong (never the password)
   */
  public static UpstreamProxy parse(String spec, Path authFile) {
    String s = spec.strip();
    if (s.regionMatches(true, 0, "http://", 0, 7)) {
      s = s.substring(7);
    } else if (s.contains("://")) {
      throw new IllegalArgumentException(
          "--upstream-proxy must be host:port or http://host:port (an HTTP CONNECT"
              + " proxy), got '"
              + spec
              + "'");
    }
    if (s.endsWith("/")) {
      s = s.substring(0, s.length() - 1);
    }
    String host;
    String portText;
    if (s.startsWith("[")) {
      int close = s.indexOf(']');
      if (close < 0 || close + 1 >= s.length() || s.charAt(close + 1) != ':') {
        throw new IllegalArgumentException("--upstream-proxy needs a port, got '" + spec + "'");
      }
      host = s.substring(1, close);
      portText = s.substring(close + 2);
    } else {
      int colon = s.lastIndexOf(':');
      if (colon <= 0 || s.indexOf(':') != colon || s.indexOf('@') >= 0) {
        throw new IllegalArgumentException(
            "--upstream-proxy must be host:port (credentials go in"
                + " --upstream-proxy-auth-file), got '"
                + spec.replaceAll("//[^@/]*@", "//***@")
                + "'");
      }
      host = s.substring(0, colon);
      portText = s.substring(colon + 1);
    }
    int port;
    try {
      port = Integer.parseInt(portText);
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(
          "--upstream-proxy port must be a number, got '" + spec + "'");
    }
    if (port < 1 || port > 65535 || host.isBlank()) {
      throw new IllegalArgumentException(
          "--upstream-proxy must be host:port with a port 1-65535, got '" + spec + "'");
    }
    String user = null;
    String password = null;
    if (authFile != null) {
      String text;
      try {
        text = Files.readString(authFile, StandardCharsets.UTF_8).strip();
      } catch (IOException e) {
        throw new IllegalArgumentException(
            "cannot read --upstream-proxy-auth-file "
                + authFile
                + ": "
                + e.getClass().getSimpleName());
      }
      int colon = text.indexOf(':');
      if (colon <= 0) {
        throw new IllegalArgumentException(
            "--upstream-proxy-auth-file " + authFile + " must hold user:password");
      }
      user = text.substring(0, colon);
      password = text.substring(colon + 1);
    }
    return new UpstreamProxy(host, port, user, password);
  }

  public boolean authenticates() {
    return username != null;
  }

  @Override
  public String toString() {
    String where = (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + port;
    return authenticates() ? where + " (as " + username + ")" : where;
  }
}
