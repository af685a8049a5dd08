package dev.capgate.sidecar.limits;

/** Which limit refused a request; {@link #label()} is the metric label and audit token. */
public enum LimitKind {
  RATE("rate", 429),
  CONCURRENCY("concurrency", 429),
  REQUEST_BUDGET("requests-budget", 403),
  BYTE_BUDGET("bytes-budget", 403);

  private final String label;
  private final int status;

  LimitKind(String label, int status) {
    this.label = label;
    this.status = status;
  }

  public String label() {
    return label;
  }

  /** 429 for rate and concurrency (try again later), 403 for a budget (over for good). */
  public int status() {
    return status;
  }

  public boolean budget() {
    return status == 403;
  }
}
