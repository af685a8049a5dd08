package dev.capgate.sidecar.policy;

import dev.capgate.api.v1alpha1.GitPush;
import java.util.List;

/**
 * A rule's {@code git} block, compiled: judges the ref update commands of one push. The push is
 * judged whole: the first command it refuses refuses them all (see {@link ReceivePackRefusal}).
 */
public final class PushRules {
  private final String rule;
  private final RefPattern[] refs;
  private final boolean create;
  private final boolean update;
  private final boolean delete;
  private final boolean forcePush;
  private final int maxPackBytes;

  /**
   * @throws IllegalArgumentException naming a pattern that cannot be compiled
   */
  public PushRules(String rule, GitPush git) {
    this.rule = rule;
    this.refs = git.refs().stream().map(RefPattern::compile).toArray(RefPattern[]::new);
    this.create = git.createOrDefault();
    this.update = git.updateOrDefault();
    this.delete = git.deleteOrDefault();
    this.forcePush = git.forcePushOrDefault();
    this.maxPackBytes = git.maxPackBytesOrDefault();
  }

  public String rule() {
    return rule;
  }

  /** The largest pack read to prove fast-forwards. */
  public int maxPackBytes() {
    return maxPackBytes;
  }

  /**
   * The commands of an allowed push that must be proven fast-forwards by the pack: every ref move,
   * unless the rule allows force-pushes (creates and deletes have no history to keep).
   */
  public List<RefUpdate> needingFastForward(List<RefUpdate> commands) {
    if (forcePush) {
      return List.of();
    }
    return commands.stream().filter(c -> c.kind() == RefUpdate.Kind.UPDATE).toList();
  }

  /** Why an update that could not be proven a fast-forward is refused, for git to print. */
  public Refusal possibleForcePush(RefUpdate command, String why) {
    return new Refusal(
        command.ref(),
        "possible force-push: "
            + why
            + "; fetch and merge first or ask for forcePush on rule '"
            + rule
            + "'");
  }

  /** Why a command is refused: the ref and a reason git can print after it. */
  public record Refusal(String ref, String reason) {}

  /** The first command this rule refuses, or null when the push may go upstream. */
  public Refusal judge(List<RefUpdate> commands) {
    for (RefUpdate command : commands) {
      String why = refusal(command);
      if (why != null) {
        return new Refusal(command.ref(), why);
      }
    }
    return null;
  }

  private String refusal(RefUpdate command) {
    if (!allowsRef(command.ref())) {
      return "ref not allowed by rule '" + rule + "'";
    }
    return switch (command.kind()) {
      case CREATE -> create ? null : "creating refs is not allowed by rule '" + rule + "'";
      case UPDATE -> update ? null : "updating existing refs is not allowed by rule '" + rule + "'";
      case DELETE -> delete ? null : "deleting refs is not allowed by rule '" + rule + "'";
    };
  }

  private boolean allowsRef(String ref) {
    for (RefPattern pattern : refs) {
      if (pattern.matches(ref)) {
        return true;
      }
    }
    return false;
  }
}
