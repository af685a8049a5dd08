package dev.capgate.sidecar.http;

import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import java.nio.charset.StandardCharsets;
import java.util.Locale;

/**
 * What the sidecar knows about gRPC (issue 16 §6): which requests are gRPC calls, and the
 * trailers-only answers it gives them in place of its JSON problems. A gRPC client reads no HTTP
 * status and no JSON body; it reads {@code grpc-status} and {@code grpc-message}, which it prints
 * (grpcurl: {@code Code: PermissionDenied, Message: ...}). So every local answer to a gRPC call is
 * HTTP 200, {@code content-type: application/grpc}, and the status in one HEADERS frame that ends
 * the stream (a "trailers-only" response, as the gRPC over HTTP/2 protocol names it).
 */
final class GrpcCall {
  static final String GRPC_STATUS = "grpc-status";
  static final String GRPC_MESSAGE = "grpc-message";

  /** gRPC status codes the sidecar answers with (grpc/doc/statuscodes.md). */
  static final int INTERNAL = 13;

  static final int UNAVAILABLE = 14;
  static final int PERMISSION_DENIED = 7;
  static final int RESOURCE_EXHAUSTED = 8;
  static final int UNAUTHENTICATED = 16;
  static final int UNIMPLEMENTED = 12;

  private static final String[] NAMES = {
    "OK",
    "CANCELLED",
    "UNKNOWN",
    "INVALID_ARGUMENT",
    "DEADLINE_EXCEEDED",
    "NOT_FOUND",
    "ALREADY_EXISTS",
    "PERMISSION_DENIED",
    "RESOURCE_EXHAUSTED",
    "FAILED_PRECONDITION",
    "ABORTED",
    "OUT_OF_RANGE",
    "UNIMPLEMENTED",
    "INTERNAL",
    "UNAVAILABLE",
    "DATA_LOSS",
    "UNAUTHENTICATED"
  };

  private GrpcCall() {}

  /**
   * Whether a request is a gRPC call: HTTP/2 (gRPC needs its trailers; gRPC-Web, which does not, is
   * ordinary HTTP here) and {@code content-type: application/grpc}, alone or with a {@code +}
   * subtype or parameters.
   */
  static boolean is(boolean http2, HttpHeaders headers) {
    if (!http2) {
      return false;
    }
    String type = headers.get(HttpHeaderNames.CONTENT_TYPE);
    if (type == null) {
      return false;
    }
    String t = type.strip().toLowerCase(Locale.ROOT);
    return t.equals("application/grpc")
        || t.startsWith("application/grpc+")
        || t.startsWith("application/grpc;");
  }

  /**
   * The gRPC status for a local answer the sidecar would have given with {@code httpStatus}: the
   * mapping gRPC itself applies to HTTP errors (grpc/doc/http-grpc-status-mapping.md), except that
   * 429 is RESOURCE_EXHAUSTED (a limit, to be retried later) and 401 UNAUTHENTICATED.
   */
  static int statusFor(int httpStatus) {
    return switch (httpStatus) {
      case 401 -> UNAUTHENTICATED;
      case 403 -> PERMISSION_DENIED;
      case 404 -> UNIMPLEMENTED;
      case 413, 429 -> RESOURCE_EXHAUSTED;
      case 502, 503, 504 -> UNAVAILABLE;
      default -> INTERNAL;
    };
  }

  /** {@code PERMISSION_DENIED} for 7, the number itself for codes outside the table. */
  static String statusName(int code) {
    return code >= 0 && code < NAMES.length ? NAMES[code] : Integer.toString(code);
  }

  /**
   * A trailers-only gRPC answer: {@code :status 200}, {@code content-type: application/grpc},
   * {@code grpc-status} and {@code grpc-message} (percent-encoded as the protocol wants), no body.
   * The HTTP/2 stream codec writes a body-less full response as one HEADERS frame with END_STREAM.
   */
  static FullHttpResponse trailersOnly(int status, String message) {
    FullHttpResponse response =
        new DefaultFullHttpResponse(
            HttpVersion.HTTP_1_1, HttpResponseStatus.OK, Unpooled.EMPTY_BUFFER);
    response
        .headers()
        .set(HttpHeaderNames.CONTENT_TYPE, "application/grpc")
        .set(GRPC_STATUS, Integer.toString(status))
        .set(GRPC_MESSAGE, percentEncode(message));
    return response;
  }

  /**
   * gRPC's encoding of {@code grpc-message}: UTF-8, every byte outside printable ASCII and {@code
   * %} itself as {@code %XX}.
   */
  static String percentEncode(String message) {
    byte[] bytes = message.getBytes(StandardCharsets.UTF_8);
    StringBuilder out = new StringBuilder(bytes.length + 16);
    for (byte b : bytes) {
      int c = b & 0xff;
      if (c >= 0x20 && c <= 0x7e && c != '%') {
        out.append((char) c);
      } else {
        out.append('%').append(Character.toUpperCase(Character.forDigit(c >> 4, 16)));
        out.append(Character.toUpperCase(Character.forDigit(c & 0xf, 16)));
      }
    }
    return out.toString();
  }

  /** The {@code grpc-status} an upstream's trailers (or trailers-only head) carry, or null. */
  static Integer statusOf(HttpHeaders fields) {
    String s = fields.get(GRPC_STATUS);
    if (s == null) {
      return null;
    }
    try {
      return Integer.parseInt(s.strip());
    } catch (NumberFormatException e) {
      return null;
    }
  }
}
