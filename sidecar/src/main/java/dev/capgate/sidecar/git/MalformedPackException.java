package dev.capgate.sidecar.git;

/** A pushed pack this proxy cannot read (the message says why, for the audit line and git). */
public final class MalformedPackException extends Exception {
  public MalformedPackException(String message) {
    super(message);
  }
}
