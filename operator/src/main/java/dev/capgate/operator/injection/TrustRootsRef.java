package dev.capgate.operator.injection;

/**
 * Which shared system roots injected pods use: the ConfigMap (in the pod's namespace) their
 * capgate-init mounts, and the hex SHA-256 of its {@code roots.pem} that capgate-init insists on.
 */
public record TrustRootsRef(String configMapName, String sha256) {}
