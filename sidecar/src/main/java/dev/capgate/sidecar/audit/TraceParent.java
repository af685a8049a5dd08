package dev.capgate.sidecar.audit;

/**
 * The W3C Trace Context {@code traceparent} check
 * (https://www.w3.org/TR/trace-context/#traceparent-header): the audit line carries the agent's
 * value only when it is well-formed, so a line never holds arbitrary agent text under that name
 * (and, being hex, it cannot hold a credential). The sidecar never invents one and never adds one
 * to what goes upstream: the agent's header is forwarded as the agent sent it.
 */
public final class TraceParent {
  private static final int LENGTH = 55; // 2 + 1 + 32 + 1 + 16 + 1 + 2

  private TraceParent() {}

  /**
   * {@code version-traceid-parentid-flags}, lower-case hex: version not {@code ff}; trace id and
   * parent id not all zeros; version {@code 00} exactly 55 characters, a later version 55 or more
   * with a {@code -} after the flags (its extra fields are ignored, as the spec asks).
   */
  public static boolean wellFormed(String value) {
    if (value == null || value.length() < LENGTH) {
      return false;
    }
    if (!hex(value, 0, 2)
        || value.charAt(2) != '-'
        || !hex(value, 3, 35)
        || value.charAt(35) != '-'
        || !hex(value, 36, 52)
        || value.charAt(52) != '-'
        || !hex(value, 53, 55)) {
      return false;
    }
    if (value.startsWith("ff") || zeros(value, 3, 35) || zeros(value, 36, 52)) {
      return false;
    }
    if (value.startsWith("00")) {
      return value.length() == LENGTH;
    }
    return value.length() == LENGTH || value.charAt(LENGTH) == '-';
  }

  /** The first {@value #LENGTH} characters: the fields this version of the spec defines. */
  static String known(String value) {
    return value.length() == LENGTH ? value : value.substring(0, LENGTH);
  }

  private static boolean hex(String s, int from, int to) {
    for (int i = from; i < to; i++) {
      char c = s.charAt(i);
      if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
        return false;
      }
    }
    return true;
  }

  private static boolean zeros(String s, int from, int to) {
    for (int i = from; i < to; i++) {
      if (s.charAt(i) != '0') {
        return false;
      }
    }
    return true;
  }
}
