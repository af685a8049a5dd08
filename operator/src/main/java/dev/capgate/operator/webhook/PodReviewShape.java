package dev.capgate.operator.webhook;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.Set;

/**
 * What every AdmissionReview the API server sends for this webhook's rules looks like (pods, CREATE
 * and UPDATE; pods/ephemeralcontainers, UPDATE). A review of any other shape cannot come from a
 * real pod admission — it is someone posting to {@code /mutate} by hand, probing policy or making
 * the operator write CA objects — so it is refused (HTTP 400) before anything is decided, minted or
 * stored.
 *
 * <p>This does not authenticate the caller: a well-formed forgery passes (the chart's NetworkPolicy
 * keeps pods away, and CAs minted for pods that never appear are deleted after {@code
 * CAPGATE_ORPHANED_CA_GRACE}). It only takes away the cheap shapes, and makes a review that claims
 * one thing (a namespace, a dry run, an operation) and carries another impossible.
 */
final class PodReviewShape {
  private static final Set<String> OPERATIONS = Set.of("CREATE", "UPDATE");

  private PodReviewShape() {}

  /**
   * @throws IllegalArgumentException saying which part no API server would send
   */
  static void check(JsonNode review) {
    require(
        "admission.k8s.io/v1".equals(review.path("apiVersion").asText())
            && "AdmissionReview".equals(review.path("kind").asText()),
        "not an admission.k8s.io/v1 AdmissionReview");
    JsonNode request = review.path("request");
    require(request.isObject(), "the AdmissionReview has no request");
    require(
        request.path("uid").isTextual() && !request.path("uid").asText().isEmpty(),
        "request.uid is missing");
    require(
        is(request.path("kind"), "group", "", "version", "v1", "kind", "Pod"),
        "request.kind is not core/v1 Pod");
    require(
        is(request.path("resource"), "group", "", "version", "v1", "resource", "pods"),
        "request.resource is not core/v1 pods");
    String operation = request.path("operation").asText("");
    String subResource = request.path("subResource").asText("");
    require(OPERATIONS.contains(operation), "request.operation is neither CREATE nor UPDATE");
    require(
        subResource.isEmpty()
            || ("ephemeralcontainers".equals(subResource) && "UPDATE".equals(operation)),
        "request.subResource is not one the webhook is registered for");
    String namespace = request.path("namespace").asText("");
    require(!namespace.isEmpty(), "request.namespace is missing (pods are namespaced)");
    require(
        !request.path("userInfo").path("username").asText("").isEmpty(),
        "request.userInfo.username is missing");

    JsonNode pod = request.path("object");
    require(isPod(pod), "request.object is not a Pod");
    String podNamespace = pod.path("metadata").path("namespace").asText("");
    require(
        podNamespace.isEmpty() || podNamespace.equals(namespace),
        "the pod's namespace differs from request.namespace");
    JsonNode old = request.path("oldObject");
    if ("CREATE".equals(operation)) {
      require(old.isMissingNode() || old.isNull(), "a CREATE carries an oldObject");
    } else {
      require(isPod(old), "an UPDATE carries no oldObject Pod");
      String name = pod.path("metadata").path("name").asText("");
      require(
          !name.isEmpty()
              && name.equals(old.path("metadata").path("name").asText())
              && name.equals(request.path("name").asText()),
          "an UPDATE whose pod names differ");
      String oldNamespace = old.path("metadata").path("namespace").asText("");
      require(
          oldNamespace.isEmpty() || oldNamespace.equals(namespace),
          "the old pod's namespace differs from request.namespace");
    }

    JsonNode dryRun = request.path("dryRun");
    require(dryRun.isMissingNode() || dryRun.isBoolean(), "request.dryRun is not a boolean");
    JsonNode optionsDryRun = request.path("options").path("dryRun");
    if (!optionsDryRun.isMissingNode() && !optionsDryRun.isNull()) {
      boolean optionsSayDryRun = false;
      for (JsonNode value : optionsDryRun) {
        optionsSayDryRun |= "All".equals(value.asText());
      }
      require(
          optionsSayDryRun == dryRun.asBoolean(false),
          "request.dryRun contradicts request.options.dryRun");
    }
  }

  private static boolean isPod(JsonNode object) {
    return object.isObject()
        && object.path("metadata").isObject()
        && (object.path("kind").isMissingNode() || "Pod".equals(object.path("kind").asText()))
        && (object.path("apiVersion").isMissingNode()
            || "v1".equals(object.path("apiVersion").asText()));
  }

  private static boolean is(
      JsonNode gvk, String k1, String v1, String k2, String v2, String k3, String v3) {
    return gvk.isObject()
        && v1.equals(gvk.path(k1).asText(""))
        && v2.equals(gvk.path(k2).asText(null))
        && v3.equals(gvk.path(k3).asText(null));
  }

  private static void require(boolean condition, String problem) {
    if (!condition) {
      throw new IllegalArgumentException(
          "not a pod admission the API server would send: " + problem);
    }
  }
}
