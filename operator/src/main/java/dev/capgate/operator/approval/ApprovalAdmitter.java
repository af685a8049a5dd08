package dev.capgate.operator.approval;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.capgate.api.v1alpha1.ApprovalDecision;
import dev.capgate.operator.injection.AdmissionDecision;
import java.time.Clock;
import java.time.temporal.ChronoUnit;

/**
 * Who created and who decided an {@code AgentApproval}, as the API server authenticated them: the
 * only trustworthy source, since anyone who may write the object may write any text into it.
 *
 * <ul>
 *   <li>CREATE: {@code spec.requestedBy} is set to the creator's user name (a sidecar: its pod's
 *       service account); a creator holding a pod-bound token may only describe its own pod.
 *   <li>UPDATE of {@code status}: {@code decidedBy} and {@code decidedAt} are stamped. The creator,
 *       and any token bound to the held request's pod, may only write {@code Expired} (the sidecar
 *       giving up), never {@code Approved} or {@code Rejected}: an agent cannot approve itself even
 *       if its sidecar were subverted. A decided approval stays decided (the CRD's CEL says so too;
 *       this refuses it with a clearer message, before the API server would).
 * </ul>
 *
 * <p>Everything else (an UPDATE of the main resource: spec is immutable by CEL, status is ignored
 * there) is allowed unchanged.
 */
public final class ApprovalAdmitter {
  /** The UserInfo extra key the API server sets for a pod-bound service-account token. */
  static final String POD_NAME_EXTRA = "authentication.kubernetes.io/pod-name";

  private final Clock clock;

  public ApprovalAdmitter(Clock clock) {
    this.clock = clock;
  }

  /** {@code request} is an AdmissionReview's {@code request}. */
  public AdmissionDecision admit(JsonNode request) {
    String operation = request.path("operation").asText("");
    String subResource = request.path("subResource").asText("");
    JsonNode user = request.path("userInfo");
    String username = user.path("username").asText("");
    if (username.isEmpty()) {
      return AdmissionDecision.deny("capgate: an approval write without an authenticated user");
    }
    JsonNode object = request.path("object");
    if ("CREATE".equals(operation) && subResource.isEmpty()) {
      return create(object, user, username);
    }
    if ("UPDATE".equals(operation) && "status".equals(subResource)) {
      return decide(object, request.path("oldObject"), user, username);
    }
    return AdmissionDecision.allow();
  }

  private AdmissionDecision create(JsonNode object, JsonNode user, String username) {
    String boundPod = boundPod(user);
    String pod = object.path("spec").path("pod").asText("");
    if (boundPod != null && !boundPod.equals(pod)) {
      return AdmissionDecision.deny(
          "capgate: pod " + boundPod + " may only ask approval for its own requests");
    }
    ArrayNode patch = JsonNodeFactory.instance.arrayNode();
    patch.addObject().put("op", "add").put("path", "/spec/requestedBy").put("value", username);
    if (object.has("status")) {
      patch.addObject().put("op", "remove").put("path", "/status");
    }
    return AdmissionDecision.allow(patch);
  }

  private AdmissionDecision decide(
      JsonNode object, JsonNode oldObject, JsonNode user, String username) {
    JsonNode oldDecision = oldObject.path("status").path("decision");
    JsonNode status = object.path("status");
    JsonNode decision = status.path("decision");
    if (!oldDecision.isMissingNode() && !oldDecision.isNull()) {
      return status.equals(oldObject.path("status"))
          ? AdmissionDecision.allow()
          : AdmissionDecision.deny(
              "capgate: approval already decided ("
                  + oldDecision.asText()
                  + "): a decision cannot change");
    }
    if (decision.isMissingNode() || decision.isNull()) {
      return AdmissionDecision.deny("capgate: status without a decision; nothing to record");
    }
    boolean personal =
        ApprovalDecision.APPROVED.wire().equals(decision.asText())
            || ApprovalDecision.REJECTED.wire().equals(decision.asText());
    if (personal && isTheRequester(oldObject, user, username)) {
      return AdmissionDecision.deny(
          "capgate: "
              + username
              + " asked for this approval (the session's own pod identity) and cannot decide it;"
              + " a person with patch on agentapprovals/status must");
    }
    ObjectNode stamped = ((ObjectNode) status).deepCopy();
    stamped.put("decidedBy", username);
    stamped.put("decidedAt", clock.instant().truncatedTo(ChronoUnit.SECONDS).toString());
    ArrayNode patch = JsonNodeFactory.instance.arrayNode();
    patch.addObject().put("op", "replace").put("path", "/status").set("value", stamped);
    return AdmissionDecision.allow(patch);
  }

  /** The creator (stamped at CREATE), or any token bound to the held request's pod. */
  private static boolean isTheRequester(JsonNode approval, JsonNode user, String username) {
    JsonNode spec = approval.path("spec");
    if (username.equals(spec.path("requestedBy").asText(null))) {
      return true;
    }
    String boundPod = boundPod(user);
    return boundPod != null && boundPod.equals(spec.path("pod").asText(""));
  }

  private static String boundPod(JsonNode user) {
    JsonNode names = user.path("extra").path(POD_NAME_EXTRA);
    return names.isArray() && names.size() == 1 ? names.get(0).asText() : null;
  }
}
