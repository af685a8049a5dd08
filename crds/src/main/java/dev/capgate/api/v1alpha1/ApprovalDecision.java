package dev.capgate.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonProperty;

/** How a held request was decided; absent while it is pending. */
public enum ApprovalDecision {
  @JsonProperty("Approved")
  APPROVED,
  @JsonProperty("Rejected")
  REJECTED,
  /** Nobody decided in time, or the sidecar that held it restarted: the request was denied. */
  @JsonProperty("Expired")
  EXPIRED;

  /** The JSON form, as written in status.decision. */
  public String wire() {
    return switch (this) {
      case APPROVED -> "Approved";
      case REJECTED -> "Rejected";
      case EXPIRED -> "Expired";
    };
  }
}
