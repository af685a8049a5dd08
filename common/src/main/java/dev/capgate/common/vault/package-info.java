/**
 * The one Vault HTTP client of Capgate ({@link dev.capgate.common.vault.VaultClient}): the sidecar,
 * the operator and the test kit talk to Vault through it. Replies and exceptions carry the status,
 * never Vault's body nor a token.
 */
package dev.capgate.common.vault;
