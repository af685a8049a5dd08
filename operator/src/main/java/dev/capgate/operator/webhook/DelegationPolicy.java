package dev.capgate.operator.webhook;

import io.fabric8.kubernetes.api.model.admissionregistration.v1.ValidatingAdmissionPolicy;
import io.fabric8.kubernetes.api.model.admissionregistration.v1.ValidatingAdmissionPolicyBinding;
import io.fabric8.kubernetes.api.model.admissionregistration.v1.ValidatingAdmissionPolicyBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.util.Map;

/**
 * Invariant 10: a session names its user, and {@code spec.user} decides whose credentials the
 * session reaches ({@code {{user}}} in Vault paths). Naming someone other than yourself therefore
 * needs a permission, checked by the API server's own authorizer (RBAC, or whatever the cluster
 * uses) in a ValidatingAdmissionPolicy: CEL in the API server, no webhook to be down or bypassed.
 *
 * <p>A CREATE or UPDATE of an AgentSession is allowed when
 *
 * <ul>
 *   <li>{@code spec.user} is the requester's Kubernetes username, verbatim (an OIDC username prefix
 *       is part of it); or
 *   <li>it is an UPDATE that leaves {@code spec.user} as it was (the CRD makes the field immutable
 *       anyway; this keeps status, finalizer and label updates by the operator or by anyone else
 *       free of the check); or
 *   <li>the requester may {@code delegate} on {@code agentsessions.capgate.dev} in the session's
 *       namespace <em>with the user as the resource name</em>. So a Role with {@code resourceNames:
 *       [alice@example.com]} lets a platform start sessions for alice only, and one without
 *       resourceNames lets it start them for anyone (the chart's {@code
 *       <release>-session-delegator} ClusterRole). The name is the user, not the session: the
 *       session's name says nothing about whose secrets it reaches, the user does.
 * </ul>
 *
 * Nobody is exempt by name: the operator's service account or an agent platform's delegates only
 * when bound to such a role. Wildcard roles ({@code verbs: ["*"]}, e.g. cluster-admin) and {@code
 * system:masters} hold {@code delegate} too, as they hold everything else.
 */
public final class DelegationPolicy {
  public static final String NAME = "capgate-session-delegation";
  public static final String VERB = "delegate";

  private DelegationPolicy() {}

  /** Applies the policy and its binding (server-side apply, as the webhook configuration). */
  public static void apply(KubernetesClient client) {
    client
        .admissionRegistration()
        .v1()
        .validatingAdmissionPolicies()
        .resource(policy())
        .forceConflicts()
        .serverSideApply();
    client
        .admissionRegistration()
        .v1()
        .validatingAdmissionPolicyBindings()
        .resource(binding())
        .forceConflicts()
        .serverSideApply();
  }

  /**
   * Also what the chart renders (agentsession-delegation-policy.yaml; HelmChartIT compares them).
   */
  public static ValidatingAdmissionPolicy policy() {
    String delegationAllowed =
        "authorizer.group('capgate.dev').resource('agentsessions').namespace(request.namespace)"
            + ".name(object.spec.user).check('"
            + VERB
            + "').allowed()";
    String expression =
        "object.spec.user == request.userInfo.username"
            + " || (request.operation == 'UPDATE' && oldObject.spec.user == object.spec.user)"
            + " || "
            + delegationAllowed;
    String messageExpression =
        "'user \\'' + request.userInfo.username + '\\' may not name \\'' + object.spec.user"
            + " + '\\' as the spec.user of an AgentSession in namespace ' + request.namespace"
            + " + ': spec.user must be your own username, or you need the verb "
            + VERB
            + " on agentsessions.capgate.dev with resourceName \\'' + object.spec.user + '\\' (or no resourceNames)"
            + " in that namespace, e.g. from the ClusterRole <release>-session-delegator'";
    return new ValidatingAdmissionPolicyBuilder()
        .withNewMetadata()
        .withName(NAME)
        .withLabels(Map.of("app.kubernetes.io/managed-by", "capgate"))
        .endMetadata()
        .withNewSpec()
        .withFailurePolicy("Fail")
        .withNewMatchConstraints()
        .addNewResourceRule()
        .withOperations("CREATE", "UPDATE")
        .withApiGroups("capgate.dev")
        .withApiVersions("*")
        .withResources("agentsessions")
        .endResourceRule()
        .endMatchConstraints()
        .addNewValidation()
        .withExpression(expression)
        .withMessage(
            "spec.user names someone else: that needs the verb "
                + VERB
                + " on agentsessions.capgate.dev"
                + " (resourceName: the user) in the session's namespace")
        .withMessageExpression(messageExpression)
        .withReason("Forbidden")
        .endValidation()
        .endSpec()
        .build();
  }

  public static ValidatingAdmissionPolicyBinding binding() {
    return PolicyBindings.denying(NAME);
  }
}
