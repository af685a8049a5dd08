package dev.capgate.sidecar.policy;

import java.util.List;

/**
 * The decision on one HTTP request. {@code rule} is null when no rule allowed it; {@code
 * credentials} names the credentials to inject, in the rule's order (empty for none): a rule may
 * name several ({@code credentials: [a, b]}), each filling its own header.
 */
public record RequestVerdict(
    boolean allowed, String rule, List<String> credentials, String reason) {
  public RequestVerdict {
    credentials = credentials == null ? List.of() : List.copyOf(credentials);
  }

  /**
   * The first credential to inject, or null for none. Kept for callers that inject one credential;
   * a rule with several needs {@link #credentials()}.
   */
  public String credential() {
    return credentials.isEmpty() ? null : credentials.get(0);
  }
}
