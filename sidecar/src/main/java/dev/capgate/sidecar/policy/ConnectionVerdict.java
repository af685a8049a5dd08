package dev.capgate.sidecar.policy;

/** The decision on a new connection; {@code rule} is null when no rule matched. */
public record ConnectionVerdict(ConnectionAction action, String rule, String reason) {}
