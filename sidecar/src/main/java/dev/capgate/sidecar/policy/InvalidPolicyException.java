package dev.capgate.sidecar.policy;

import dev.capgate.api.v1alpha1.Violation;
import java.util.List;
import java.util.stream.Collectors;

/**
 * The session's spec cannot be enforced as written: the sidecar then denies everything (invariant
 * 4).
 */
public final class InvalidPolicyException extends RuntimeException {
  private final List<Violation> violations;

  public InvalidPolicyException(List<Violation> violations) {
    super(
        "invalid AgentSession spec: "
            + violations.stream().map(Violation::toString).collect(Collectors.joining("; ")));
    this.violations = List.copyOf(violations);
  }

  public List<Violation> violations() {
    return violations;
  }
}
