package dev.capgate.sidecar.credentials;

/**
 * A placeholder where it may not go: in a request to a route that does not inject its credential,
 * outside the request headers (target, query, body, trailers), in a host name (SNI, Host, DNS), or
 * anything that looks like one while the placeholders file is unreadable. The texts name the
 * credential, never a value: the placeholder is not secret, but nothing gains from printing it.
 *
 * @param credential whose placeholder it is; null when the placeholders file could not be read
 * @param where a phrase such as "the query string" or "the X-Token header"
 */
public record PlaceholderLeak(String credential, String where) {
  /** Machine-readable error of the denial: {@code placeholder-exfiltration} (or fail closed). */
  public static final String EXFILTRATION = "placeholder-exfiltration";

  public static final String UNVERIFIABLE = "placeholders-unavailable";

  public String error() {
    return credential == null ? UNVERIFIABLE : EXFILTRATION;
  }

  /** The audit reason: says plainly that this is a likely exfiltration attempt. */
  public String auditReason(String host) {
    String to = host == null ? "" : " (to " + host + ")";
    if (credential == null) {
      return UNVERIFIABLE
          + ": something that looks like a Capgate placeholder (capgate-ph-...) in "
          + where
          + to
          + ", and the placeholders file could not be read: refused (fail closed)";
    }
    return EXFILTRATION
        + ": likely exfiltration attempt: the placeholder of credential '"
        + credential
        + "' in "
        + where
        + to
        + "; placeholders are swapped for their credential only in request headers on routes "
        + "that inject that credential";
  }

  /** What the agent reads in the 403 body. */
  public String detail() {
    if (credential == null) {
      return "The request carries something that looks like a Capgate placeholder in "
          + where
          + ", and the sidecar cannot read its placeholders file, so it refuses such requests.";
    }
    return "The placeholder of credential '"
        + credential
        + "' was found in "
        + where
        + ". A placeholder is "
        + "replaced by the real credential only in request headers sent to the routes that inject that "
        + "credential; anywhere else the request is refused and audited as a likely exfiltration attempt.";
  }
}
