package dev.capgate.sidecar.vault;

import dev.capgate.sidecar.policy.SessionIdentity;

/**
 * Fills {@code {{user}}}, {@code {{agent}}}, {@code {{session}}} and {@code {{namespace}}} into a
 * credential's Vault path. A value must be one safe path segment ({@code A-Z a-z 0-9 . _ @ + -},
 * not "." or "..", nothing containing ".."), so that no session field can steer the read to
 * another secret ({@code user: "../admin"}). The finished path is checked again as a whole: no
 * placeholder left, no empty or dot segment.
 */
final class VaultPathTemplate {
  private VaultPathTemplate() {
  }

  /** @throws IllegalArgumentException with a reason that names the placeholder, not its value */
  static String render(String template, SessionIdentity session) {
    String path = template;
    path = fill(path, "user", session.user());
    path = fill(path, "agent", session.agent());
    path = fill(path, "session", session.name());
    path = fill(path, "namespace", session.namespace());
    checkPath(path);
    return path;
  }

  private static String fill(String path, String name, String value) {
    String placeholder = "{{" + name + "}}";
    if (!path.contains(placeholder)) {
      return path;
    }
    if (!isSafeSegment(value)) {
      throw new IllegalArgumentException("the session's " + name + " cannot be used in a Vault path (" + placeholder
          + " must be letters, digits, '.', '_', '@', '+' or '-', and not contain '..')");
    }
    return path.replace(placeholder, value);
  }

  private static boolean isSafeSegment(String value) {
    if (value == null || value.isEmpty() || value.contains("..") || value.equals(".")) {
      return false;
    }
    for (int i = 0; i < value.length(); i++) {
      if (!isSafe(value.charAt(i))) {
        return false;
      }
    }
    return true;
  }

  private static boolean isSafe(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
        || c == '.' || c == '_' || c == '@' || c == '+' || c == '-';
  }

  private static void checkPath(String path) {
    for (String segment : path.split("/", -1)) {
      if (segment.isEmpty() || segment.equals(".") || segment.equals("..")) {
        throw new IllegalArgumentException("the Vault path has an empty or dot segment");
      }
      for (int i = 0; i < segment.length(); i++) {
        if (!isSafe(segment.charAt(i))) {
          throw new IllegalArgumentException("the Vault path has an unknown placeholder or character");
        }
      }
    }
  }
}
