package dev.capgate.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonProperty;

/** The access a GitHub App installation token asks for on one permission (GitHub's words). */
public enum GitHubPermissionLevel {
  @JsonProperty("read")
  READ,
  @JsonProperty("write")
  WRITE
}
