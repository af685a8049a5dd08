package dev.capgate.sidecar.policy;

/**
 * Which session a sidecar enforces, for attribution in audit lines and for Vault path templates.
 */
public record SessionIdentity(
    String namespace, String name, String user, String agent, String project) {}
