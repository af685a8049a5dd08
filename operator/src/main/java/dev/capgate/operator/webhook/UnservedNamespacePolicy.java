package dev.capgate.operator.webhook;

import dev.capgate.operator.naming.PodMarkers;
import io.fabric8.kubernetes.api.model.admissionregistration.v1.ValidatingAdmissionPolicy;
import io.fabric8.kubernetes.api.model.admissionregistration.v1.ValidatingAdmissionPolicyBinding;
import io.fabric8.kubernetes.api.model.admissionregistration.v1.ValidatingAdmissionPolicyBindingBuilder;
import io.fabric8.kubernetes.api.model.admissionregistration.v1.ValidatingAdmissionPolicyBuilder;
import java.util.Map;

/**
 * With {@code watchNamespaces} set, the webhook sees only those namespaces, so a pod opting in
 * anywhere else would start without its sidecar. This policy refuses it — but only in a namespace
 * that <em>no</em> installation serves: every installation labels the namespaces it serves {@code
 * capgate.dev/served-by=<its webhook configuration>} ({@link ServedNamespaces}), and the binding's
 * {@code matchResources.namespaceSelector} keeps only namespaces without that label.
 *
 * <p>Why a label and not the list of names: the policy and its binding are cluster-wide, one per
 * installation. A list of "my namespaces" in installation A's policy refuses installation B's pods
 * (the first attempt did exactly that; MeshPortsIT caught it). The label is the one fact every
 * installation's binding can see, so each binding refuses outside the union of all installations'
 * namespaces, and several installations' bindings say the same thing.
 *
 * <p>An installation without {@code watchNamespaces} serves every namespace but kube-system and its
 * own, labels nothing and renders no such policy; it cannot share a cluster with one that has them
 * (its webhook would inject their namespaces twice, their policies would refuse its pods).
 */
public final class UnservedNamespacePolicy {
  /** The binding's namespace selector: namespaces no installation has labelled as served. */
  public static final String SERVED_BY = "capgate.dev/served-by";

  private UnservedNamespacePolicy() {}

  /** Policy and binding name of the installation whose webhook configuration is named so. */
  public static String name(String webhookConfigurationName) {
    return webhookConfigurationName + "-unserved-namespaces";
  }

  /** Also what the chart renders (validatingadmissionpolicy.yaml; HelmChartIT compares them). */
  public static ValidatingAdmissionPolicy policy(String name) {
    String labelled = WebhookRegistration.injectLabelled();
    return new ValidatingAdmissionPolicyBuilder()
        .withNewMetadata()
        .withName(name)
        .withLabels(Map.of("app.kubernetes.io/managed-by", "capgate"))
        .endMetadata()
        .withNewSpec()
        .withFailurePolicy("Fail")
        .withNewMatchConstraints()
        .addNewResourceRule()
        // CREATE only: the opt-in label cannot be added later (the annotation-only policy).
        .withOperations("CREATE")
        .withApiGroups("")
        .withApiVersions("v1")
        .withResources("pods")
        .endResourceRule()
        .endMatchConstraints()
        .addNewValidation()
        .withExpression("!(" + labelled + ")")
        .withMessageExpression(
            "'no capgate installation serves the namespace ' + request.namespace + ' (none lists"
                + " it in watchNamespaces, or its operator has not labelled it "
                + SERVED_BY
                + " yet): a pod labelled "
                + PodMarkers.INJECT
                + "=true here would run without its sidecar'")
        .withReason("Invalid")
        .endValidation()
        .endSpec()
        .build();
  }

  /** Denies in every namespace without the {@link #SERVED_BY} label, whoever set it. */
  public static ValidatingAdmissionPolicyBinding binding(String name) {
    return new ValidatingAdmissionPolicyBindingBuilder()
        .withNewMetadata()
        .withName(name)
        .withLabels(Map.of("app.kubernetes.io/managed-by", "capgate"))
        .endMetadata()
        .withNewSpec()
        .withPolicyName(name)
        .withValidationActions("Deny")
        .withNewMatchResources()
        .withNewNamespaceSelector()
        .addNewMatchExpression()
        .withKey(SERVED_BY)
        .withOperator("DoesNotExist")
        .endMatchExpression()
        .endNamespaceSelector()
        .endMatchResources()
        .endSpec()
        .build();
  }
}
