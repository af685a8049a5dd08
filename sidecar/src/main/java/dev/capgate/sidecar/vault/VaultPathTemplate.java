package dev.capgate.sidecar.vault;

import dev.capgate.api.v1alpha1.VaultPaths;
import dev.capgate.sidecar.policy.SessionIdentity;

/**
 * Fills a credential's Vault path with the session's values. The rules live in {@link VaultPaths},
 * shared with the operator, which must resolve the same paths to know which lease ids a session's
 * sidecars can have created.
 */
final class VaultPathTemplate {
  private VaultPathTemplate() {}

  /**
   * @throws IllegalArgumentException with a reason that names the placeholder, not its value
   */
  static String render(String template, SessionIdentity session) {
    return VaultPaths.render(
        template, session.user(), session.agent(), session.name(), session.namespace());
  }
}
