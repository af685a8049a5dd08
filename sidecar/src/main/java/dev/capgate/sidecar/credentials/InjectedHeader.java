package dev.capgate.sidecar.credentials;

import io.netty.handler.codec.http.HttpHeaders;

/** The header a credential becomes. {@code toString()} never shows the value. */
public record InjectedHeader(String name, String value) {

  /**
   * Invariant 6, injected and not merged: every header of this name the agent sent, whatever its
   * letter case and however many times, is dropped, and this one value is set. Netty's header names
   * are case-insensitive, and HTTP/2 requests reach the proxy as the same HttpHeaders.
   */
  public void replaceIn(HttpHeaders headers) {
    headers.set(name, value);
  }

  @Override
  public String toString() {
    return "InjectedHeader[name=" + name + ", value=redacted]";
  }
}
