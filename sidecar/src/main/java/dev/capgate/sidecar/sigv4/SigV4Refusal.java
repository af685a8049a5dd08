package dev.capgate.sidecar.sigv4;

/**
 * A request the sidecar will not re-sign. {@code error} is a short token for the audit line and the
 * answer's {@code error}; {@code detail} says what to change. Neither ever holds a key or a
 * signature.
 */
public final class SigV4Refusal extends RuntimeException {
  private final String error;
  private final String detail;

  public SigV4Refusal(String error, String detail) {
    super(error + ": " + detail, null, false, false);
    this.error = error;
    this.detail = detail;
  }

  public String error() {
    return error;
  }

  public String detail() {
    return detail;
  }
}
