package dev.capgate.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Min;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Required;
import io.fabric8.generator.annotation.Size;
import io.fabric8.generator.annotation.ValidationRule;
import java.util.List;
import java.util.Map;

/**
 * A GitHub App whose installation tokens the sidecar mints per session at egress: the App's private
 * key stays in Vault, each token is limited to {@code repositories} and {@code permissions}, lives
 * at most an hour, and is revoked when the session ends.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record GitHubAppCredential(
    @Required
        @Min(1)
        @JsonPropertyDescription("The App's numeric id (the iss of the App JWT the sidecar signs).")
        Long appId,
    @Required
        @Min(1)
        @JsonPropertyDescription(
            "The installation of the App on the account or organization that owns the repositories.")
        Long installationId,
    @Required
        @JsonPropertyDescription(
            "Where Vault (KV v2) keeps the App's PEM private key; field defaults to private_key. The key never leaves the sidecar.")
        VaultField privateKey,
    @Size(min = 1, max = 256)
        @Pattern(GitHubAppCredential.API_URL)
        @JsonPropertyDescription(
            "Base URL of the GitHub REST API, https only (default https://api.github.com; GitHub Enterprise Server: https://HOST/api/v3).")
        String apiUrl,
    @Size(min = 1, max = 100)
        @JsonPropertyDescription(
            "Repository names (without owner) the minted token may touch; GitHub refuses the token anywhere else, whatever the egress rules allow. Absent: every repository of the installation.")
        List<@Pattern(GitHubAppCredential.REPOSITORY) @Size(max = 100) String> repositories,
    @Size(min = 1, max = 32)
        @ValidationRule(
            value = "self.all(k, k.matches('" + GitHubAppCredential.PERMISSION + "'))",
            reason = "FieldValueInvalid",
            message = "permission names are lower-case words joined by _ (contents, pull_requests)")
        @JsonPropertyDescription(
            "GitHub permissions of the token, name to read or write (e.g. contents: read, pull_requests: write). Absent: every permission of the installation.")
        Map<String, GitHubPermissionLevel> permissions) {

  public static final String DEFAULT_API_URL = "https://api.github.com";
  public static final String DEFAULT_KEY_FIELD = "private_key";

  /** An https URL without query or fragment; no trailing slash needed. */
  public static final String API_URL =
      "^https://[A-Za-z0-9.-]+(:[0-9]{1,5})?(/[A-Za-z0-9._~/-]*)?$";

  /** A repository name as GitHub allows it. */
  public static final String REPOSITORY = "^[A-Za-z0-9._-]{1,100}$";

  /** A permission name of GitHub's API (contents, pull_requests, ...). */
  public static final String PERMISSION = "^[a-z][a-z_]{0,63}$";

  /** {@link #apiUrl}, or GitHub's, without a trailing slash. */
  public String apiUrlOrDefault() {
    String url = apiUrl == null ? DEFAULT_API_URL : apiUrl;
    return url.endsWith("/") ? url.substring(0, url.length() - 1) : url;
  }

  public String privateKeyFieldOrDefault() {
    return privateKey == null ? DEFAULT_KEY_FIELD : privateKey.fieldOr(DEFAULT_KEY_FIELD);
  }

  public List<String> repositoriesOrEmpty() {
    return repositories == null ? List.of() : repositories;
  }

  public Map<String, GitHubPermissionLevel> permissionsOrEmpty() {
    return permissions == null ? Map.of() : permissions;
  }
}
