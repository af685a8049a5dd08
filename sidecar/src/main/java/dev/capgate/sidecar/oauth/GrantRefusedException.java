package dev.capgate.sidecar.oauth;

/**
 * The token endpoint answered, and said no. The message is written here from the HTTP status and
 * the RFC 6749 §5.2 error code (a fixed vocabulary, checked before use), never from {@code
 * error_description} or any other text the server sent, which could echo a token.
 */
final class GrantRefusedException extends RuntimeException {
  private final String error;

  GrantRefusedException(int status, String error, String grant) {
    super(describe(status, error, grant), null, false, false);
    this.error = error;
  }

  /** The RFC 6749 error code, or null when the answer had none usable. */
  String error() {
    return error;
  }

  private static String describe(int status, String error, String grant) {
    if ("invalid_grant".equals(error)) {
      return switch (grant) {
        case "refresh_token" ->
            "the authorization server refused the user's grant (invalid_grant): the refresh token"
                + " is revoked or expired; the user must authorize again";
        default ->
            "the authorization server refused the token exchange (invalid_grant): the subject"
                + " token is revoked, expired or not trusted";
      };
    }
    return "the token endpoint refused the "
        + grant
        + " grant (HTTP "
        + status
        + (error == null ? "" : ", " + error)
        + ")";
  }
}
