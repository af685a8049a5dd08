package dev.capgate.operator.ca;

import dev.capgate.api.sidecar.SidecarContract;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Map;

/**
 * The system roots agents trust besides their pod CA, the same for every pod of an installation:
 * one immutable ConfigMap per namespace instead of a 449 KiB copy per pod (issue 13). A volume can
 * only name an object of the pod's own namespace, hence per namespace, not one for the
 * installation.
 *
 * <p>The name carries the content's digest ({@code capgate-trust-roots-<10 hex of sha256>}): an
 * operator with other roots (a new image) writes a new ConfigMap, and pods admitted before keep the
 * one they were admitted with. Its content is not trusted by name: anyone who may write ConfigMaps
 * in the namespace could replace it, so each pod's {@code capgate-init} gets the full digest in its
 * spec and refuses other bytes ({@code AgentTrust} in the sidecar).
 */
public final class SharedTrustRoots {
  public static final String NAME_PREFIX = "capgate-trust-roots-";
  public static final String COMPONENT = "trust-roots";

  private final String pem;
  private final String sha256;

  public SharedTrustRoots(TrustBundle roots) {
    this.pem = roots.rootsPem();
    this.sha256 = sha256Hex(pem.getBytes(StandardCharsets.UTF_8));
  }

  /** The ConfigMap's name in every namespace. */
  public String name() {
    return NAME_PREFIX + sha256.substring(0, 10);
  }

  /** Hex SHA-256 of the roots file's bytes: what capgate-init checks. */
  public String sha256() {
    return sha256;
  }

  /** Whether a stored ConfigMap holds exactly these roots. */
  public boolean matches(ConfigMap stored) {
    String data =
        stored.getData() == null ? null : stored.getData().get(SidecarContract.TRUST_ROOTS_KEY);
    return data != null && sha256.equals(sha256Hex(data.getBytes(StandardCharsets.UTF_8)));
  }

  public ConfigMap configMap(String namespace) {
    return new ConfigMapBuilder()
        .withNewMetadata()
        .withNamespace(namespace)
        .withName(name())
        .withLabels(
            Map.of(
                PodCaObjects.COMPONENT_LABEL,
                COMPONENT,
                PodCaObjects.MANAGED_BY_LABEL,
                PodCaObjects.MANAGED_BY))
        .endMetadata()
        .withImmutable(true)
        .withData(Map.of(SidecarContract.TRUST_ROOTS_KEY, pem))
        .build();
  }

  static String sha256Hex(byte[] bytes) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
