package dev.capgate.operator.webhook;

import io.fabric8.kubernetes.api.model.admissionregistration.v1.ValidatingAdmissionPolicyBinding;
import io.fabric8.kubernetes.api.model.admissionregistration.v1.ValidatingAdmissionPolicyBindingBuilder;
import java.util.Map;

/** The bindings of capgate's ValidatingAdmissionPolicies: each policy is bound once, to deny. */
final class PolicyBindings {
  private PolicyBindings() {}

  /** Named as its policy, applying it cluster-wide with the action {@code Deny}. */
  static ValidatingAdmissionPolicyBinding denying(String policyName) {
    return new ValidatingAdmissionPolicyBindingBuilder()
        .withNewMetadata()
        .withName(policyName)
        .withLabels(Map.of("app.kubernetes.io/managed-by", "capgate"))
        .endMetadata()
        .withNewSpec()
        .withPolicyName(policyName)
        .withValidationActions("Deny")
        .endSpec()
        .build();
  }
}
