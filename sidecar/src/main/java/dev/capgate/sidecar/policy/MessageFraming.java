package dev.capgate.sidecar.policy;

import java.util.List;

/**
 * Refuses the framing tricks behind request smuggling (RFC 9112 §6.3): the proxy and the server
 * must agree on where a body ends, so there is exactly one way to say it.
 */
final class MessageFraming {
  static final String CL_AND_TE = "cl-and-te";
  static final String BAD_CONTENT_LENGTH = "bad-content-length";
  static final String BAD_TRANSFER_ENCODING = "bad-transfer-encoding";

  /** 18 digits always fit a long. */
  private static final int MAX_DIGITS = 18;

  private MessageFraming() {}

  static void check(List<String> contentLength, List<String> transferEncoding, boolean http2) {
    boolean hasLength = contentLength != null && !contentLength.isEmpty();
    boolean hasEncoding = transferEncoding != null && !transferEncoding.isEmpty();
    if (hasLength && hasEncoding) {
      throw new RejectedRequestException(CL_AND_TE);
    }
    if (hasEncoding) {
      // HTTP/2 has its own framing and forbids Transfer-Encoding; in HTTP/1.1 the one coding we
      // let through is exactly "chunked": no lists, no case or whitespace variants.
      if (http2 || transferEncoding.size() != 1 || !"chunked".equals(transferEncoding.getFirst())) {
        throw new RejectedRequestException(BAD_TRANSFER_ENCODING);
      }
    }
    if (hasLength) {
      checkContentLength(contentLength);
    }
  }

  /** Repeated values are accepted only when all equal (RFC 9110 §8.6), e.g. "42, 42". */
  private static void checkContentLength(List<String> values) {
    long first = -1;
    for (String value : values) {
      if (value == null) {
        throw new RejectedRequestException(BAD_CONTENT_LENGTH);
      }
      int start = 0;
      while (true) {
        int comma = value.indexOf(',', start);
        int end = comma < 0 ? value.length() : comma;
        long n = parseElement(value, start, end);
        if (first < 0) {
          first = n;
        } else if (n != first) {
          throw new RejectedRequestException(BAD_CONTENT_LENGTH);
        }
        if (comma < 0) {
          break;
        }
        start = comma + 1;
      }
    }
  }

  /** One list element: optional whitespace around 1..18 digits. */
  private static long parseElement(String value, int start, int end) {
    while (start < end && isOws(value.charAt(start))) {
      start++;
    }
    while (end > start && isOws(value.charAt(end - 1))) {
      end--;
    }
    if (end == start || end - start > MAX_DIGITS) {
      throw new RejectedRequestException(BAD_CONTENT_LENGTH);
    }
    long n = 0;
    for (int i = start; i < end; i++) {
      char c = value.charAt(i);
      if (c < '0' || c > '9') {
        throw new RejectedRequestException(BAD_CONTENT_LENGTH);
      }
      n = n * 10 + (c - '0');
    }
    return n;
  }

  private static boolean isOws(char c) {
    return c == ' ' || c == '\t';
  }
}
