package dev.capgate.e2e;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Where the end-to-end stack is: the {@code stack.env} file that {@code e2e/stack/stack-up.sh} (or
 * {@code e2e/kind/up.sh}) writes. Its path comes from the system property {@code capgate.e2e.stack}
 * or the variable {@code CAPGATE_E2E_STACK} (default {@code /var/lib/capgate-e2e/stack/stack.env});
 * the kubeconfig from the system property {@code kubeconfig}, else {@code KUBECONFIG} in the
 * environment, else the file's. So one suite serves the local node and a Kind cluster.
 */
public final class Stack {
  private static Stack instance;
  private final Map<String, String> values;

  private Stack(Map<String, String> values) {
    this.values = values;
  }

  public static synchronized Stack get() {
    if (instance == null) {
      String file =
          System.getProperty(
              "capgate.e2e.stack",
              System.getenv()
                  .getOrDefault("CAPGATE_E2E_STACK", "/var/lib/capgate-e2e/stack/stack.env"));
      Path path = Path.of(file);
      if (!Files.isReadable(path)) {
        throw new IllegalStateException(
            path + " not found: the end-to-end stack is not up (make e2e-up, or make e2e)");
      }
      instance = new Stack(parse(path));
    }
    return instance;
  }

  static Map<String, String> parse(Path file) {
    Map<String, String> values = new LinkedHashMap<>();
    try {
      for (String line : Files.readAllLines(file)) {
        String l = line.strip();
        int eq = l.indexOf('=');
        if (l.isEmpty() || l.startsWith("#") || eq < 1) {
          continue;
        }
        String value = l.substring(eq + 1);
        if (value.length() >= 2 && value.startsWith("\"") && value.endsWith("\"")) {
          value = value.substring(1, value.length() - 1);
        }
        values.put(l.substring(0, eq), value);
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return values;
  }

  public String value(String key) {
    String v = values.get(key);
    if (v == null || v.isBlank()) {
      throw new IllegalStateException("stack.env has no " + key);
    }
    return v;
  }

  public String valueOr(String key, String fallback) {
    String v = values.get(key);
    return v == null || v.isBlank() ? fallback : v;
  }

  public String kubeconfig() {
    String fromProperty = System.getProperty("kubeconfig");
    if (fromProperty != null && !fromProperty.isBlank()) {
      return fromProperty;
    }
    String fromEnv = System.getenv("KUBECONFIG");
    return fromEnv != null && !fromEnv.isBlank() ? fromEnv : value("KUBECONFIG");
  }

  public String kubectl() {
    return valueOr("CAPGATE_E2E_KUBECTL", "kubectl");
  }

  /**
   * The ClusterIP (or address) that github.test, api.github.test, internal.test, mcp.test resolve
   * to.
   */
  public String upstreamIp() {
    return value("CAPGATE_E2E_UPSTREAM_IP");
  }

  public String upstreamCaPem() {
    return read(Path.of(value("CAPGATE_E2E_UPSTREAM_CA")));
  }

  public String upstreamCaConfigMap() {
    return valueOr("CAPGATE_E2E_UPSTREAM_CA_CONFIGMAP", "capgate-upstream-ca");
  }

  public String nodeIp() {
    return value("CAPGATE_E2E_NODE_IP");
  }

  /** Vault as the cluster's pods see it, e.g. https://192.0.2.2:18200 (the local stack's TLS). */
  public String vaultAddress() {
    return value("CAPGATE_E2E_VAULT_ADDR");
  }

  /**
   * PEM of the private CA of OpenBao's TLS certificate (the local stack serves https with it; the
   * chart's vault.caCert), or null when the stack's Vault is plain http.
   */
  public String vaultCaPem() {
    String file = valueOr("CAPGATE_E2E_VAULT_CA", "");
    return file.isBlank() ? null : read(Path.of(file));
  }

  public String vaultRole() {
    return valueOr("CAPGATE_E2E_VAULT_ROLE", "capgate-agent");
  }

  public String agentServiceAccount() {
    return valueOr("CAPGATE_E2E_AGENT_SERVICE_ACCOUNT", "agent");
  }

  public String systemNamespace() {
    return valueOr("CAPGATE_E2E_SYSTEM_NAMESPACE", "capgate-system");
  }

  public String oidcRole() {
    return valueOr("CAPGATE_E2E_OIDC_ROLE", "internal-api");
  }

  /** Where this host can listen so that pods can reach it (canaries for bypass attempts). */
  public String canaryHost() {
    return valueOr("CAPGATE_E2E_CANARY_HOST", nodeIp());
  }

  /** The bare repositories of the Git host, when it runs on this machine (null otherwise). */
  public Path gitRoot() {
    String v = values.get("CAPGATE_E2E_GIT_ROOT");
    return v == null || v.isBlank() ? null : Path.of(v);
  }

  /**
   * Every secret value of the stack (GitHub and MCP tokens, S3 keys, the GitHub App's key and the
   * installation tokens minted so far, Vault root/unseal/operator tokens). A file holds one value,
   * or one a line (minted tokens; a PEM key, whose every base64 line is searched, not its armour).
   */
  public List<String> secretValues() {
    return secretValuesByFile().stream().map(Map.Entry::getValue).toList();
  }

  /** {@link #secretValues} with the file each value came from (for reports; never the value). */
  public List<Map.Entry<String, String>> secretValuesByFile() {
    List<Map.Entry<String, String>> secrets = new ArrayList<>();
    for (String f : value("CAPGATE_E2E_SECRET_FILES").split("\\s+")) {
      for (String line : read(Path.of(f)).split("\n")) {
        String s = line.strip();
        if (!s.isEmpty() && !s.startsWith("-----")) {
          secrets.add(Map.entry(f, s));
        }
      }
    }
    return secrets;
  }

  /** The GitHub token (to check a response does not echo it; never sent anywhere by the tests). */
  public String githubToken() {
    return secretValues().getFirst();
  }

  public List<Path> logDirs() {
    return Arrays.stream(valueOr("CAPGATE_E2E_LOG_DIRS", "").split("\\s+"))
        .filter(s -> !s.isBlank())
        .map(Path::of)
        .toList();
  }

  private static String read(Path p) {
    try {
      return Files.readString(p);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
