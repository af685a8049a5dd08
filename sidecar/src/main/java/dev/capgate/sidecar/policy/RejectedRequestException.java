package dev.capgate.sidecar.policy;

/**
 * An ambiguous or malformed request, refused before policy looks at it. The message is a short
 * machine-readable reason such as {@code host-sni-mismatch}; it never echoes request bytes, so it
 * is safe to put in logs and in the 400 answer.
 */
public final class RejectedRequestException extends RuntimeException {
  private final String reason;

  public RejectedRequestException(String reason) {
    // No stack trace: this is the normal answer to a hostile request, on the request path.
    super(reason, null, false, false);
    this.reason = reason;
  }

  public String reason() {
    return reason;
  }
}
