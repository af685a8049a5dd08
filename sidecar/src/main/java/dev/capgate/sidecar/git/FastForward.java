package dev.capgate.sidecar.git;

import dev.capgate.sidecar.policy.RefUpdate;
import java.util.ArrayDeque;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Proves that a ref update is a fast-forward from the pushed commits alone: walking parents from
 * the new commit, inside the pack, reaches the ref's current commit (the old id, which the server
 * checks is still its tip before it moves the ref). The proof is conservative: when it fails the
 * update may still be a fast-forward the pack cannot show (the new commit is already on the server,
 * or a commit came as a delta against an object the pack does not hold).
 */
public final class FastForward {
  private FastForward() {}

  /** Why {@code update} is not proven a fast-forward by {@code pack}, or null when it is. */
  public static String unproven(PackCommits pack, RefUpdate update) {
    String oldId = update.oldId();
    String newId = update.newId();
    if (newId.equals(oldId)) {
      return null; // the ref does not move
    }
    if (pack.parentsOf(newId) == null) {
      return "its new commit "
          + abbrev(newId)
          + " is not in the pushed pack (the server has it already, or it is not a commit)";
    }
    Set<String> seen = new HashSet<>();
    ArrayDeque<String> next = new ArrayDeque<>();
    next.add(newId);
    seen.add(newId);
    while (!next.isEmpty()) {
      List<String> parents = pack.parentsOf(next.poll());
      if (parents == null) {
        continue; // a commit the server holds (or an unresolved delta): the walk ends there
      }
      for (String parent : parents) {
        if (parent.equals(oldId)) {
          return null;
        }
        if (seen.add(parent)) {
          next.add(parent);
        }
      }
    }
    return abbrev(newId)
        + " does not descend from "
        + abbrev(oldId)
        + (pack.unresolvedDeltas() > 0
            ? " within the pushed commits (" + pack.unresolvedDeltas() + " unresolved deltas)"
            : " within the pushed commits");
  }

  static String abbrev(String id) {
    return id.substring(0, 12);
  }
}
