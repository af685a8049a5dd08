package dev.capgate.operator.webhook;

import dev.capgate.operator.naming.PodMarkers;
import io.fabric8.kubernetes.api.model.LabelSelector;
import io.fabric8.kubernetes.api.model.LabelSelectorBuilder;
import io.fabric8.kubernetes.api.model.admissionregistration.v1.MutatingWebhook;
import io.fabric8.kubernetes.api.model.admissionregistration.v1.MutatingWebhookBuilder;
import io.fabric8.kubernetes.api.model.admissionregistration.v1.MutatingWebhookConfiguration;
import io.fabric8.kubernetes.api.model.admissionregistration.v1.MutatingWebhookConfigurationBuilder;
import io.fabric8.kubernetes.api.model.admissionregistration.v1.RuleWithOperationsBuilder;
import io.fabric8.kubernetes.api.model.admissionregistration.v1.ValidatingAdmissionPolicy;
import io.fabric8.kubernetes.api.model.admissionregistration.v1.ValidatingAdmissionPolicyBinding;
import io.fabric8.kubernetes.api.model.admissionregistration.v1.ValidatingAdmissionPolicyBuilder;
import io.fabric8.kubernetes.api.model.admissionregistration.v1.WebhookClientConfig;
import io.fabric8.kubernetes.api.model.admissionregistration.v1.WebhookClientConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps the MutatingWebhookConfiguration right at start: either the whole configuration (when the
 * operator manages it) or only the caBundle of a configuration installed by the chart.
 *
 * <p>The configuration, and why:
 *
 * <ul>
 *   <li>objectSelector {@code capgate.dev/inject=true}: unrelated pods never wait for the webhook
 *       (an annotation cannot be selected on, so opt-in is the label; a ValidatingAdmissionPolicy
 *       refuses pods that carry it as an annotation only);
 *   <li>namespaceSelector leaving out kube-system and the operator's own namespace, so the webhook
 *       can never block the pods that would bring it back, and, with {@code watchNamespaces} set,
 *       keeping only those (an opted-in pod in a namespace no installation serves is refused by
 *       {@link UnservedNamespacePolicy});
 *   <li>{@code failurePolicy: Fail}: an opted-in pod never starts without its sidecar;
 *   <li>{@code sideEffects: NoneOnDryRun}: the CA Secret is created, except on dry runs;
 *   <li>{@code reinvocationPolicy: IfNeeded}: if a later webhook adds containers, they get the
 *       trust settings too (re-invocation of an injected pod changes nothing else, mints no CA);
 *   <li>CREATE of pods; UPDATE of pods (an injected pod's capgate containers, opt-in label, session
 *       and CA markers cannot be changed afterwards: container images are mutable on a running pod;
 *       on UPDATE the objectSelector matches when the old <em>or</em> the new pod carries the
 *       label, so removing it is seen too); UPDATE of pods/ephemeralcontainers (kubectl debug).
 * </ul>
 */
public final class WebhookRegistration {
  private static final Logger LOG = LoggerFactory.getLogger(WebhookRegistration.class);
  public static final String WEBHOOK_NAME = "inject.capgate.dev";
  public static final String APPROVAL_WEBHOOK_NAME = "approvals.capgate.dev";
  public static final int TIMEOUT_SECONDS = 5;

  private final KubernetesClient client;

  public WebhookRegistration(KubernetesClient client) {
    this.client = client;
  }

  /** Where the API server reaches the webhook: a URL, or a Service of the operator's namespace. */
  public record Target(String url, String serviceNamespace, String serviceName, int servicePort) {
    public static Target url(String url) {
      return new Target(url, null, null, 0);
    }

    public static Target service(String namespace, String name, int port) {
      return new Target(null, namespace, name, port);
    }
  }

  /**
   * Creates or replaces the whole configuration, the admission policy that refuses pods opting in
   * by annotation only (see {@link #ANNOTATION_ONLY_POLICY}) and, with {@code watchNamespaces} set,
   * the one refusing opted-in pods in namespaces no installation serves (removed again when the
   * installation serves every namespace: it would refuse pods this webhook injects).
   */
  public MutatingWebhookConfiguration apply(
      String configurationName,
      Target target,
      String caBundlePem,
      String operatorNamespace,
      List<String> watchNamespaces) {
    MutatingWebhookConfiguration desired =
        desired(configurationName, target, caBundlePem, operatorNamespace, watchNamespaces);
    MutatingWebhookConfiguration applied =
        client
            .admissionRegistration()
            .v1()
            .mutatingWebhookConfigurations()
            .resource(desired)
            .forceConflicts()
            .serverSideApply();
    client
        .admissionRegistration()
        .v1()
        .validatingAdmissionPolicies()
        .resource(annotationOnlyPolicy())
        .forceConflicts()
        .serverSideApply();
    client
        .admissionRegistration()
        .v1()
        .validatingAdmissionPolicyBindings()
        .resource(annotationOnlyBinding())
        .forceConflicts()
        .serverSideApply();
    String unserved = UnservedNamespacePolicy.name(configurationName);
    if (watchNamespaces.isEmpty()) {
      client
          .admissionRegistration()
          .v1()
          .validatingAdmissionPolicyBindings()
          .withName(unserved)
          .delete();
      client.admissionRegistration().v1().validatingAdmissionPolicies().withName(unserved).delete();
    } else {
      client
          .admissionRegistration()
          .v1()
          .validatingAdmissionPolicies()
          .resource(UnservedNamespacePolicy.policy(unserved))
          .forceConflicts()
          .serverSideApply();
      client
          .admissionRegistration()
          .v1()
          .validatingAdmissionPolicyBindings()
          .resource(UnservedNamespacePolicy.binding(unserved))
          .forceConflicts()
          .serverSideApply();
    }
    DelegationPolicy.apply(client);
    LOG.info(
        "mutating webhook configuration {} applied ({})",
        configurationName,
        target.url() != null
            ? target.url()
            : target.serviceNamespace() + "/" + target.serviceName());
    return applied;
  }

  /** Sets the caBundle of every webhook of an existing configuration; false if there is none. */
  public boolean patchCaBundle(String configurationName, String caBundlePem) {
    var resource =
        client
            .admissionRegistration()
            .v1()
            .mutatingWebhookConfigurations()
            .withName(configurationName);
    if (resource.get() == null) {
      LOG.error(
          "mutating webhook configuration {} does not exist: opted-in pods will be refused until it does",
          configurationName);
      return false;
    }
    String bundle = base64(caBundlePem);
    resource.edit(
        config -> {
          for (MutatingWebhook webhook : config.getWebhooks()) {
            webhook.getClientConfig().setCaBundle(bundle);
          }
          return config;
        });
    LOG.info("caBundle of mutating webhook configuration {} updated", configurationName);
    return true;
  }

  /**
   * The webhook only sees pods labelled {@code capgate.dev/inject=true}; this policy, evaluated in
   * the API server (CEL, no webhook call, nothing to be down), covers the pods it cannot see:
   *
   * <ul>
   *   <li>a pod created with that key as an annotation only would start without its sidecar,
   *       silently: refused, saying what to add;
   *   <li>a pod carrying Capgate's markers (the session label, the injected status) without the
   *       label was never admitted by the webhook, or is dropping the label to escape it: the
   *       operator would count it as the session's and bind its service account to the sidecars'
   *       Role. Refused, at creation and on every update.
   * </ul>
   */
  public static final String ANNOTATION_ONLY_POLICY = "capgate-inject-label-required";

  public static ValidatingAdmissionPolicy annotationOnlyPolicy() {
    String annotated =
        "has(object.metadata.annotations) && '"
            + PodMarkers.INJECT
            + "' in object.metadata.annotations"
            + " && object.metadata.annotations['"
            + PodMarkers.INJECT
            + "'] == 'true'";
    String labelled = injectLabelled();
    String marked =
        "(has(object.metadata.labels) && '"
            + PodMarkers.SESSION
            + "' in object.metadata.labels)"
            + " || (has(object.metadata.annotations) && '"
            + PodMarkers.STATUS
            + "' in object.metadata.annotations)";
    return new ValidatingAdmissionPolicyBuilder()
        .withNewMetadata()
        .withName(ANNOTATION_ONLY_POLICY)
        .withLabels(Map.of("app.kubernetes.io/managed-by", "capgate"))
        .endMetadata()
        .withNewSpec()
        .withFailurePolicy("Fail")
        .withNewMatchConstraints()
        .addNewResourceRule()
        .withOperations("CREATE", "UPDATE")
        .withApiGroups("")
        .withApiVersions("v1")
        .withResources(POLICY_RESOURCES)
        .endResourceRule()
        .endMatchConstraints()
        .addNewValidation()
        .withExpression(
            "request.operation != 'CREATE' || !(" + annotated + ") || (" + labelled + ")")
        .withMessage(
            "the pod has the annotation "
                + PodMarkers.INJECT
                + "=true but not the label: capgate selects pods"
                + " by the label "
                + PodMarkers.INJECT
                + "=true, so without it the pod would run without its sidecar")
        .withReason("Invalid")
        .endValidation()
        .addNewValidation()
        .withExpression("!(" + marked + ") || (" + labelled + ")")
        .withMessage(
            "the pod carries the label "
                + PodMarkers.SESSION
                + " or the annotation "
                + PodMarkers.STATUS
                + " but not the label "
                + PodMarkers.INJECT
                + "=true: only pods the capgate webhook admits may carry them")
        .withReason("Invalid")
        .endValidation()
        .addAllToValidations(unchangedMarkers())
        .endSpec()
        .build();
  }

  /**
   * The pod and every subresource through which its metadata can change: the status update
   * (kubelet's path) keeps whatever labels and annotations it is sent, and the webhook never sees
   * subresources but ephemeralcontainers. A binding (the scheduler's; {@code pods/binding} or the
   * older {@code bindings}) copies its annotations onto the pod.
   */
  static final List<String> POLICY_RESOURCES =
      List.of(
          "pods",
          "pods/status",
          "pods/ephemeralcontainers",
          "pods/resize",
          "pods/binding",
          "bindings");

  /**
   * Capgate's markers cannot be added, changed or removed by any UPDATE, of the pod or of a
   * subresource, nor brought in by a binding: the operator finds a session's pods and their CAs by
   * them, and the webhook's objectSelector is the opt-in label.
   */
  static List<io.fabric8.kubernetes.api.model.admissionregistration.v1.Validation>
      unchangedMarkers() {
    List<io.fabric8.kubernetes.api.model.admissionregistration.v1.Validation> out =
        new ArrayList<>();
    for (String label : List.of(PodMarkers.INJECT, PodMarkers.SESSION)) {
      out.add(unchanged("labels", "label", label));
    }
    for (String annotation :
        List.of(PodMarkers.SESSION, PodMarkers.STATUS, PodMarkers.CA, PodMarkers.CA_FINGERPRINT)) {
      out.add(unchanged("annotations", "annotation", annotation));
    }
    out.add(
        new io.fabric8.kubernetes.api.model.admissionregistration.v1.ValidationBuilder()
            .withExpression(
                "request.kind.kind != 'Binding' || !has(object.metadata.annotations)"
                    + " || !object.metadata.annotations.exists(k, k.startsWith('capgate.dev/'))")
            .withMessage(
                "a binding cannot set capgate.dev/ annotations on a pod: only the capgate webhook sets them")
            .withReason("Invalid")
            .build());
    return out;
  }

  private static io.fabric8.kubernetes.api.model.admissionregistration.v1.Validation unchanged(
      String field, String noun, String key) {
    String had =
        "(has(oldObject.metadata."
            + field
            + ") && '"
            + key
            + "' in oldObject.metadata."
            + field
            + ")";
    String has =
        "(has(object.metadata." + field + ") && '" + key + "' in object.metadata." + field + ")";
    return new io.fabric8.kubernetes.api.model.admissionregistration.v1.ValidationBuilder()
        .withExpression(
            "request.operation != 'UPDATE' || ("
                + had
                + " == "
                + has
                + " && (!"
                + had
                + " || object.metadata."
                + field
                + "['"
                + key
                + "'] == oldObject.metadata."
                + field
                + "['"
                + key
                + "']))")
        .withMessage(
            "the "
                + noun
                + " "
                + key
                + " of a pod cannot be added, changed or removed after its creation, through"
                + " the pod or any of its subresources: only the capgate webhook sets it")
        .withReason("Invalid")
        .build();
  }

  public static ValidatingAdmissionPolicyBinding annotationOnlyBinding() {
    return PolicyBindings.denying(ANNOTATION_ONLY_POLICY);
  }

  /**
   * The AgentApproval webhook: stamps who asked (CREATE) and who decided (UPDATE of status), and
   * refuses a decision by the asker ({@code approval.ApprovalAdmitter}). The namespaces the
   * injection webhook serves (the sidecars that read approvals are there; with several
   * installations, each stamps its own), no object selector (approvals carry no label to select
   * on), Fail: an unstamped decision must never be stored. Only this kind is matched, so a webhook
   * outage blocks approvals and nothing else.
   */
  static MutatingWebhook approvalWebhook(
      Target target, String caBundlePem, LabelSelector namespaceSelector) {
    WebhookClientConfigBuilder clientConfig =
        new WebhookClientConfigBuilder().withCaBundle(base64(caBundlePem));
    if (target.url() != null) {
      String url = target.url();
      clientConfig.withUrl(
          (url.endsWith(AdmissionServer.PATH)
                  ? url.substring(0, url.length() - AdmissionServer.PATH.length())
                  : url)
              + AdmissionServer.APPROVAL_PATH);
    } else {
      clientConfig
          .withNewService()
          .withNamespace(target.serviceNamespace())
          .withName(target.serviceName())
          .withPort(target.servicePort())
          .withPath(AdmissionServer.APPROVAL_PATH)
          .endService();
    }
    return new MutatingWebhookBuilder()
        .withName(APPROVAL_WEBHOOK_NAME)
        .withClientConfig(clientConfig.build())
        .withRules(
            new RuleWithOperationsBuilder()
                .withOperations("CREATE")
                .withApiGroups("capgate.dev")
                .withApiVersions("v1alpha1")
                .withResources("agentapprovals")
                .withScope("Namespaced")
                .build(),
            new RuleWithOperationsBuilder()
                .withOperations("UPDATE")
                .withApiGroups("capgate.dev")
                .withApiVersions("v1alpha1")
                .withResources("agentapprovals/status")
                .withScope("Namespaced")
                .build())
        .withNamespaceSelector(namespaceSelector)
        .withFailurePolicy("Fail")
        .withMatchPolicy("Equivalent")
        .withSideEffects("None")
        .withTimeoutSeconds(TIMEOUT_SECONDS)
        .withReinvocationPolicy("Never")
        .withAdmissionReviewVersions("v1")
        .build();
  }

  /** The whole configuration; also what the Helm chart renders (HelmChartIT compares them). */
  public static MutatingWebhookConfiguration desired(
      String configurationName,
      Target target,
      String caBundlePem,
      String operatorNamespace,
      List<String> watchNamespaces) {
    WebhookClientConfigBuilder clientConfig =
        new WebhookClientConfigBuilder().withCaBundle(base64(caBundlePem));
    if (target.url() != null) {
      clientConfig.withUrl(target.url());
    } else {
      clientConfig
          .withNewService()
          .withNamespace(target.serviceNamespace())
          .withName(target.serviceName())
          .withPort(target.servicePort())
          .withPath(AdmissionServer.PATH)
          .endService();
    }
    WebhookClientConfig config = clientConfig.build();
    List<String> protectedNamespaces = new ArrayList<>(List.of("kube-system"));
    if (operatorNamespace != null && !protectedNamespaces.contains(operatorNamespace)) {
      protectedNamespaces.add(operatorNamespace);
    }
    MutatingWebhook webhook =
        new MutatingWebhookBuilder()
            .withName(WEBHOOK_NAME)
            .withClientConfig(config)
            .withRules(
                new RuleWithOperationsBuilder()
                    .withOperations("CREATE", "UPDATE")
                    .withApiGroups("")
                    .withApiVersions("v1")
                    .withResources("pods")
                    .withScope("Namespaced")
                    .build(),
                new RuleWithOperationsBuilder()
                    .withOperations("UPDATE")
                    .withApiGroups("")
                    .withApiVersions("v1")
                    .withResources("pods/ephemeralcontainers")
                    .withScope("Namespaced")
                    .build())
            .withObjectSelector(
                new LabelSelectorBuilder()
                    .withMatchLabels(Map.of(PodMarkers.INJECT, "true"))
                    .build())
            .withNamespaceSelector(namespaceSelector(protectedNamespaces, watchNamespaces))
            .withFailurePolicy("Fail")
            .withMatchPolicy("Equivalent")
            .withSideEffects("NoneOnDryRun")
            .withTimeoutSeconds(TIMEOUT_SECONDS)
            .withReinvocationPolicy("IfNeeded")
            .withAdmissionReviewVersions("v1")
            .build();
    return new MutatingWebhookConfigurationBuilder()
        .withNewMetadata()
        .withName(configurationName)
        .withLabels(Map.of("app.kubernetes.io/managed-by", "capgate"))
        .endMetadata()
        .withWebhooks(
            webhook,
            approvalWebhook(
                target, caBundlePem, namespaceSelector(protectedNamespaces, watchNamespaces)))
        .build();
  }

  /** Never kube-system nor the operator's own; with {@code watchNamespaces}, only those. */
  private static LabelSelector namespaceSelector(
      List<String> protectedNamespaces, List<String> watchNamespaces) {
    LabelSelectorBuilder selector =
        new LabelSelectorBuilder()
            .addNewMatchExpression()
            .withKey("kubernetes.io/metadata.name")
            .withOperator("NotIn")
            .withValues(protectedNamespaces)
            .endMatchExpression();
    if (!watchNamespaces.isEmpty()) {
      selector
          .addNewMatchExpression()
          .withKey("kubernetes.io/metadata.name")
          .withOperator("In")
          .withValues(watchNamespaces)
          .endMatchExpression();
    }
    return selector.build();
  }

  private static String base64(String pem) {
    return Base64.getEncoder().encodeToString(pem.getBytes(StandardCharsets.UTF_8));
  }

  /**
   * CEL: the object carries the opt-in label {@code capgate.dev/inject=true} (the label the
   * webhook's selector sees), shared by this installation's policies.
   */
  static String injectLabelled() {
    return "has(object.metadata.labels) && '"
        + PodMarkers.INJECT
        + "' in object.metadata.labels"
        + " && object.metadata.labels['"
        + PodMarkers.INJECT
        + "'] == 'true'";
  }
}
