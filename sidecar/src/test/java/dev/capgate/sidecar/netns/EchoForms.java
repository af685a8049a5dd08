package dev.capgate.sidecar.netns;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.json.JsonObject;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.zip.DeflaterOutputStream;
import java.util.zip.GZIPOutputStream;

/**
 * Upstream endpoints that hand the credential back in the forms a scrubber has to recognise (issue
 * 11), for {@code ResponseScrubbingIT}. Paths end in {@code /forms/<kind>}; the token is what
 * follows the scheme in the request's Authorization header. Every endpoint also remembers that
 * header, and {@code .../forms/stored} (a route whose rule injects nothing) hands back the last one
 * remembered: an upstream that stored a credential and shows it elsewhere.
 *
 * <p>Each kind ignores Accept-Encoding where that is the point: {@code gzip} and {@code deflate}
 * compress anyway, {@code br} claims brotli.
 */
final class EchoForms {
  private static volatile String stored = "";

  private EchoForms() {}

  static boolean handles(HttpServerRequest request) {
    return request.path().contains("/forms/");
  }

  static void handle(HttpServerRequest request) {
    String authorization = request.getHeader("authorization");
    String kind = request.path().substring(request.path().lastIndexOf('/') + 1);
    if (authorization != null) {
      stored = authorization;
    } else if (kind.equals("stored")) {
      authorization = stored;
    }
    String auth = authorization == null ? "" : authorization;
    String token = auth.indexOf(' ') > 0 ? auth.substring(auth.indexOf(' ') + 1) : auth;
    UpstreamServers.print(
        new JsonObject().put("upstreamSaw", UpstreamServers.seen(request).put("forms", kind)));
    var response = request.response().putHeader("content-type", "application/json");
    String echo = new JsonObject().put("authorization", auth).encode();
    switch (kind) {
      case "gzip" -> response.putHeader("content-encoding", "gzip").end(Buffer.buffer(gzip(echo)));
      case "deflate" ->
          response.putHeader("content-encoding", "deflate").end(Buffer.buffer(deflate(echo)));
      case "br" -> response.putHeader("content-encoding", "br").end(Buffer.buffer(gzip(echo)));
      case "url" ->
          response
              .putHeader(
                  "location",
                  "https://example.test/cb?t=" + URLEncoder.encode(token, StandardCharsets.UTF_8))
              .end(
                  "{\"next\":\"/cb?token="
                      + URLEncoder.encode(token, StandardCharsets.UTF_8)
                      + "\"}");
      case "json" ->
          response.end(
              "{\"slashes\":\""
                  + token.replace("/", "\\/")
                  + "\",\"escaped\":\""
                  + escapeAll(token)
                  + "\"}");
      case "base64" ->
          response.end(
              "{\"token\":\""
                  + Base64.getUrlEncoder()
                      .withoutPadding()
                      .encodeToString(token.getBytes(StandardCharsets.UTF_8))
                  + "\",\"request\":\""
                  + Base64.getUrlEncoder()
                      .withoutPadding()
                      .encodeToString(
                          ("GET / HTTP/1.1\r\nAuthorization: " + auth + "\r\n")
                              .getBytes(StandardCharsets.UTF_8))
                  + "\"}");
      case "reason" ->
          response.setStatusCode(401).setStatusMessage("Token " + token + " rejected").end("{}");
      case "stored" -> response.putHeader("x-stored", auth).end(echo);
      default -> response.setStatusCode(404).end("{}");
    }
  }

  /**
   * JSON with every character but letters and digits as a unicode escape (what some encoders do).
   */
  static String escapeAll(String value) {
    StringBuilder out = new StringBuilder();
    for (char c : value.toCharArray()) {
      out.append(
          Character.isLetterOrDigit(c) ? String.valueOf(c) : String.format("\\u%04x", (int) c));
    }
    return out.toString();
  }

  private static byte[] gzip(String text) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (GZIPOutputStream g = new GZIPOutputStream(out)) {
      g.write(text.getBytes(StandardCharsets.UTF_8));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out.toByteArray();
  }

  private static byte[] deflate(String text) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (DeflaterOutputStream d = new DeflaterOutputStream(out)) {
      d.write(text.getBytes(StandardCharsets.UTF_8));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out.toByteArray();
  }
}
