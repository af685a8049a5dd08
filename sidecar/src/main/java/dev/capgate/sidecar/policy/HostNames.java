package dev.capgate.sidecar.policy;

/**
 * The one way a DNS name is put in canonical form before it is compared with a rule: lower case,
 * one trailing dot dropped, and letters/digits/hyphens in non-empty labels only. Anything else
 * (empty labels, underscores, percent signs, spaces) is not a host name we can match safely.
 */
final class HostNames {
  private static final int MAX_NAME = 253;
  private static final int MAX_LABEL = 63;

  private HostNames() {}

  /**
   * @return the canonical name (the same instance when already canonical), or null when not a DNS
   *     name
   */
  static String normalize(String name) {
    if (name == null) {
      return null;
    }
    int end = name.length();
    if (end > 0 && name.charAt(end - 1) == '.') {
      end--;
    }
    if (end == 0 || end > MAX_NAME) {
      return null;
    }
    boolean upper = false;
    int labelLength = 0;
    for (int i = 0; i < end; i++) {
      char c = name.charAt(i);
      if (c == '.') {
        if (labelLength == 0) {
          return null;
        }
        labelLength = 0;
        continue;
      }
      if (c >= 'A' && c <= 'Z') {
        upper = true;
      } else if (!(c >= 'a' && c <= 'z') && !(c >= '0' && c <= '9') && c != '-') {
        return null;
      }
      if (++labelLength > MAX_LABEL) {
        return null;
      }
    }
    if (labelLength == 0) {
      return null;
    }
    String trimmed = end == name.length() ? name : name.substring(0, end);
    return upper ? trimmed.toLowerCase(java.util.Locale.ROOT) : trimmed;
  }
}
