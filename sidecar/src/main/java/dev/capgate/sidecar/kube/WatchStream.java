package dev.capgate.sidecar.kube;

/** What a watch request reports; every method is called on an event loop and must not block. */
public interface WatchStream {
  /** The API server accepted the watch (status 200): events follow. */
  void opened();

  /** One watch event, a JSON object on one line ({@code {"type": ..., "object": ...}}). */
  void event(io.vertx.core.buffer.Buffer line);

  /**
   * The watch is over: {@code status} is the refusal's HTTP status (410: the resource version is
   * too old, list again) or 0; {@code error} is null when the server ended it normally ({@code
   * timeoutSeconds}).
   */
  void closed(int status, Throwable error);
}
