package dev.capgate.api.v1alpha1;

import java.util.ArrayList;
import java.util.List;

/**
 * A credential's Vault path as the sidecar reads it: {@code {{user}}}, {@code {{agent}}}, {@code
 * {{session}}} (the AgentSession's name) and {@code {{namespace}}} filled in. Shared by the
 * operator, which must know which lease ids a session's sidecars can have created (it revokes only
 * those), and the sidecar, which reads them.
 *
 * <p>A value must be one safe path segment ({@code A-Z a-z 0-9 . _ @ + -}, not "." or "..", nothing
 * containing ".."), so that no session field can steer a read to another secret ({@code user:
 * "../admin"}). The finished path is checked again as a whole: no placeholder left, no empty or dot
 * segment.
 */
public final class VaultPaths {
  private VaultPaths() {}

  /**
   * @throws IllegalArgumentException with a reason that names the placeholder, not its value
   */
  public static String render(
      String template, String user, String agent, String session, String namespace) {
    if (template == null) {
      throw new IllegalArgumentException("the Vault path is missing");
    }
    String path = template;
    path = fill(path, "user", user);
    path = fill(path, "agent", agent);
    path = fill(path, "session", session);
    path = fill(path, "namespace", namespace);
    checkPath(path);
    return path;
  }

  /** {@link #render} with the values of a session. */
  public static String resolve(
      String template, AgentSessionSpec spec, String namespace, String sessionName) {
    return render(template, spec.user(), spec.agent(), sessionName, namespace);
  }

  /**
   * The resolved paths of the session's {@code dynamic} credentials, in declaration order without
   * duplicates. A path that cannot be rendered is left out: the sidecar cannot read it either.
   */
  public static List<String> dynamicPaths(
      AgentSessionSpec spec, String namespace, String sessionName) {
    List<String> paths = new ArrayList<>();
    if (spec == null) {
      return paths;
    }
    for (Credential credential : spec.credentialsOrEmpty()) {
      String template;
      if (credential != null
          && credential.vault() != null
          && credential.vault().engineOrDefault() == VaultEngine.DYNAMIC) {
        template = credential.vault().path();
      } else if (credential != null
          && credential.awsSigV4() != null
          && credential.awsSigV4().vault() != null
          && credential.awsSigV4().vault().engineOrDefault() == VaultEngine.DYNAMIC) {
        template = credential.awsSigV4().vault().path(); // temporary keys from an AWS engine
      } else {
        continue;
      }
      try {
        String path = resolve(template, spec, namespace, sessionName);
        if (!paths.contains(path)) {
          paths.add(path);
        }
      } catch (IllegalArgumentException e) {
        // not readable by the sidecar, so no lease of it can exist
      }
    }
    return paths;
  }

  /** One safe path segment: {@code A-Z a-z 0-9 . _ @ + -}, not "." or "..", no "..". */
  public static boolean isSafeSegment(String value) {
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

  private static String fill(String path, String name, String value) {
    String placeholder = "{{" + name + "}}";
    if (!path.contains(placeholder)) {
      return path;
    }
    if (!isSafeSegment(value)) {
      throw new IllegalArgumentException(
          "the session's "
              + name
              + " cannot be used in a Vault path ("
              + placeholder
              + " must be letters, digits, '.', '_', '@', '+' or '-', and not contain '..')");
    }
    return path.replace(placeholder, value);
  }

  private static boolean isSafe(char c) {
    return (c >= 'a' && c <= 'z')
        || (c >= 'A' && c <= 'Z')
        || (c >= '0' && c <= '9')
        || c == '.'
        || c == '_'
        || c == '@'
        || c == '+'
        || c == '-';
  }

  private static void checkPath(String path) {
    for (String segment : path.split("/", -1)) {
      if (segment.isEmpty() || segment.equals(".") || segment.equals("..")) {
        throw new IllegalArgumentException("the Vault path has an empty or dot segment");
      }
      for (int i = 0; i < segment.length(); i++) {
        if (!isSafe(segment.charAt(i))) {
          throw new IllegalArgumentException(
              "the Vault path has an unknown placeholder or character");
        }
      }
    }
  }
}
