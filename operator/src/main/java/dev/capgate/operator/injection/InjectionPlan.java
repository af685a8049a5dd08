package dev.capgate.operator.injection;

/**
 * Everything about one pod's injection that is not in the operator's configuration: which session,
 * which CA. Decided by {@link PodAdmitter}; applied by {@link PodInjector}.
 *
 * @param namespace the pod's (and session's) namespace
 * @param session the AgentSession name
 * @param caName name of the CA Secret and ConfigMap ({@code capgate-ca-<random>})
 * @param caFingerprint {@code sha256:<hex>} of the CA certificate
 * @param leaseConfigMap where the sidecars record Vault leases ({@code capgate-leases-<session>})
 * @param placeholders the credential placeholders set in agent containers (may be empty)
 */
public record InjectionPlan(
    String namespace,
    String session,
    String caName,
    String caFingerprint,
    String leaseConfigMap,
    java.util.List<CredentialPlaceholder> placeholders) {

  public InjectionPlan {
    placeholders = placeholders == null ? java.util.List.of() : java.util.List.copyOf(placeholders);
  }
}
