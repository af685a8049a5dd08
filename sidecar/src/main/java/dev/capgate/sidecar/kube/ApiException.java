package dev.capgate.sidecar.kube;

/** The API server refused a call; the message is the status alone (never a token, never a body). */
public final class ApiException extends RuntimeException {
  private final int status;

  public ApiException(int status) {
    super("HTTP " + status, null, false, false);
    this.status = status;
  }

  public int status() {
    return status;
  }
}
