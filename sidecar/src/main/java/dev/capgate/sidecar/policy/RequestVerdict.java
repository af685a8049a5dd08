package dev.capgate.sidecar.policy;

import java.util.List;

/**
 * The decision on one HTTP request. {@code rule} is null when no rule allowed it; {@code
 * credentials} names the credentials to inject, in the rule's order (empty for none): a rule may
 * name several ({@code credentials: [a, b]}), each filling its own header.
 *
 * @param wouldDeny learn mode let through what policy would refuse: {@code allowed}, no rule, no
 *     credential, and {@code reason} says what would have refused it
 */
public record RequestVerdict(
    boolean allowed, String rule, List<String> credentials, String reason, boolean wouldDeny) {
  public RequestVerdict {
    credentials = credentials == null ? List.of() : List.copyOf(credentials);
    if (wouldDeny && (!allowed || rule != null || !credentials.isEmpty())) {
      throw new IllegalArgumentException("a would-deny goes out without rule or credential");
    }
  }

  public RequestVerdict(boolean allowed, String rule, List<String> credentials, String reason) {
    this(allowed, rule, credentials, reason, false);
  }

  /** Learn mode: what policy refused for {@code reason} goes out without any credential. */
  static RequestVerdict wouldDeny(String reason) {
    return new RequestVerdict(true, null, List.of(), reason, true);
  }

  /**
   * The first credential to inject, or null for none. Kept for callers that inject one credential;
   * a rule with several needs {@link #credentials()}.
   */
  public String credential() {
    return credentials.isEmpty() ? null : credentials.get(0);
  }
}
