package dev.capgate.sidecar.dataplane;

import static org.assertj.core.api.Assertions.assertThat;

import dev.capgate.sidecar.netns.PodNetns;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.List;

/**
 * What the test upstreams logged (upstream.log): one {@code upstreamSaw} line per request as the
 * HTTP server parsed it, one {@code upstreamRaw} line per request as its bytes arrived.
 */
final class UpstreamLog {
  private UpstreamLog() {}

  /** The last request the upstream saw for {@code uri}; fails the test when there is none. */
  static JsonObject lastRequest(PodNetns pod, String uri) {
    JsonObject found = last(pod, "upstreamSaw", "uri", uri);
    assertThat(found).as("the upstream saw " + uri + "\n" + pod.log("upstream.log")).isNotNull();
    return found;
  }

  /**
   * The last request whose raw request line was {@code requestLine}; fails the test when there is
   * none.
   */
  static JsonObject lastRawRequest(PodNetns pod, String requestLine) {
    JsonObject found = last(pod, "upstreamRaw", "requestLine", requestLine);
    assertThat(found)
        .as("the upstream received " + requestLine + "\n" + pod.log("upstream.log"))
        .isNotNull();
    return found;
  }

  /** The values of header {@code name} (lower case) in a request the upstream saw, in order. */
  static List<String> headerValues(JsonObject saw, String name) {
    return saw.getJsonArray("headers").stream()
        .map(JsonArray.class::cast)
        .filter(h -> h.getString(0).equals(name))
        .map(h -> h.getString(1))
        .toList();
  }

  private static JsonObject last(PodNetns pod, String kind, String key, String value) {
    JsonObject found = null;
    for (String line : pod.log("upstream.log").lines().toList()) {
      if (line.startsWith("{\"" + kind + "\"")) {
        JsonObject entry = new JsonObject(line).getJsonObject(kind);
        if (value.equals(entry.getString(key))) {
          found = entry;
        }
      }
    }
    return found;
  }
}
