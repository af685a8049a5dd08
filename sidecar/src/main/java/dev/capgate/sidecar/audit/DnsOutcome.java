package dev.capgate.sidecar.audit;

/**
 * How the DNS proxy answered a query: the {@code outcome} label of {@code
 * capgate_dns_queries_total}, and the decision it stands for. Only the refusals of policy (a name
 * no rule allows, a placeholder in the name) are audit lines: an allowed lookup is followed by the
 * connection or request it was for, which has its own line, and a malformed query or a resolver
 * failure names nothing an operator could act on per query.
 */
public enum DnsOutcome {
  /** Asked of the real resolver and answered as it answered. */
  FORWARDED("forwarded", Decision.ALLOW, false),
  /** No rule allows the name (or there is no valid policy): NXDOMAIN. */
  NXDOMAIN("nxdomain", Decision.DENY, true),
  /** A placeholder credential in the name: NXDOMAIN, a likely exfiltration attempt. */
  PLACEHOLDER("placeholder", Decision.DENY, true),
  /** Not one standard question: REFUSED. */
  REFUSED("refused", Decision.DENY, false),
  /** The real resolver failed: SERVFAIL. */
  ERROR("error", Decision.ERROR, false);

  private final String label;
  private final Decision decision;
  private final boolean audited;

  DnsOutcome(String label, Decision decision, boolean audited) {
    this.label = label;
    this.decision = decision;
    this.audited = audited;
  }

  public String label() {
    return label;
  }

  public Decision decision() {
    return decision;
  }

  /** Whether the query gets an audit line (it is always counted). */
  public boolean audited() {
    return audited;
  }
}
