package dev.capgate.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonProperty;

public enum TlsMode {
  @JsonProperty("intercept")
  INTERCEPT,
  @JsonProperty("passthrough")
  PASSTHROUGH
}
