package dev.capgate.operator;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import io.javaoperatorsdk.operator.api.config.Cloner;

/**
 * JOSDK's copy of the resource it hands to a reconcile: a deep copy through the serializer's token
 * buffer (no JSON text written and parsed again, as {@code KubernetesSerialization.clone} does).
 */
final class TokenBufferCloner implements Cloner {
  private final KubernetesSerialization serialization;

  TokenBufferCloner(KubernetesSerialization serialization) {
    this.serialization = serialization;
  }

  @Override
  @SuppressWarnings("unchecked")
  public <R extends HasMetadata> R clone(R object) {
    return serialization.convertValue(object, (Class<R>) object.getClass());
  }
}
