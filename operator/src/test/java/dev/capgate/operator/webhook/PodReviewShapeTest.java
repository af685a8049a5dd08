package dev.capgate.operator.webhook;

import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

/**
 * The shapes the API server sends pass (ForgedAdmissionIT and the admission ITs prove it on the
 * real one for CREATE, dry runs, UPDATE and ephemeral containers); a few that only a hand-made
 * review has do not. The refusals are attacked end to end in ForgedAdmissionIT.
 */
class PodReviewShapeTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  @Test
  void whatTheApiServerSendsPasses() {
    assertThatCode(() -> PodReviewShape.check(review(r -> {}))).doesNotThrowAnyException();
    assertThatCode(
            () ->
                PodReviewShape.check(
                    review(
                        r -> {
                          r.put("dryRun", true);
                          ((ObjectNode) r.get("options")).putArray("dryRun").add("All");
                        })))
        .doesNotThrowAnyException();
    assertThatCode(() -> PodReviewShape.check(review(PodReviewShapeTest::update)))
        .doesNotThrowAnyException();
    assertThatCode(
            () ->
                PodReviewShape.check(
                    review(
                        r -> {
                          update(r);
                          r.put("subResource", "ephemeralcontainers");
                          ((ObjectNode) r.get("options")).put("kind", "PatchOptions");
                        })))
        .doesNotThrowAnyException();
    // A generateName pod has no name yet at CREATE, nor a namespace in some clients' bodies.
    assertThatCode(
            () ->
                PodReviewShape.check(
                    review(
                        r -> {
                          r.put("name", "");
                          ObjectNode meta = (ObjectNode) r.get("object").get("metadata");
                          meta.remove("name");
                          meta.remove("namespace");
                          meta.put("generateName", "job-");
                        })))
        .doesNotThrowAnyException();
  }

  @Test
  void anUpdateOfAnotherPodThanTheOldOneIsRefused() {
    assertThatThrownBy(
            () ->
                PodReviewShape.check(
                    review(
                        r -> {
                          update(r);
                          ((ObjectNode) r.get("oldObject").get("metadata"))
                              .put("name", "someone-else");
                        })))
        .hasMessageContaining("an UPDATE whose pod names differ");
    assertThatThrownBy(
            () ->
                PodReviewShape.check(
                    review(
                        r -> {
                          update(r);
                          ((ObjectNode) r.get("oldObject").get("metadata"))
                              .put("namespace", "kube-system");
                        })))
        .hasMessageContaining("the old pod's namespace differs from request.namespace");
    assertThatThrownBy(
            () -> PodReviewShape.check(review(r -> r.put("subResource", "ephemeralcontainers"))))
        .hasMessageContaining("request.subResource");
  }

  private static void update(ObjectNode request) {
    request.put("operation", "UPDATE");
    request.set("oldObject", request.get("object").deepCopy());
    ((ObjectNode) request.get("options")).put("kind", "UpdateOptions");
  }

  private static ObjectNode review(Consumer<ObjectNode> change) {
    ObjectNode review =
        JSON.createObjectNode()
            .put("apiVersion", "admission.k8s.io/v1")
            .put("kind", "AdmissionReview");
    ObjectNode request = review.putObject("request");
    request.put("uid", "705ab4f5-6393-11e8-b7cc-42010a800002");
    request.putObject("kind").put("group", "").put("version", "v1").put("kind", "Pod");
    request.putObject("resource").put("group", "").put("version", "v1").put("resource", "pods");
    request.putObject("requestKind").put("group", "").put("version", "v1").put("kind", "Pod");
    request.put("name", "agent");
    request.put("namespace", "agents");
    request.put("operation", "CREATE");
    request
        .putObject("userInfo")
        .put("username", "alice@example.com")
        .putArray("groups")
        .add("system:authenticated");
    ObjectNode pod = request.putObject("object").put("apiVersion", "v1").put("kind", "Pod");
    pod.putObject("metadata").put("name", "agent").put("namespace", "agents");
    pod.putObject("spec")
        .putArray("containers")
        .addObject()
        .put("name", "agent")
        .put("image", "agent:1");
    request.putObject("options").put("apiVersion", "meta.k8s.io/v1").put("kind", "CreateOptions");
    request.put("dryRun", false);
    change.accept(request);
    return review;
  }
}
