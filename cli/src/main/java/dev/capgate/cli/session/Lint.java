package dev.capgate.cli.session;

import dev.capgate.api.v1alpha1.Violation;
import dev.capgate.sidecar.policy.InvalidPolicyException;
import dev.capgate.sidecar.policy.Policy;
import dev.capgate.sidecar.policy.SessionIdentity;
import java.util.ArrayList;
import java.util.List;

/**
 * Checks a session offline with the code that enforces it: {@code Policy.compile} runs the
 * operator's and the sidecar's validator ({@code AgentSessionValidator}) and then compiles every
 * rule as the sidecar does (host and path patterns, CIDRs), so a session lint passes is one the
 * sidecar enforces rather than denying everything. The CRD's CEL rules check a subset of the same
 * at apply time.
 */
public final class Lint {
  /** The outcome for one session: its shape problems and the validator's violations, in order. */
  public record Result(SessionDocument session, List<Violation> violations) {
    public boolean ok() {
      return violations.isEmpty();
    }
  }

  private Lint() {}

  public static Result check(SessionDocument session) {
    List<Violation> violations = new ArrayList<>(session.shape());
    if (session.spec() != null) {
      try {
        Policy.compile(identity(session), session.spec());
      } catch (InvalidPolicyException e) {
        violations.addAll(e.violations());
      }
    }
    return new Result(session, List.copyOf(violations));
  }

  /** The identity a sidecar would enforce it under (for attribution only; lint needs none). */
  static SessionIdentity identity(SessionDocument session) {
    var spec = session.spec();
    return new SessionIdentity(
        session.namespace(), session.name(), spec.user(), spec.agent(), spec.project());
  }
}
