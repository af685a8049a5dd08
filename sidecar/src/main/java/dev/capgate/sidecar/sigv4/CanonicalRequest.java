package dev.capgate.sidecar.sigv4;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * The canonical request of AWS SigV4: method, canonical URI, canonical query, canonical headers,
 * signed header names, payload hash, one per line.
 */
public final class CanonicalRequest {
  private CanonicalRequest() {}

  /**
   * @param s3 S3's rule for the URI: the path exactly as sent (S3 neither normalizes nor encodes it
   *     again); other services encode each segment of the sent path once more
   * @throws SigV4Refusal when a signed header is absent from the request
   */
  public static String of(
      SignedRequest request, List<String> signedHeaders, String payloadHash, boolean s3) {
    StringBuilder out = new StringBuilder(512);
    out.append(request.method()).append('\n');
    out.append(s3 ? request.path() : SigV4.uriEncode(request.path(), true)).append('\n');
    out.append(query(request.query())).append('\n');
    for (String name : signedHeaders) {
      List<String> values = request.header(name);
      if (values.isEmpty()) {
        throw new SigV4Refusal(
            "aws-signature-malformed", "signed header " + name + " is not in the request");
      }
      out.append(name).append(':');
      for (int i = 0; i < values.size(); i++) {
        if (i > 0) {
          out.append(',');
        }
        out.append(trimAll(values.get(i)));
      }
      out.append('\n');
    }
    out.append('\n').append(String.join(";", signedHeaders)).append('\n').append(payloadHash);
    return out.toString();
  }

  /** Parameters decoded, re-encoded the AWS way, sorted by name then value. */
  static String query(String raw) {
    if (raw == null || raw.isEmpty()) {
      return "";
    }
    List<String[]> params = new ArrayList<>();
    for (String p : raw.split("&")) {
      if (p.isEmpty()) {
        continue;
      }
      int eq = p.indexOf('=');
      String name = eq < 0 ? p : p.substring(0, eq);
      String value = eq < 0 ? "" : p.substring(eq + 1);
      params.add(
          new String[] {
            SigV4.uriEncode(decode(name), false), SigV4.uriEncode(decode(value), false)
          });
    }
    params.sort(Comparator.<String[], String>comparing(p -> p[0]).thenComparing(p -> p[1]));
    StringBuilder out = new StringBuilder(raw.length() + 16);
    for (String[] p : params) {
      if (!out.isEmpty()) {
        out.append('&');
      }
      out.append(p[0]).append('=').append(p[1]);
    }
    return out.toString();
  }

  /** Percent-decoding only ({@code +} stays a plus, as AWS reads it); bad escapes stay as sent. */
  static String decode(String text) {
    if (text.indexOf('%') < 0) {
      return text;
    }
    ByteArrayOutputStream bytes = new ByteArrayOutputStream(text.length());
    byte[] in = text.getBytes(StandardCharsets.UTF_8);
    for (int i = 0; i < in.length; i++) {
      if (in[i] == '%' && i + 2 < in.length) {
        int hi = Character.digit(in[i + 1], 16);
        int lo = Character.digit(in[i + 2], 16);
        if (hi >= 0 && lo >= 0) {
          bytes.write(hi << 4 | lo);
          i += 2;
          continue;
        }
      }
      bytes.write(in[i]);
    }
    return bytes.toString(StandardCharsets.UTF_8);
  }

  /** Leading and trailing spaces off, runs of spaces as one. */
  static String trimAll(String value) {
    String v = value.strip();
    StringBuilder out = new StringBuilder(v.length());
    boolean space = false;
    for (int i = 0; i < v.length(); i++) {
      char c = v.charAt(i);
      if (c == ' ' || c == '\t') {
        if (!space) {
          out.append(' ');
        }
        space = true;
      } else {
        out.append(c);
        space = false;
      }
    }
    return out.toString();
  }
}
