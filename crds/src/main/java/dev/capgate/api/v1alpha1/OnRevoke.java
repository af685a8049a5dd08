package dev.capgate.api.v1alpha1;

/** What revoking a session does to the pods that run under it. */
public enum OnRevoke {
  /** Sidecars deny every request and close open connections; the pods keep running. */
  Deny,
  /** As Deny, and the operator also deletes the session's pods. */
  DeletePods
}
