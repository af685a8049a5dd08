package dev.capgate.sidecar.session;

import dev.capgate.sidecar.SidecarConfig;
import dev.capgate.sidecar.vault.CredentialBroker;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;

/**
 * What the session runtime needs, as the webhook hands it to the sidecar (environment names in
 * notes/sidecar-contract.md; each also a {@code --flag}, see {@link SidecarConfig}).
 *
 * @param namespace      {@code CAPGATE_SESSION_NAMESPACE}
 * @param name           {@code CAPGATE_SESSION_NAME}
 * @param vaultAddress   {@code CAPGATE_VAULT_ADDR}; null: no Vault, every credential is unavailable
 * @param vaultCaFile    {@code CAPGATE_VAULT_CA_FILE}: PEM trust for an https Vault; null: the JDK's
 * @param vaultRole      {@code CAPGATE_VAULT_ROLE}; null: no Vault login, as without an address
 * @param vaultAuthMount {@code CAPGATE_VAULT_AUTH_MOUNT}, default {@code kubernetes}
 * @param vaultJwtFile   {@code CAPGATE_VAULT_TOKEN_FILE}: projected token with the Vault audience
 * @param leaseConfigMap {@code CAPGATE_LEASE_CONFIGMAP}, default {@code capgate-leases-<name>}
 * @param apiOutageGrace {@code CAPGATE_API_OUTAGE_GRACE}: how long the last policy holds while the
 *                       API server cannot be reached (default 30 s)
 * @param kvCacheTtl     {@code CAPGATE_KV_CACHE_TTL}: how long a KV v2 value is served (default 30 s)
 * @param vaultTimeout   {@code CAPGATE_VAULT_TIMEOUT}: per Vault request (default 5 s)
 */
public record SessionSettings(String namespace, String name, String vaultAddress, Path vaultCaFile,
    String vaultRole, String vaultAuthMount, Path vaultJwtFile, String leaseConfigMap, Duration apiOutageGrace,
    Duration kvCacheTtl, Duration vaultTimeout) {
  public static final Duration DEFAULT_API_OUTAGE_GRACE = Duration.ofSeconds(30);
  public static final Path DEFAULT_VAULT_JWT_FILE = Path.of("/var/run/secrets/capgate/token/token");
  public static final String LEASE_CONFIGMAP_PREFIX = "capgate-leases-";

  public SessionSettings {
    Objects.requireNonNull(namespace, "namespace");
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(vaultAuthMount, "vaultAuthMount");
    Objects.requireNonNull(vaultJwtFile, "vaultJwtFile");
    Objects.requireNonNull(leaseConfigMap, "leaseConfigMap");
    Objects.requireNonNull(apiOutageGrace, "apiOutageGrace");
    Objects.requireNonNull(kvCacheTtl, "kvCacheTtl");
    Objects.requireNonNull(vaultTimeout, "vaultTimeout");
  }

  /** Defaults for everything but the session and Vault's address and role. */
  public static SessionSettings of(String namespace, String name, String vaultAddress, String vaultRole) {
    return new SessionSettings(namespace, name, vaultAddress, null, vaultRole, "kubernetes", DEFAULT_VAULT_JWT_FILE,
        LEASE_CONFIGMAP_PREFIX + name, DEFAULT_API_OUTAGE_GRACE, CredentialBroker.DEFAULT_KV_CACHE_TTL,
        Duration.ofSeconds(5));
  }

  /** @throws IllegalArgumentException when the session's namespace or name is missing */
  public static SessionSettings from(SidecarConfig config) {
    String namespace = config.get("session-namespace")
        .orElseThrow(() -> new IllegalArgumentException("CAPGATE_SESSION_NAMESPACE (--session-namespace) is required"));
    String name = config.get("session-name")
        .orElseThrow(() -> new IllegalArgumentException("CAPGATE_SESSION_NAME (--session-name) is required"));
    return new SessionSettings(namespace, name,
        config.get("vault-addr").or(() -> config.get("vault-address")).orElse(null),
        config.getPath("vault-ca-file").orElse(null),
        config.get("vault-role").orElse(null),
        config.get("vault-auth-mount", "kubernetes"),
        config.getPath("vault-token-file").orElse(DEFAULT_VAULT_JWT_FILE),
        config.get("lease-configmap", LEASE_CONFIGMAP_PREFIX + name),
        config.getDuration("api-outage-grace", DEFAULT_API_OUTAGE_GRACE),
        config.getDuration("kv-cache-ttl", CredentialBroker.DEFAULT_KV_CACHE_TTL),
        config.getDuration("vault-timeout", Duration.ofSeconds(5)));
  }

  public boolean vaultConfigured() {
    return vaultAddress != null && vaultRole != null;
  }

  public SessionSettings withApiOutageGrace(Duration grace) {
    return new SessionSettings(namespace, name, vaultAddress, vaultCaFile, vaultRole, vaultAuthMount, vaultJwtFile,
        leaseConfigMap, grace, kvCacheTtl, vaultTimeout);
  }

  public SessionSettings withVault(String authMount, Path jwtFile, Duration kvCacheTtl) {
    return new SessionSettings(namespace, name, vaultAddress, vaultCaFile, vaultRole, authMount, jwtFile,
        leaseConfigMap, apiOutageGrace, kvCacheTtl, vaultTimeout);
  }
}
