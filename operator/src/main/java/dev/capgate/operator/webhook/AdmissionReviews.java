package dev.capgate.operator.webhook;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.capgate.operator.injection.AdmissionDecision;
import dev.capgate.operator.injection.PodAdmissionRequest;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.UUID;

/**
 * admission.k8s.io/v1 AdmissionReview in and out; nothing else. Public only for {@link
 * #podRequest}: the AOT training run and the tests post the AdmissionReview the API server would
 * send, and one builder keeps them from drifting apart.
 */
public final class AdmissionReviews {
  private static final ObjectMapper MAPPER = new ObjectMapper();
  private static final KubernetesSerialization SERIALIZATION = new KubernetesSerialization();

  private AdmissionReviews() {}

  /**
   * @throws IllegalArgumentException when the body is not an AdmissionReview the API server would
   *     send for a pod admission ({@link PodReviewShape})
   */
  static PodAdmissionRequest parse(byte[] body) {
    JsonNode review;
    try {
      review = MAPPER.readTree(body);
    } catch (IOException e) {
      throw new IllegalArgumentException("not JSON: " + e.getMessage());
    }
    if (review == null || !review.isObject()) {
      throw new IllegalArgumentException("not an AdmissionReview");
    }
    PodReviewShape.check(review);
    JsonNode request = review.get("request");
    String subResource = request.path("subResource").asText("");
    return new PodAdmissionRequest(
        request.get("uid").asText(),
        request.path("operation").asText(""),
        subResource.isEmpty() ? null : subResource,
        request.path("namespace").asText(""),
        request.path("dryRun").asBoolean(false),
        pod(request.get("object")),
        pod(request.get("oldObject")));
  }

  private static Pod pod(JsonNode object) {
    return object == null || object.isNull() || !"Pod".equals(object.path("kind").asText("Pod"))
        ? null
        : SERIALIZATION.convertValue(object, Pod.class);
  }

  /** Reads the uid only, to answer even a request that could not be parsed otherwise. */
  static String uidOf(byte[] body) {
    try {
      return MAPPER.readTree(body).path("request").path("uid").asText("");
    } catch (IOException | RuntimeException e) {
      return "";
    }
  }

  /**
   * The AdmissionReview the API server sends for {@code operation} (CREATE, UPDATE) of {@code pod}
   * in {@code namespace}, with a fresh uid; {@code subResource} and {@code oldPod} may be null.
   */
  public static ObjectNode podRequest(
      String operation, String subResource, String namespace, Pod pod, Pod oldPod) {
    ObjectNode review =
        MAPPER
            .createObjectNode()
            .put("apiVersion", "admission.k8s.io/v1")
            .put("kind", "AdmissionReview");
    ObjectNode request = review.putObject("request");
    request.put("uid", UUID.randomUUID().toString());
    request.putObject("kind").put("group", "").put("version", "v1").put("kind", "Pod");
    request.putObject("resource").put("group", "").put("version", "v1").put("resource", "pods");
    if (subResource != null) {
      request.put("subResource", subResource);
    }
    request.put("name", pod.getMetadata().getName());
    request.put("namespace", namespace);
    request.put("operation", operation);
    request.putObject("userInfo").put("username", "system:admin");
    request.set("object", tree(pod));
    if (oldPod != null) {
      request.set("oldObject", tree(oldPod));
    }
    String options = "CREATE".equals(operation) ? "CreateOptions" : "UpdateOptions";
    request.putObject("options").put("kind", options).put("apiVersion", "meta.k8s.io/v1");
    request.put("dryRun", false);
    return review;
  }

  private static JsonNode tree(Pod pod) {
    try {
      return MAPPER.readTree(SERIALIZATION.asJson(pod));
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  static byte[] response(String uid, AdmissionDecision decision) {
    ObjectNode review = MAPPER.createObjectNode();
    review.put("apiVersion", "admission.k8s.io/v1");
    review.put("kind", "AdmissionReview");
    ObjectNode response = review.putObject("response");
    response.put("uid", uid);
    response.put("allowed", decision.allowed());
    if (decision.patch() != null) {
      response.put("patchType", "JSONPatch");
      response.put(
          "patch",
          Base64.getEncoder()
              .encodeToString(decision.patch().toString().getBytes(StandardCharsets.UTF_8)));
    }
    if (!decision.warnings().isEmpty()) {
      var warnings = response.putArray("warnings");
      decision.warnings().forEach(warnings::add);
    }
    if (!decision.allowed()) {
      ObjectNode status = response.putObject("status");
      status.put("code", 403);
      status.put("reason", "Forbidden");
      status.put("message", decision.message());
    }
    return review.toString().getBytes(StandardCharsets.UTF_8);
  }
}
