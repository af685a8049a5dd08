package dev.capgate.sidecar.approval;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * Puts a held request before a person and says how they decided. The data plane ({@code
 * http.Exchange}) asks, holds the request meanwhile without blocking its event loop, and goes on or
 * answers 403 when the stage completes. Never fails the stage: trouble is an {@link
 * Outcome.Unavailable}.
 */
public interface Approvals {

  CompletionStage<Outcome> ask(HeldRequest request);

  /**
   * What a person sees of a held request: never a header, a query or a body.
   *
   * @param requestId the sidecar's request id (the AgentApproval's name)
   * @param timeout how long to wait for a decision
   * @param approvers the rule's hint of who should decide (may be null)
   */
  record HeldRequest(
      String requestId,
      String rule,
      String method,
      String host,
      String path,
      Duration timeout,
      List<String> approvers) {}

  /** How a held request ended. */
  sealed interface Outcome {
    /** The approval's id (its name), for the audit line. */
    String id();

    record Approved(String id, String decidedBy) implements Outcome {}

    record Rejected(String id, String decidedBy) implements Outcome {}

    record TimedOut(String id) implements Outcome {}

    /** Not put before anyone (no API access, API server out of reach, too many held). */
    record Unavailable(String id, String why) implements Outcome {}
  }

  /** Where no approval can be asked for (a sidecar run with a session file): fail closed. */
  static Approvals unavailable(String why) {
    return request ->
        CompletableFuture.completedFuture(new Outcome.Unavailable(request.requestId(), why));
  }
}
