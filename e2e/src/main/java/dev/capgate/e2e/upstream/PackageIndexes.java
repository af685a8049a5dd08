package dev.capgate.e2e.upstream;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.json.JsonObject;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Base64;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Consumer;
import java.util.zip.GZIPOutputStream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

/**
 * Local package sources for the client matrix: a PEP 503 "simple" index serving one tiny wheel
 * ({@code capgate-hello 1.0.0}) and an npm registry serving one tiny package ({@code capgate-hello
 * 1.0.0}: metadata document + tarball). Both packages are generated in memory at start. With a
 * token, every request must carry it as a bearer token (what Capgate injects); without one (the
 * {@code tls: passthrough} index) the index is open.
 */
final class PackageIndexes {
  static final String NAME = "capgate-hello";
  static final String VERSION = "1.0.0";
  private static final String WHEEL = "capgate_hello-" + VERSION + "-py3-none-any.whl";
  private static final String TARBALL = NAME + "-" + VERSION + ".tgz";

  private PackageIndexes() {}

  /** PEP 503: /simple/ and /simple/capgate-hello/ (HTML), the wheel under /packages/. */
  static Consumer<HttpServerRequest> pypi(String token) {
    byte[] wheel = wheel();
    String sha256 = HexFormat.of().formatHex(digest("SHA-256", wheel));
    return request -> {
      if (token != null && !token.equals(Responses.bearer(request))) {
        Responses.json(request, 401, Map.of("message", "Bad credentials"));
        return;
      }
      String path = request.path();
      if (path.equals("/simple/") || path.equals("/simple")) {
        html(request, "<a href=\"/simple/" + NAME + "/\">" + NAME + "</a>");
      } else if (path.equals("/simple/" + NAME + "/") || path.equals("/simple/" + NAME)) {
        html(
            request, "<a href=\"/packages/" + WHEEL + "#sha256=" + sha256 + "\">" + WHEEL + "</a>");
      } else if (path.equals("/packages/" + WHEEL)) {
        request
            .response()
            .putHeader("content-type", "application/octet-stream")
            .end(Buffer.buffer(wheel));
      } else {
        Responses.json(request, 404, Map.of("message", "Not Found"));
      }
    };
  }

  /** The npm registry API's two reads: GET /capgate-hello (packument), GET the tarball. */
  static Consumer<HttpServerRequest> npm(String token) {
    byte[] tgz = tarball();
    String shasum = HexFormat.of().formatHex(digest("SHA-1", tgz));
    String integrity = "sha512-" + Base64.getEncoder().encodeToString(digest("SHA-512", tgz));
    return request -> {
      if (!token.equals(Responses.bearer(request))) {
        Responses.json(request, 401, Map.of("error", "Bad credentials"));
        return;
      }
      String path = request.path();
      String authority = request.authority().host();
      if (path.equals("/" + NAME)) {
        JsonObject dist =
            new JsonObject()
                .put("tarball", "https://" + authority + "/" + NAME + "/-/" + TARBALL)
                .put("shasum", shasum)
                .put("integrity", integrity);
        JsonObject version =
            new JsonObject()
                .put("name", NAME)
                .put("version", VERSION)
                .put("main", "index.js")
                .put("dist", dist);
        JsonObject packument =
            new JsonObject()
                .put("name", NAME)
                .put("dist-tags", new JsonObject().put("latest", VERSION))
                .put("versions", new JsonObject().put(VERSION, version));
        request.response().putHeader("content-type", "application/json").end(packument.encode());
      } else if (path.equals("/" + NAME + "/-/" + TARBALL)) {
        request
            .response()
            .putHeader("content-type", "application/octet-stream")
            .end(Buffer.buffer(tgz));
      } else {
        Responses.json(request, 404, Map.of("error", "Not found"));
      }
    };
  }

  private static void html(HttpServerRequest request, String links) {
    request
        .response()
        .putHeader("content-type", "text/html")
        .end("<!DOCTYPE html><html><body>" + links + "</body></html>");
  }

  /** A pure-Python wheel: one module and its dist-info (METADATA, WHEEL, RECORD with hashes). */
  static byte[] wheel() {
    String dist = "capgate_hello-" + VERSION + ".dist-info/";
    Map<String, byte[]> files = new LinkedHashMap<>();
    files.put(
        "capgate_hello/__init__.py",
        "GREETING = \"hello from pypi.test\"\n".getBytes(StandardCharsets.UTF_8));
    files.put(
        dist + "METADATA",
        ("Metadata-Version: 2.1\nName: "
                + NAME
                + "\nVersion: "
                + VERSION
                + "\nSummary: Capgate client matrix test package\n")
            .getBytes(StandardCharsets.UTF_8));
    files.put(
        dist + "WHEEL",
        "Wheel-Version: 1.0\nGenerator: capgate-e2e\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
            .getBytes(StandardCharsets.UTF_8));
    StringBuilder record = new StringBuilder();
    files.forEach(
        (name, bytes) ->
            record
                .append(name)
                .append(",sha256=")
                .append(
                    Base64.getUrlEncoder()
                        .withoutPadding()
                        .encodeToString(digest("SHA-256", bytes)))
                .append(',')
                .append(bytes.length)
                .append('\n'));
    record.append(dist).append("RECORD,,\n");
    files.put(dist + "RECORD", record.toString().getBytes(StandardCharsets.UTF_8));
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (ZipOutputStream zip = new ZipOutputStream(out)) {
      for (Map.Entry<String, byte[]> f : files.entrySet()) {
        zip.putNextEntry(new ZipEntry(f.getKey()));
        zip.write(f.getValue());
        zip.closeEntry();
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out.toByteArray();
  }

  /** An npm package tarball: gzip'd ustar with package/package.json and package/index.js. */
  static byte[] tarball() {
    Map<String, byte[]> files = new LinkedHashMap<>();
    files.put(
        "package/package.json",
        new JsonObject()
            .put("name", NAME)
            .put("version", VERSION)
            .put("main", "index.js")
            .encodePrettily()
            .getBytes(StandardCharsets.UTF_8));
    files.put(
        "package/index.js",
        "module.exports = 'hello from registry.npm.test';\n".getBytes(StandardCharsets.UTF_8));
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (GZIPOutputStream gz = new GZIPOutputStream(out)) {
      for (Map.Entry<String, byte[]> f : files.entrySet()) {
        gz.write(tarHeader(f.getKey(), f.getValue().length));
        gz.write(f.getValue());
        gz.write(new byte[(512 - f.getValue().length % 512) % 512]);
      }
      gz.write(new byte[1024]);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out.toByteArray();
  }

  private static byte[] tarHeader(String name, int size) {
    byte[] h = new byte[512];
    put(h, 0, name);
    put(h, 100, "0000644\0");
    put(h, 108, "0000000\0");
    put(h, 116, "0000000\0");
    put(h, 124, String.format("%011o\0", size));
    put(h, 136, String.format("%011o\0", 1_700_000_000L));
    put(h, 148, "        ");
    h[156] = '0';
    put(h, 257, "ustar\0");
    put(h, 263, "00");
    int sum = 0;
    for (byte b : h) {
      sum += b & 0xff;
    }
    put(h, 148, String.format("%06o\0 ", sum));
    return h;
  }

  private static void put(byte[] h, int at, String s) {
    byte[] b = s.getBytes(StandardCharsets.US_ASCII);
    System.arraycopy(b, 0, h, at, b.length);
  }

  static byte[] digest(String algorithm, byte[] bytes) {
    try {
      return MessageDigest.getInstance(algorithm).digest(bytes);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
