package dev.capgate.operator.injection;

import com.fasterxml.jackson.databind.JsonNode;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import io.fabric8.zjsonpatch.DiffFlags;
import io.fabric8.zjsonpatch.JsonDiff;
import java.util.EnumSet;

/**
 * The admission patch: the JSON diff (RFC 6902) of the pod before and after injection, never built
 * by hand. Both sides go through the same serializer, so only the injection's changes show. Plain
 * add/remove/replace operations (no move/copy) keep the patch readable in audit logs.
 */
public final class PodPatch {
  private static final KubernetesSerialization SERIALIZATION = new KubernetesSerialization();
  private static final EnumSet<DiffFlags> FLAGS =
      EnumSet.of(
          DiffFlags.OMIT_MOVE_OPERATION,
          DiffFlags.OMIT_COPY_OPERATION,
          DiffFlags.OMIT_VALUE_ON_REMOVE);

  private PodPatch() {}

  public static JsonNode diff(Pod before, Pod after) {
    return JsonDiff.asJson(tree(before), tree(after), FLAGS);
  }

  /**
   * The pod as the serializer writes it, as a tree without the JSON text in between (issue 13: two
   * of these per admission; the text round trip doubled their cost).
   */
  static JsonNode tree(Pod pod) {
    return SERIALIZATION.convertValue(pod, JsonNode.class);
  }
}
