package dev.capgate.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonProperty;

/** RFC 8693 §3 token type identifiers of the subject token a token exchange presents. */
public enum SubjectTokenType {
  @JsonProperty("access_token")
  ACCESS_TOKEN("urn:ietf:params:oauth:token-type:access_token"),
  @JsonProperty("jwt")
  JWT("urn:ietf:params:oauth:token-type:jwt"),
  @JsonProperty("id_token")
  ID_TOKEN("urn:ietf:params:oauth:token-type:id_token");

  private final String urn;

  SubjectTokenType(String urn) {
    this.urn = urn;
  }

  /** The identifier sent as {@code subject_token_type}. */
  public String urn() {
    return urn;
  }
}
