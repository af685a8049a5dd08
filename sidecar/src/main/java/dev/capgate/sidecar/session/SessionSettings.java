package dev.capgate.sidecar.session;

import dev.capgate.api.sidecar.InjectedSettings;
import dev.capgate.api.sidecar.LeaseLedger;
import dev.capgate.api.sidecar.SidecarContract;
import dev.capgate.sidecar.config.SidecarConfig;
import dev.capgate.sidecar.vault.CredentialBroker;
import dev.capgate.sidecar.vault.VaultTrust;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;

/**
 * What the session runtime needs: what the webhook hands the sidecar ({@link InjectedSettings}, the
 * one type both sides use; each variable also a {@code --flag}, see {@link SidecarConfig}) and the
 * sidecar's own settings.
 *
 * @param namespace {@code CAPGATE_SESSION_NAMESPACE}
 * @param name {@code CAPGATE_SESSION_NAME}
 * @param vaultAddress {@code CAPGATE_VAULT_ADDR}; null: no Vault, every credential is unavailable
 * @param vaultCaPem {@code CAPGATE_VAULT_CA}: PEM text of Vault's CA(s), injected by the webhook
 *     from the chart's {@code vault.caCert}; the only CAs trusted for Vault when set
 * @param vaultCaFile {@code CAPGATE_VAULT_CA_FILE}: the same in a file (a developer's flag); not
 *     together with {@code vaultCaPem}; both null: the JDK's roots
 * @param operatorUrl {@code CAPGATE_OPERATOR_URL}: where the sidecar asks for its session's Vault
 *     token ({@code https://...}); null: no Vault login, as without an address
 * @param operatorCa {@code CAPGATE_OPERATOR_CA}: PEM text of the CA of the operator's serving
 *     certificate, the only CA trusted for that connection (a public certificate)
 * @param identityTokenFile {@code CAPGATE_IDENTITY_TOKEN_FILE}: the projected, pod-bound
 *     service-account token with the audience {@code capgate}, presented to the operator
 * @param leaseConfigMap {@code CAPGATE_LEASE_CONFIGMAP}, default {@link LeaseLedger#configMapName}
 * @param apiOutageGrace {@code CAPGATE_API_OUTAGE_GRACE}: how long the last policy holds while the
 *     API server cannot be reached (default 30 s)
 * @param kvCacheTtl {@code CAPGATE_KV_CACHE_TTL}: how long a KV v2 value is served (default 30 s)
 * @param vaultTimeout {@code CAPGATE_VAULT_TIMEOUT}: per Vault request (default 5 s; twice that for
 *     the operator, which reviews the token and logs in at Vault in one call)
 */
public record SessionSettings(
    String namespace,
    String name,
    String vaultAddress,
    String vaultCaPem,
    Path vaultCaFile,
    String operatorUrl,
    String operatorCa,
    Path identityTokenFile,
    String leaseConfigMap,
    Duration apiOutageGrace,
    Duration kvCacheTtl,
    Duration vaultTimeout) {
  public static final Duration DEFAULT_API_OUTAGE_GRACE = Duration.ofSeconds(30);
  public static final Path DEFAULT_IDENTITY_TOKEN_FILE = Path.of(SidecarContract.TOKEN_FILE);

  public SessionSettings {
    Objects.requireNonNull(namespace, "namespace");
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(identityTokenFile, "identityTokenFile");
    Objects.requireNonNull(leaseConfigMap, "leaseConfigMap");
    Objects.requireNonNull(apiOutageGrace, "apiOutageGrace");
    Objects.requireNonNull(kvCacheTtl, "kvCacheTtl");
    Objects.requireNonNull(vaultTimeout, "vaultTimeout");
    VaultTrust.requireOne(vaultCaPem, vaultCaFile);
    if (operatorUrl != null && (operatorCa == null || operatorCa.isBlank())) {
      // Without it the JDK's public CAs would do, and the identity token could go to anyone with a
      // public certificate for that name.
      throw new IllegalArgumentException(
          "CAPGATE_OPERATOR_CA (--operator-ca) is required with CAPGATE_OPERATOR_URL:"
              + " the PEM of the CA that issued the operator's serving certificate");
    }
  }

  /** A session without Vault; defaults for everything else. */
  public static SessionSettings of(String namespace, String name) {
    return new SessionSettings(
        namespace,
        name,
        null,
        null,
        null,
        null,
        null,
        DEFAULT_IDENTITY_TOKEN_FILE,
        LeaseLedger.configMapName(name),
        DEFAULT_API_OUTAGE_GRACE,
        CredentialBroker.DEFAULT_KV_CACHE_TTL,
        Duration.ofSeconds(5));
  }

  /**
   * What the webhook wrote ({@link InjectedSettings#read}, a flag of the same name winning), and
   * the sidecar's own settings.
   *
   * @throws IllegalArgumentException when the session's namespace or name is missing, or a setting
   *     is malformed
   */
  public static SessionSettings from(SidecarConfig config) {
    InjectedSettings injected = InjectedSettings.read(config::setting);
    if (injected.sessionNamespace() == null) {
      throw new IllegalArgumentException(
          SidecarContract.ENV_SESSION_NAMESPACE + " (--session-namespace) is required");
    }
    return new SessionSettings(
        injected.sessionNamespace(),
        injected.sessionName(),
        Optional.ofNullable(injected.vaultAddress())
            .or(() -> config.get("vault-address"))
            .orElse(null),
        injected.vaultCaPem(),
        config.getPath("vault-ca-file").orElse(null),
        injected.operatorUrl(),
        injected.operatorCaPem(),
        Path.of(injected.identityTokenFile()),
        injected.leaseConfigMap(),
        config.getDuration("api-outage-grace", DEFAULT_API_OUTAGE_GRACE),
        config.getDuration("kv-cache-ttl", CredentialBroker.DEFAULT_KV_CACHE_TTL),
        config.getDuration("vault-timeout", Duration.ofSeconds(5)));
  }

  /**
   * Vault's address and the operator that hands out the session's token: credentials can be
   * fetched.
   */
  public boolean vaultConfigured() {
    return vaultAddress != null && operatorUrl != null;
  }

  public SessionSettings withApiOutageGrace(Duration grace) {
    return new SessionSettings(
        namespace,
        name,
        vaultAddress,
        vaultCaPem,
        vaultCaFile,
        operatorUrl,
        operatorCa,
        identityTokenFile,
        leaseConfigMap,
        grace,
        kvCacheTtl,
        vaultTimeout);
  }

  public SessionSettings withVault(
      String vaultAddress,
      String operatorUrl,
      String operatorCa,
      Path identityTokenFile,
      Duration kvCacheTtl) {
    return new SessionSettings(
        namespace,
        name,
        vaultAddress,
        vaultCaPem,
        vaultCaFile,
        operatorUrl,
        operatorCa,
        identityTokenFile,
        leaseConfigMap,
        apiOutageGrace,
        kvCacheTtl,
        vaultTimeout);
  }

  @Override
  public String toString() {
    return "SessionSettings["
        + namespace
        + "/"
        + name
        + ", vault="
        + vaultAddress
        + ", operator="
        + operatorUrl
        + ", identityTokenFile="
        + identityTokenFile
        + "]";
  }
}
