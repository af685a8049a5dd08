package dev.capgate.api.sidecar;

import static dev.capgate.api.sidecar.SidecarContract.*;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Function;

/**
 * What the webhook tells the injected sidecar ({@code capgate-proxy}), as environment variables:
 * the operator writes them with {@link #toEnv}, the sidecar reads them back with {@link #read} (a
 * flag of the same name wins there, see {@link SidecarContract}). One type, so a setting cannot be
 * written under one name and read under another.
 *
 * @param sessionNamespace the AgentSession the pod is bound to; null only in the sidecar's file
 *     mode (no webhook)
 * @param sessionName likewise
 * @param vaultAddress Vault's address, or null (no Vault: every credential is unavailable)
 * @param vaultCaPem PEM of the CA(s) of Vault's TLS certificate, or null (the JDK's roots)
 * @param operatorUrl where the sidecar asks for its Vault token ({@code https://host:port}), or
 *     null
 * @param operatorCaPem the CA of the operator's serving certificate (public), or null
 * @param identityTokenFile the projected identity token ({@link SidecarContract#TOKEN_FILE})
 * @param caDir the per-pod CA and the placeholders ({@link SidecarContract#CA_DIR})
 * @param leaseConfigMap the session's lease ledger ({@link LeaseLedger#configMapName}); null when
 *     there is no session
 * @param ports the sidecar's uid and ports (also given to the init container)
 * @param hostAliasesJson the pod spec's hostAliases as JSON, or null when it has none
 * @param upstreamCaFile extra upstream CAs ({@link SidecarContract#UPSTREAM_CA_FILE}), or null
 * @param adminExposeMetrics true: {@code /metrics} on the admin port for callers outside the pod
 *     ({@link SidecarContract#ENV_ADMIN_EXPOSE_METRICS}); written only when true
 * @param logLevel the sidecar's log level ({@link SidecarContract#ENV_LOG_LEVEL}), or null (INFO;
 *     not written)
 */
public record InjectedSettings(
    String sessionNamespace,
    String sessionName,
    String vaultAddress,
    String vaultCaPem,
    String operatorUrl,
    String operatorCaPem,
    String identityTokenFile,
    String caDir,
    String leaseConfigMap,
    SidecarPorts ports,
    String hostAliasesJson,
    String upstreamCaFile,
    boolean adminExposeMetrics,
    String logLevel) {

  /** One variable: a value, or a downward-API field of the pod ({@code metadata.name}). */
  public record EnvEntry(String name, String value, String fieldPath) {
    static EnvEntry of(String name, String value) {
      return new EnvEntry(name, value, null);
    }

    static EnvEntry field(String name, String fieldPath) {
      return new EnvEntry(name, null, fieldPath);
    }
  }

  public InjectedSettings {
    Objects.requireNonNull(identityTokenFile, "identityTokenFile");
    Objects.requireNonNull(caDir, "caDir");
    Objects.requireNonNull(ports, "ports");
    if ((sessionNamespace == null) != (sessionName == null)) {
      throw new IllegalArgumentException(
          ENV_SESSION_NAMESPACE + " and " + ENV_SESSION_NAME + " go together");
    }
  }

  /**
   * What the webhook injects for a session: the standard token file, CA directory and ports, the
   * session's lease ledger, no host aliases, no extra upstream CA.
   */
  public static InjectedSettings forSession(
      String namespace,
      String name,
      String vaultAddress,
      String vaultCaPem,
      String operatorUrl,
      String operatorCaPem) {
    return new InjectedSettings(
        Objects.requireNonNull(namespace, "namespace"),
        Objects.requireNonNull(name, "name"),
        vaultAddress,
        vaultCaPem,
        operatorUrl,
        operatorCaPem,
        TOKEN_FILE,
        CA_DIR,
        LeaseLedger.configMapName(name),
        SidecarPorts.DEFAULTS,
        null,
        null,
        false,
        null);
  }

  public InjectedSettings withLeaseConfigMap(String name) {
    Copy copy = new Copy(this);
    copy.leaseConfigMap = name;
    return copy.build();
  }

  /** The same, with another uid and ports (the operator's, chart {@code sidecar.ports}). */
  public InjectedSettings withPorts(SidecarPorts other) {
    Copy copy = new Copy(this);
    copy.ports = Objects.requireNonNull(other, "ports");
    return copy.build();
  }

  public InjectedSettings withHostAliases(String json) {
    Copy copy = new Copy(this);
    copy.hostAliasesJson = json;
    return copy.build();
  }

  public InjectedSettings withUpstreamCaFile(String file) {
    Copy copy = new Copy(this);
    copy.upstreamCaFile = file;
    return copy.build();
  }

  /** The same, with {@code /metrics} served outside the pod or not. */
  public InjectedSettings withAdminExposeMetrics(boolean expose) {
    Copy copy = new Copy(this);
    copy.adminExposeMetrics = expose;
    return copy.build();
  }

  /** The same, with the sidecar's log level (null: unset, INFO). */
  public InjectedSettings withLogLevel(String level) {
    Copy copy = new Copy(this);
    copy.logLevel = level;
    return copy.build();
  }

  /**
   * The components the {@code with…} methods change, over the rest of {@code from}: the one place
   * that lists every component in order, so a new one is added here and in no wither.
   */
  private static final class Copy {
    private final InjectedSettings from;
    private String logLevel;
    private String leaseConfigMap;
    private SidecarPorts ports;
    private String hostAliasesJson;
    private String upstreamCaFile;
    private boolean adminExposeMetrics;

    private Copy(InjectedSettings from) {
      this.from = from;
      this.leaseConfigMap = from.leaseConfigMap;
      this.ports = from.ports;
      this.hostAliasesJson = from.hostAliasesJson;
      this.upstreamCaFile = from.upstreamCaFile;
      this.adminExposeMetrics = from.adminExposeMetrics;
      this.logLevel = from.logLevel;
    }

    private InjectedSettings build() {
      return new InjectedSettings(
          from.sessionNamespace,
          from.sessionName,
          from.vaultAddress,
          from.vaultCaPem,
          from.operatorUrl,
          from.operatorCaPem,
          from.identityTokenFile,
          from.caDir,
          leaseConfigMap,
          ports,
          hostAliasesJson,
          upstreamCaFile,
          adminExposeMetrics,
          logLevel);
    }
  }

  /**
   * The variables of {@code capgate-proxy}, in the order the webhook sets them (the pod's golden
   * files depend on it); what is null is left out. The pod's name and uid come from the downward
   * API.
   */
  public List<EnvEntry> toEnv() {
    List<EnvEntry> env = new ArrayList<>();
    if (sessionNamespace != null) {
      env.add(EnvEntry.of(ENV_SESSION_NAMESPACE, sessionNamespace));
      env.add(EnvEntry.of(ENV_SESSION_NAME, sessionName));
    }
    env.add(EnvEntry.field(ENV_POD_NAME, "metadata.name"));
    env.add(EnvEntry.field(ENV_POD_UID, "metadata.uid"));
    optional(env, ENV_VAULT_ADDR, vaultAddress);
    optional(env, ENV_VAULT_CA, vaultCaPem);
    optional(env, ENV_OPERATOR_URL, operatorUrl);
    optional(env, ENV_OPERATOR_CA, operatorCaPem);
    env.add(EnvEntry.of(ENV_IDENTITY_TOKEN_FILE, identityTokenFile));
    env.add(EnvEntry.of(ENV_CA_DIR, caDir));
    optional(env, ENV_LEASE_CONFIGMAP, leaseConfigMap);
    ports.toEnv().forEach((name, value) -> env.add(EnvEntry.of(name, value)));
    optional(env, ENV_HOST_ALIASES, hostAliasesJson);
    optional(env, ENV_UPSTREAM_CA_FILE, upstreamCaFile);
    if (adminExposeMetrics) {
      env.add(EnvEntry.of(ENV_ADMIN_EXPOSE_METRICS, "true"));
    }
    optional(env, ENV_LOG_LEVEL, logLevel);
    return env;
  }

  /** The literal values of {@link #toEnv} (the downward-API ones left out). */
  public Map<String, String> toEnvValues() {
    Map<String, String> values = new java.util.LinkedHashMap<>();
    toEnv().stream().filter(e -> e.value() != null).forEach(e -> values.put(e.name(), e.value()));
    return values;
  }

  /**
   * The settings as the sidecar finds them; defaults for what the webhook always sets (token file,
   * CA directory, ports, the session's lease ledger).
   *
   * @param setting a variable's value by its name, empty when unset or blank
   * @throws IllegalArgumentException naming the variable that is malformed
   */
  public static InjectedSettings read(Function<String, Optional<String>> setting) {
    String namespace = setting.apply(ENV_SESSION_NAMESPACE).orElse(null);
    String name = setting.apply(ENV_SESSION_NAME).orElse(null);
    if ((namespace == null) != (name == null)) {
      throw new IllegalArgumentException(
          (namespace == null ? ENV_SESSION_NAMESPACE : ENV_SESSION_NAME)
              + " (--"
              + flagOf(namespace == null ? ENV_SESSION_NAMESPACE : ENV_SESSION_NAME)
              + ") is required");
    }
    return new InjectedSettings(
        namespace,
        name,
        setting.apply(ENV_VAULT_ADDR).orElse(null),
        setting.apply(ENV_VAULT_CA).orElse(null),
        setting.apply(ENV_OPERATOR_URL).orElse(null),
        setting.apply(ENV_OPERATOR_CA).orElse(null),
        setting.apply(ENV_IDENTITY_TOKEN_FILE).orElse(TOKEN_FILE),
        setting.apply(ENV_CA_DIR).orElse(CA_DIR),
        setting
            .apply(ENV_LEASE_CONFIGMAP)
            .orElse(name == null ? null : LeaseLedger.configMapName(name)),
        SidecarPorts.read(setting),
        setting.apply(ENV_HOST_ALIASES).orElse(null),
        setting.apply(ENV_UPSTREAM_CA_FILE).orElse(null),
        flag(setting, ENV_ADMIN_EXPOSE_METRICS),
        setting.apply(ENV_LOG_LEVEL).orElse(null));
  }

  /** {@code true} or {@code false} (any case); unset is false. */
  private static boolean flag(Function<String, Optional<String>> setting, String env) {
    Optional<String> value = setting.apply(env).map(String::strip);
    if (value.isEmpty()) {
      return false;
    }
    if (value.get().equalsIgnoreCase("true") || value.get().equalsIgnoreCase("false")) {
      return Boolean.parseBoolean(value.get());
    }
    throw new IllegalArgumentException(
        env + " (--" + flagOf(env) + ") must be true or false, got '" + value.get() + "'");
  }

  /** Reads a plain map of variables (blank values count as unset). */
  public static InjectedSettings read(Map<String, String> env) {
    return read(name -> Optional.ofNullable(env.get(name)).filter(v -> !v.isBlank()));
  }

  private static void optional(List<EnvEntry> env, String name, String value) {
    if (value != null) {
      env.add(EnvEntry.of(name, value));
    }
  }

  /** The operator's and Vault's CAs are public, but a full PEM makes unreadable logs. */
  @Override
  public String toString() {
    return "InjectedSettings["
        + sessionNamespace
        + "/"
        + sessionName
        + ", vault="
        + vaultAddress
        + ", operator="
        + operatorUrl
        + ", ledger="
        + leaseConfigMap
        + ", "
        + ports
        + "]";
  }
}
