package dev.capgate.sidecar.limits;

import static dev.capgate.api.v1alpha1.AgentSessionBuilder.rule;

import dev.capgate.api.v1alpha1.AgentSessionBuilder;
import dev.capgate.api.v1alpha1.Limits;
import dev.capgate.sidecar.policy.Policy;
import dev.capgate.sidecar.policy.SessionIdentity;

/**
 * A compiled one-rule policy with the given limits: what the limiter's cost is measured on, in
 * {@link RequestLimitsCostTest} and in the bench's {@code limiter} section (test jar).
 */
public final class LimitedPolicies {
  private LimitedPolicies() {}

  /**
   * @param ruleLimits the rule's limits, or null for none
   * @param sessionLimits the session's limits, or null for none
   */
  public static Policy oneRule(
      String ruleName, String host, Limits ruleLimits, Limits sessionLimits) {
    return Policy.compile(
        new SessionIdentity("agents", "limits", "alice@example.com", "coding-agent", null),
        AgentSessionBuilder.specOnly()
            .user("alice@example.com")
            .agent("coding-agent")
            .egress(rule(ruleName).hosts(host).limits(ruleLimits))
            .limits(sessionLimits)
            .spec());
  }
}
