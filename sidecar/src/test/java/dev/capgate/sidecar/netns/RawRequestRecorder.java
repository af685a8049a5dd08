package dev.capgate.sidecar.netns;

import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.NetServerOptions;
import io.vertx.core.net.NetSocket;
import io.vertx.core.net.PemKeyCertOptions;
import java.nio.charset.StandardCharsets;
import java.util.Locale;

/**
 * An HTTPS upstream (HTTP/1.1) that logs the request exactly as it arrived on the wire, trailer
 * section included, as one {@code {"upstreamRaw": ...}} line: what a server that reads trailers
 * would see. Vert.x's HTTP server does not expose request trailers, hence a parser of its own
 * (chunked or Content-Length bodies; one request per connection, answered with 200 and a close).
 */
final class RawRequestRecorder {
  static final int PORT = 8446;

  private RawRequestRecorder() {}

  static void start(Vertx vertx, PemKeyCertOptions cert) throws Exception {
    vertx
        .createNetServer(
            new NetServerOptions().setSsl(true).setKeyCertOptions(cert).setHost("::").setPort(PORT))
        .connectHandler(RawRequestRecorder::serve)
        .listen()
        .toCompletionStage()
        .toCompletableFuture()
        .get();
  }

  private static void serve(NetSocket socket) {
    Buffer received = Buffer.buffer();
    boolean[] done = {false};
    socket.handler(
        data -> {
          if (done[0]) {
            return;
          }
          received.appendBuffer(data);
          JsonObject parsed = parse(received.toString(StandardCharsets.ISO_8859_1));
          if (parsed != null) {
            done[0] = true;
            UpstreamServers.print(new JsonObject().put("upstreamRaw", parsed));
            String body = parsed.encode();
            socket
                .write(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: "
                        + body.getBytes(StandardCharsets.UTF_8).length
                        + "\r\nconnection: close\r\n\r\n"
                        + body)
                .onComplete(v -> socket.close());
          }
        });
  }

  /**
   * The request once complete: request line, header fields, body length, trailer fields; else null.
   */
  private static JsonObject parse(String raw) {
    int headEnd = raw.indexOf("\r\n\r\n");
    if (headEnd < 0) {
      return null;
    }
    String[] lines = raw.substring(0, headEnd).split("\r\n");
    JsonArray headers = new JsonArray();
    boolean chunked = false;
    long length = 0;
    for (int i = 1; i < lines.length; i++) {
      int colon = lines[i].indexOf(':');
      String name = lines[i].substring(0, colon).strip().toLowerCase(Locale.ROOT);
      String value = lines[i].substring(colon + 1).strip();
      headers.add(new JsonArray().add(name).add(value));
      chunked |=
          name.equals("transfer-encoding") && value.toLowerCase(Locale.ROOT).contains("chunked");
      length = name.equals("content-length") ? Long.parseLong(value) : length;
    }
    JsonObject out = new JsonObject().put("requestLine", lines[0]).put("headers", headers);
    int at = headEnd + 4;
    if (!chunked) {
      return raw.length() - at >= length
          ? out.put("bodyLength", length).put("trailers", new JsonArray())
          : null;
    }
    long body = 0;
    while (true) {
      int lineEnd = raw.indexOf("\r\n", at);
      if (lineEnd < 0) {
        return null;
      }
      String sizeText = raw.substring(at, lineEnd);
      int semicolon = sizeText.indexOf(';');
      long size =
          Long.parseLong((semicolon < 0 ? sizeText : sizeText.substring(0, semicolon)).strip(), 16);
      at = lineEnd + 2;
      if (size == 0) {
        break;
      }
      if (raw.length() < at + size + 2) {
        return null;
      }
      body += size;
      at += (int) size + 2;
    }
    JsonArray trailers = new JsonArray();
    while (true) {
      int lineEnd = raw.indexOf("\r\n", at);
      if (lineEnd < 0) {
        return null;
      }
      String line = raw.substring(at, lineEnd);
      at = lineEnd + 2;
      if (line.isEmpty()) {
        return out.put("bodyLength", body).put("trailers", trailers);
      }
      int colon = line.indexOf(':');
      trailers.add(
          new JsonArray()
              .add(line.substring(0, colon).strip().toLowerCase(Locale.ROOT))
              .add(line.substring(colon + 1).strip()));
    }
  }
}
