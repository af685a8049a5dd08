package dev.capgate.operator.ca;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.ObjectMeta;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.OwnerReference;
import io.fabric8.kubernetes.api.model.OwnerReferenceBuilder;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.Map;

/**
 * The Kubernetes object that holds one pod's CA: a Secret named {@code capgate-ca-<random>} (the
 * pod name is not known at admission), labelled with the session, with {@code ca.crt} and {@code
 * ca.key} (the signing CA, which the sidecar sends after each leaf), {@code root.crt} and {@code
 * placeholders.json} (the pod's credential placeholders, for the sidecar to swap). The sidecar
 * mounts all of it; {@code capgate-init} only {@code root.crt}, from which (with the namespace's
 * {@link SharedTrustRoots}) it writes the agents' trust files into the pod. About 3 KiB: there is
 * no per-pod ConfigMap any more (it carried the system roots, 449 KiB, issue 13).
 *
 * <p>Immutable: the key never changes, and kubelets need not watch it.
 */
public final class PodCaObjects {
  public static final String NAME_PREFIX = "capgate-ca-";
  public static final String SESSION_LABEL = dev.capgate.api.v1alpha1.AgentSession.SESSION_LABEL;
  public static final String COMPONENT_LABEL = "capgate.dev/component";
  public static final String COMPONENT = "pod-ca";
  public static final String MANAGED_BY_LABEL = "app.kubernetes.io/managed-by";
  public static final String MANAGED_BY = "capgate";

  /**
   * On CA Secrets minted since issue 13, which have no ConfigMap beside them (the agents' trust
   * files are made in the pod): custody then touches the Secret only.
   */
  public static final String TRUST_IN_POD_LABEL = "capgate.dev/trust-in-pod";

  public static final String CA_CERT_KEY = dev.capgate.api.sidecar.SidecarContract.CA_CERT;
  public static final String CA_KEY_KEY = dev.capgate.api.sidecar.SidecarContract.CA_KEY;
  public static final String ROOT_KEY = dev.capgate.api.sidecar.SidecarContract.POD_CA_ROOT_KEY;
  public static final String PLACEHOLDERS_KEY =
      dev.capgate.api.sidecar.SidecarContract.PLACEHOLDERS_FILE;

  private static final SecureRandom RANDOM = new SecureRandom();
  private static final String ALPHABET = "bcdfghjklmnpqrstvwxz2456789";

  private PodCaObjects() {}

  /** {@code capgate-ca-} and 10 random characters (≈ 47 bits): collisions are not a concern. */
  public static String newName() {
    StringBuilder name = new StringBuilder(NAME_PREFIX);
    for (int i = 0; i < 10; i++) {
      name.append(ALPHABET.charAt(RANDOM.nextInt(ALPHABET.length())));
    }
    return name.toString();
  }

  /** Selects the CA objects of one session. */
  public static Map<String, String> selector(String session) {
    return Map.of(SESSION_LABEL, session, COMPONENT_LABEL, COMPONENT);
  }

  /**
   * The CA Secret as minted at admission: owned by the session until the pod exists (its uid is not
   * known yet); the reconciler then hands it to the pod, so it goes with it.
   *
   * @param session the AgentSession the pod belongs to
   * @param placeholdersJson {@code {"<credential>": "<placeholder>"}} ({@code {}} for none)
   */
  public static Secret sessionOwned(
      String namespace, String name, HasMetadata session, MintedCa ca, String placeholdersJson) {
    OwnerReference owner =
        new OwnerReferenceBuilder()
            .withApiVersion(session.getApiVersion())
            .withKind(session.getKind())
            .withName(session.getMetadata().getName())
            .withUid(session.getMetadata().getUid())
            .build();
    return secret(namespace, name, session.getMetadata().getName(), owner, ca, placeholdersJson);
  }

  /**
   * @param placeholdersJson {@code {"<credential>": "<placeholder>"}} ({@code {}} for none)
   */
  public static Secret secret(
      String namespace,
      String name,
      String session,
      OwnerReference owner,
      MintedCa ca,
      String placeholdersJson) {
    return new SecretBuilder()
        .withMetadata(metadata(namespace, name, session, owner))
        .withType("Opaque")
        .withImmutable(true)
        .withData(
            Map.of(
                CA_CERT_KEY, base64(ca.certificatePem()),
                CA_KEY_KEY, base64(ca.privateKeyPem()),
                ROOT_KEY, base64(ca.rootPem()),
                PLACEHOLDERS_KEY, base64(placeholdersJson)))
        .build();
  }

  /** In the pod's namespace, labelled with the session, owned by {@code owner}. */
  private static ObjectMeta metadata(
      String namespace, String name, String session, OwnerReference owner) {
    return new ObjectMetaBuilder()
        .withNamespace(namespace)
        .withName(name)
        .withLabels(labels(session))
        .withOwnerReferences(owner)
        .build();
  }

  private static Map<String, String> labels(String session) {
    return Map.of(
        SESSION_LABEL,
        session,
        COMPONENT_LABEL,
        COMPONENT,
        MANAGED_BY_LABEL,
        MANAGED_BY,
        TRUST_IN_POD_LABEL,
        "true");
  }

  private static String base64(String text) {
    return Base64.getEncoder().encodeToString(text.getBytes(StandardCharsets.UTF_8));
  }
}
