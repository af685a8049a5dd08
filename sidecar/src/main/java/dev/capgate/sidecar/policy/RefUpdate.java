package dev.capgate.sidecar.policy;

/**
 * One ref update command of a push: {@code <old-id> <new-id> <ref>}. An all-zero old id creates the
 * ref, an all-zero new id deletes it; anything else moves it (fast-forward or not: the ids alone do
 * not tell, the pushed pack may: {@code git.FastForward}).
 */
public record RefUpdate(String oldId, String newId, String ref) {
  public enum Kind {
    CREATE,
    UPDATE,
    DELETE
  }

  public Kind kind() {
    if (isZero(oldId)) {
      return Kind.CREATE;
    }
    return isZero(newId) ? Kind.DELETE : Kind.UPDATE;
  }

  private static boolean isZero(String id) {
    for (int i = 0; i < id.length(); i++) {
      if (id.charAt(i) != '0') {
        return false;
      }
    }
    return true;
  }
}
