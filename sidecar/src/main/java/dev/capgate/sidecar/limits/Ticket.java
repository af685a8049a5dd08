package dev.capgate.sidecar.limits;

/**
 * An admitted request's hold on its limits: the in-flight slots it took, given back with the body
 * bytes it moved when the request ends ({@link #release}). {@link #NONE} when no limit applies, so
 * a session without limits allocates nothing per request.
 */
public final class Ticket implements Admit {
  public static final Ticket NONE = new Ticket(null, false, null, false);

  private final Usage rule;
  private final boolean ruleSlot;
  private final Usage session;
  private final boolean sessionSlot;
  private boolean released;

  Ticket(Usage rule, boolean ruleSlot, Usage session, boolean sessionSlot) {
    this.rule = rule;
    this.ruleSlot = ruleSlot;
    this.session = session;
    this.sessionSlot = sessionSlot;
  }

  /**
   * The request ended (answered, relayed, broken, or switched to a WebSocket splice): its slots are
   * free and its body bytes count against the byte budgets. Called on the request's event loop;
   * only the first call counts.
   *
   * @param bodyBytes request body bytes sent upstream plus response body bytes relayed to the agent
   */
  public void release(long bodyBytes) {
    if (released || this == NONE) {
      return;
    }
    released = true;
    if (rule != null) {
      rule.bytes.addAndGet(bodyBytes);
      if (ruleSlot) {
        rule.leave();
      }
    }
    if (session != null) {
      session.bytes.addAndGet(bodyBytes);
      if (sessionSlot) {
        session.leave();
      }
    }
  }
}
