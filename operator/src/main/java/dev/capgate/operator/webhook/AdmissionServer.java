package dev.capgate.operator.webhook;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.capgate.operator.approval.ApprovalAdmitter;
import dev.capgate.operator.ca.ServingCertificates;
import dev.capgate.operator.https.HttpsListener;
import dev.capgate.operator.injection.AdmissionDecision;
import dev.capgate.operator.injection.PodAdmissionRequest;
import dev.capgate.operator.injection.PodAdmitter;
import dev.capgate.operator.metrics.OperatorMetrics;
import dev.capgate.operator.metrics.OperatorMetrics.AdmissionOutcome;
import dev.capgate.operator.metrics.OperatorMetrics.WebhookError;
import io.vertx.core.Vertx;
import java.io.IOException;
import java.time.Clock;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The webhook listener: AdmissionReview on {@code POST /mutate} (pods) and {@code POST /approval}
 * (AgentApprovals) and nothing else ({@code GET /healthz} for probes, 404 for the rest; the
 * sidecars' {@code /v1/vault-token} has a port of its own, so that pods can be kept off this one).
 * Every decision is {@link PodAdmitter}'s.
 */
public final class AdmissionServer {
  private static final Logger LOG = LoggerFactory.getLogger(AdmissionServer.class);
  private static final ObjectMapper MAPPER = new ObjectMapper();
  public static final String PATH = "/mutate";

  /** AgentApproval admission: who created it, who decided it (ApprovalAdmitter). */
  public static final String APPROVAL_PATH = "/approval";

  /** An AgentApproval is a few KiB at most (its schema's maxima). */
  static final int MAX_APPROVAL_BODY = 256 * 1024;

  /** Pods are far smaller; the API server caps requests at 3 MiB anyway. */
  static final int MAX_BODY = 3 * 1024 * 1024;

  private final PodAdmitter admitter;
  private final ApprovalAdmitter approvals = new ApprovalAdmitter(Clock.systemUTC());
  private final OperatorMetrics metrics;

  private AdmissionServer(PodAdmitter admitter, OperatorMetrics metrics) {
    this.admitter = admitter;
    this.metrics = metrics;
  }

  /** Listens on {@code host:port} (port 0: any free port) with the given serving certificate. */
  public static HttpsListener start(
      Vertx vertx, String host, int port, ServingCertificates.Issued tls, PodAdmitter admitter) {
    return start(vertx, host, port, tls, admitter, OperatorMetrics.unserved());
  }

  /**
   * The same, counting admissions by outcome and latency, and the requests answered without a
   * decision, in {@code metrics}.
   */
  public static HttpsListener start(
      Vertx vertx,
      String host,
      int port,
      ServingCertificates.Issued tls,
      PodAdmitter admitter,
      OperatorMetrics metrics) {
    AdmissionServer server = new AdmissionServer(admitter, metrics);
    return HttpsListener.start(
        vertx,
        "admission webhook",
        host,
        port,
        tls,
        List.of(
            new HttpsListener.Route(
                PATH, MAX_BODY, HttpsListener.Answer.text(413, ""), server::mutate),
            new HttpsListener.Route(
                APPROVAL_PATH,
                MAX_APPROVAL_BODY,
                HttpsListener.Answer.text(413, ""),
                server::approval)));
  }

  private HttpsListener.Answer approval(HttpsListener.Call call) {
    JsonNode request;
    try {
      JsonNode review = MAPPER.readTree(call.body());
      request = review == null ? null : review.get("request");
      if (request == null || !request.hasNonNull("uid")) {
        throw new IllegalArgumentException("not an AdmissionReview");
      }
    } catch (IOException | IllegalArgumentException e) {
      LOG.warn("refused an approval review from {}: {}", call.remote(), e.getMessage());
      metrics.webhookError(WebhookError.BAD_REQUEST);
      return HttpsListener.Answer.text(400, "not an AdmissionReview");
    }
    AdmissionDecision decision;
    try {
      decision = approvals.admit(request);
    } catch (RuntimeException e) {
      metrics.webhookError(WebhookError.INTERNAL);
      LOG.error("approval admission {} failed", request.path("uid").asText(), e);
      decision =
          AdmissionDecision.deny("capgate could not check this approval, see the operator log");
    }
    if (decision.allowed()
        && decision.patch() != null
        && "status".equals(request.path("subResource").asText())) {
      // Who decided what: the operator's record of it, beside the sidecar's audit line.
      LOG.info(
          "approval {}/{} decided by {}",
          request.path("namespace").asText(),
          request.path("name").asText(),
          request.path("userInfo").path("username").asText());
    }
    return new HttpsListener.Answer(
        200, "application/json", AdmissionReviews.response(request.path("uid").asText(), decision));
  }

  private HttpsListener.Answer mutate(HttpsListener.Call call) {
    try {
      return review(call.body());
    } catch (IllegalArgumentException e) {
      // Nothing was decided or written. Worth a line: the API server never sends these.
      LOG.warn("refused a request from {}: {}", call.remote(), e.getMessage());
      metrics.webhookError(WebhookError.BAD_REQUEST);
      return HttpsListener.Answer.text(400, e.getMessage());
    }
  }

  private HttpsListener.Answer review(byte[] body) {
    long start = System.nanoTime();
    PodAdmissionRequest request = AdmissionReviews.parse(body);
    AdmissionDecision decision;
    AdmissionOutcome outcome;
    try {
      decision = admitter.admit(request);
      outcome =
          !decision.allowed()
              ? AdmissionOutcome.DENIED
              : decision.patch() != null ? AdmissionOutcome.PATCHED : AdmissionOutcome.ALLOWED;
    } catch (RuntimeException e) {
      outcome = AdmissionOutcome.ERROR;
      metrics.webhookError(WebhookError.INTERNAL);
      // failurePolicy is Fail: refusing is the safe answer, and saying why helps whoever sees it.
      LOG.error("admission {} of pod {} failed", request.uid(), request.podDescription(), e);
      decision =
          AdmissionDecision.deny(
              "capgate could not decide on pod "
                  + request.podDescription()
                  + ": internal error ("
                  + e.getClass().getSimpleName()
                  + "), see the operator log");
    }
    metrics.admission(outcome, System.nanoTime() - start);
    LOG.debug(
        "admission {} {} pod {} in {} µs: {}",
        request.uid(),
        request.operation(),
        request.podDescription(),
        (System.nanoTime() - start) / 1000,
        decision.allowed() ? "allowed" : "denied");
    return new HttpsListener.Answer(
        200,
        "application/json",
        AdmissionReviews.response(request.uid(), decision),
        decision.afterAnswer());
  }
}
