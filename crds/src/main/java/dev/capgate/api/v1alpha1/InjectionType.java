package dev.capgate.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonProperty;

public enum InjectionType {
  @JsonProperty("bearer")
  BEARER,
  @JsonProperty("basic")
  BASIC,
  @JsonProperty("header")
  HEADER
}
