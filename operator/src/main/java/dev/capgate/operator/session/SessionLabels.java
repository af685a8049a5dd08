package dev.capgate.operator.session;

/** Labels on what the operator creates per session, so its informers watch only those. */
final class SessionLabels {
  static final String COMPONENT = "capgate.dev/component";
  static final String SESSION = dev.capgate.api.v1alpha1.AgentSession.SESSION_LABEL;
  static final String MANAGED_BY = "app.kubernetes.io/managed-by";
  static final String CAPGATE = "capgate";

  static final String SIDECAR_RBAC = "sidecar-rbac";
  static final String LEASE_LEDGER = "lease-ledger";

  /** Informer selectors (annotation values must be constants). */
  static final String SIDECAR_RBAC_SELECTOR = COMPONENT + "=" + SIDECAR_RBAC;

  static final String LEASE_LEDGER_SELECTOR = COMPONENT + "=" + LEASE_LEDGER;
  static final String POD_CA_SELECTOR =
      COMPONENT + "=" + dev.capgate.operator.ca.PodCaObjects.COMPONENT;

  private SessionLabels() {}

  static java.util.Map<String, String> of(String component, String session) {
    return java.util.Map.of(COMPONENT, component, SESSION, session, MANAGED_BY, CAPGATE);
  }
}
