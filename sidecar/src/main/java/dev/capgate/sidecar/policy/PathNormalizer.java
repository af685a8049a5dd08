package dev.capgate.sidecar.policy;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;

/**
 * Turns the path of a request target into the decoded path that rules match and the canonical path
 * that is forwarded, so that both describe the same resource (invariant 5).
 *
 * <ul>
 *   <li>Only RFC 3986 {@code pchar}s may appear raw; anything else ({@code \}, space, controls,
 *       non-ASCII, {@code "<>[]{}|^`}) is {@code bad-characters}.
 *   <li>Percent-escapes must be well formed and decode to strict UTF-8 (no overlong {@code
 *       %C0%AF}); escaped {@code /} and {@code \} are refused, since servers disagree on whether
 *       they split segments; escaped controls are {@code bad-characters}; a decoded segment that
 *       still looks percent-encoded (double encoding) is refused.
 *   <li>Dot-segments, also escaped ({@code %2e%2E}), are resolved per RFC 3986 §5.2.4; climbing
 *       above the root is refused rather than silently clamped. So is a dot-segment carrying a path
 *       parameter ({@code ..;x}), which Tomcat-style servers would resolve after us.
 *   <li>Empty segments ({@code //}) are refused except a trailing slash: some servers merge slashes
 *       and some do not, so the path would be ambiguous.
 *   <li>The forwarded form decodes escaped unreserved characters and upper-cases the other escapes
 *       (RFC 3986 §6.2.2); a reserved character keeps the form it had, so an escaped {@code ;}
 *       stays data and a raw one stays a delimiter for the server.
 * </ul>
 */
final class PathNormalizer {
  static final String BAD_PATH = "bad-path";
  static final String BAD_CHARACTERS = "bad-characters";

  private static final char[] HEX = "0123456789ABCDEF".toCharArray();

  /**
   * @param path decoded, for matching; @param target canonical encoding, for forwarding
   */
  record Result(String path, String target) {}

  private PathNormalizer() {}

  /**
   * @param raw an origin-form path: starts with '/', holds no '?'
   */
  static Result normalize(String raw) {
    if (isAlreadyCanonical(raw)) {
      return new Result(raw, raw);
    }
    int length = raw.length();
    StringBuilder decoded = new StringBuilder(length);
    StringBuilder canonical = new StringBuilder(length);
    StringBuilder segment = new StringBuilder();
    int maxDepth = 1;
    for (int i = 0; i < length; i++) {
      if (raw.charAt(i) == '/') {
        maxDepth++;
      }
    }
    int[] decodedMarks = new int[maxDepth];
    int[] canonicalMarks = new int[maxDepth];
    int depth = 0;
    int start = 1;
    while (true) {
      int end = raw.indexOf('/', start);
      boolean last = end < 0;
      if (last) {
        end = length;
      } else if (end == start) {
        throw new RejectedRequestException(BAD_PATH);
      }
      segment.setLength(0);
      String plain = decodeSegment(raw, start, end, segment);
      int dots = dotSegment(plain);
      if (dots == 2) {
        if (depth == 0) {
          throw new RejectedRequestException(BAD_PATH);
        }
        depth--;
        decoded.setLength(decodedMarks[depth]);
        canonical.setLength(canonicalMarks[depth]);
      }
      if (dots == 0 || last) {
        // A trailing dot-segment leaves a trailing slash: "/a/b/.." is "/a/".
        decodedMarks[depth] = decoded.length();
        canonicalMarks[depth] = canonical.length();
        depth++;
        decoded.append('/');
        canonical.append('/');
        if (dots == 0) {
          decoded.append(plain);
          canonical.append(segment);
        }
      }
      if (last) {
        return new Result(decoded.toString(), canonical.toString());
      }
      start = end + 1;
    }
  }

  /**
   * The common case, checked without allocating: only raw pchars, no escape, no empty segment but a
   * trailing one, and no segment that starts like a dot-segment ("." alone, "..", ".;"). Such a
   * path is already its decoded and its canonical form.
   */
  private static boolean isAlreadyCanonical(String raw) {
    int length = raw.length();
    int start = 1;
    for (int i = 1; i <= length; i++) {
      if (i == length || raw.charAt(i) == '/') {
        int segment = i - start;
        if (segment == 0 && i < length) {
          return false;
        }
        if (segment > 0
            && raw.charAt(start) == '.'
            && (segment == 1 || raw.charAt(start + 1) == '.' || raw.charAt(start + 1) == ';')) {
          return false;
        }
        start = i + 1;
      } else if (!isPchar(raw.charAt(i))) {
        return false;
      }
    }
    return true;
  }

  /**
   * Decodes {@code raw[start, end)}, one segment, appending its canonical encoding to {@code
   * canonical}.
   *
   * @return the decoded segment
   * @throws RejectedRequestException bad-path or bad-characters
   */
  static String decodeSegment(String raw, int start, int end, StringBuilder canonical) {
    byte[] bytes = null;
    int count = 0;
    for (int i = start; i < end; i++) {
      char c = raw.charAt(i);
      if (c == '%') {
        if (i + 2 >= end || !isHex(raw.charAt(i + 1)) || !isHex(raw.charAt(i + 2))) {
          throw new RejectedRequestException(BAD_PATH);
        }
        int hi = Character.digit(raw.charAt(i + 1), 16);
        int lo = Character.digit(raw.charAt(i + 2), 16);
        int b = hi << 4 | lo;
        if (b == '/' || b == '\\') {
          throw new RejectedRequestException(BAD_PATH);
        }
        if (b < 0x20 || b == 0x7F) {
          throw new RejectedRequestException(BAD_CHARACTERS);
        }
        if (bytes == null) {
          bytes = new byte[end - start];
          for (int j = start; j < i; j++) {
            bytes[count++] = (byte) raw.charAt(j);
          }
        }
        bytes[count++] = (byte) b;
        if (isUnreserved(b)) {
          canonical.append((char) b);
        } else {
          canonical.append('%').append(HEX[hi]).append(HEX[lo]);
        }
        i += 2;
      } else if (isPchar(c)) {
        canonical.append(c);
        if (bytes != null) {
          bytes[count++] = (byte) c;
        }
      } else {
        throw new RejectedRequestException(BAD_CHARACTERS);
      }
    }
    if (bytes == null) {
      return raw.substring(start, end);
    }
    String decoded = strictUtf8(bytes, count);
    checkDecoded(decoded);
    return decoded;
  }

  private static String strictUtf8(byte[] bytes, int count) {
    CharsetDecoder decoder =
        StandardCharsets.UTF_8
            .newDecoder()
            .onMalformedInput(CodingErrorAction.REPORT)
            .onUnmappableCharacter(CodingErrorAction.REPORT);
    try {
      return decoder.decode(ByteBuffer.wrap(bytes, 0, count)).toString();
    } catch (CharacterCodingException e) {
      throw new RejectedRequestException(BAD_PATH);
    }
  }

  /** Refuses C1 controls and what is still percent-encoded after one decoding (double encoding). */
  private static void checkDecoded(String decoded) {
    for (int i = 0; i < decoded.length(); i++) {
      char c = decoded.charAt(i);
      if (c >= 0x80 && c <= 0x9F) {
        throw new RejectedRequestException(BAD_CHARACTERS);
      }
      if (c == '%'
          && i + 2 < decoded.length()
          && isHex(decoded.charAt(i + 1))
          && isHex(decoded.charAt(i + 2))) {
        throw new RejectedRequestException(BAD_PATH);
      }
    }
  }

  /**
   * @return 1 for ".", 2 for "..", 0 otherwise
   * @throws RejectedRequestException for a dot-segment with a path parameter ("..;x", ".;x")
   */
  private static int dotSegment(String segment) {
    int n = segment.indexOf(';');
    int stem = n < 0 ? segment.length() : n;
    int dots =
        stem == 1 && segment.charAt(0) == '.'
            ? 1
            : stem == 2 && segment.charAt(0) == '.' && segment.charAt(1) == '.' ? 2 : 0;
    if (dots > 0 && n >= 0) {
      throw new RejectedRequestException(BAD_PATH);
    }
    return dots;
  }

  static boolean isUnreserved(int c) {
    return (c >= 'a' && c <= 'z')
        || (c >= 'A' && c <= 'Z')
        || (c >= '0' && c <= '9')
        || c == '-'
        || c == '.'
        || c == '_'
        || c == '~';
  }

  static boolean isSubDelim(int c) {
    return switch (c) {
      case '!', '$', '&', '\'', '(', ')', '*', '+', ',', ';', '=' -> true;
      default -> false;
    };
  }

  /** RFC 3986 pchar, without the percent-escape. */
  static boolean isPchar(int c) {
    return isUnreserved(c) || isSubDelim(c) || c == ':' || c == '@';
  }

  static boolean isHex(char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
  }
}
