/**
 * The contract between the operator's webhook and the sidecar it injects, in one place both modules
 * compile against: names and paths ({@link SidecarContract}), ports ({@link SidecarPorts}), the
 * settings the webhook writes and the sidecar reads ({@link InjectedSettings}), the lease ledger's
 * name and keys ({@link LeaseLedger}) and the placeholder format ({@link PlaceholderFormat}). See
 * notes/sidecar-contract.md.
 */
package dev.capgate.api.sidecar;
