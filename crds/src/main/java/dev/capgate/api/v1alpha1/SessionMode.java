package dev.capgate.api.v1alpha1;

/**
 * Whether the sidecars enforce the session's egress rules or only record what they would deny
 * (learn mode, README "Learn mode").
 */
public enum SessionMode {
  /** What no rule allows is refused (the default). */
  Enforce,
  /**
   * What host/method/path policy would refuse goes out as the agent sent it, without any
   * credential, and is audited as {@code would-deny}; the other defences still refuse.
   */
  Audit
}
