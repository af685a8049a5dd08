package dev.capgate.operator.injection;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.IntNode;
import com.fasterxml.jackson.databind.node.TextNode;
import dev.capgate.api.sidecar.SidecarContract;
import dev.capgate.api.v1alpha1.AgentSession;
import dev.capgate.operator.ca.Pem;
import dev.capgate.operator.ca.PodCaObjects;
import dev.capgate.operator.naming.PodMarkers;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeMount;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * A pod that arrives already marked {@code capgate.dev/status: injected} claims to be the webhook's
 * own output: legitimately when the webhook is re-invoked on it in the same admission
 * (reinvocationPolicy IfNeeded, maybe with containers another webhook added since), or when an
 * injected pod is submitted again. Anyone can write those annotations, so the claim is checked by
 * rebuilding what the webhook would have injected from the plan the pod names (its CA and
 * fingerprint, its session's Vault settings and lease ConfigMap, the placeholders it carries), with
 * the same {@link PodInjector}, and comparing: Capgate's two containers (first two init
 * containers), the reserved volumes, the token settings and every agent container's trust settings.
 * A no-op {@code capgate-init} or a {@code sleep} named {@code capgate-proxy} differs.
 *
 * <p>The API server defaults fields of the webhook's output before a re-invocation (e.g. {@code
 * terminationMessagePath}); {@link #SERVER_DEFAULTS} are the only fields the pod may have beyond
 * the injected ones, and only with their default values.
 */
public final class InjectionClaim {
  /** Fields the API server adds to what the webhook injects, with the only value they may have. */
  static final Map<String, JsonNode> SERVER_DEFAULTS =
      Map.of(
          "terminationMessagePath", TextNode.valueOf("/dev/termination-log"),
          "terminationMessagePolicy", TextNode.valueOf("File"),
          "timeoutSeconds", IntNode.valueOf(1),
          "successThreshold", IntNode.valueOf(1),
          "scheme", TextNode.valueOf("HTTP"),
          "defaultMode", IntNode.valueOf(420),
          "apiVersion", TextNode.valueOf("v1"));

  /** Quantities the API server may write in another canonical form ("1000m" for "1"). */
  private static final KubernetesSerialization SERIALIZATION = new KubernetesSerialization();

  private static final ObjectMapper MAPPER = new ObjectMapper();
  private static final Set<String> QUANTITY_PARENTS = Set.of("requests", "limits", "emptyDir");

  private InjectionClaim() {}

  /**
   * The plan the pod claims: its CA from the annotations, the rest from its session, the
   * placeholder values from its agent containers; empty with the reason when it names none.
   */
  static InjectionPlan claimedPlan(
      Pod pod, String namespace, AgentSession session, List<String> problems) {
    String caName = PodMarkers.annotation(pod, PodMarkers.CA);
    String fingerprint = PodMarkers.annotation(pod, PodMarkers.CA_FINGERPRINT);
    if (caName == null || !caName.startsWith(PodCaObjects.NAME_PREFIX) || fingerprint == null) {
      problems.add(
          "annotations "
              + PodMarkers.CA
              + " / "
              + PodMarkers.CA_FINGERPRINT
              + " missing or not a capgate CA");
      return null;
    }
    Map<String, String> carried = PodInjector.placeholdersInUse(pod.getSpec());
    List<CredentialPlaceholder> placeholders = new ArrayList<>();
    for (CredentialPlaceholder p : Placeholders.generate(session.getSpec())) {
      String value = carried.get(p.env());
      if (value == null) {
        problems.add("no placeholder for " + p.env() + " in the agent containers");
        return null;
      }
      placeholders.add(p.withValue(value));
    }
    return PodAdmitter.plan(namespace, session, caName, fingerprint, placeholders);
  }

  /**
   * The first difference between {@code pod} and what {@code injector} makes of a pod with {@code
   * plan}; empty when there is none.
   */
  public static Optional<String> difference(Pod pod, InjectionPlan plan, PodInjector injector) {
    PodSpec spec = pod.getSpec();
    if (!Objects.equals(PodMarkers.label(pod, PodMarkers.SESSION), plan.session())) {
      return Optional.of("label " + PodMarkers.SESSION + " is not the session's name");
    }
    Pod expected =
        injector.inject(
            new PodBuilder().withNewMetadata().endMetadata().withNewSpec().endSpec().build(), plan);
    List<Container> expectedInit = expected.getSpec().getInitContainers();
    List<Container> init = spec.getInitContainers() == null ? List.of() : spec.getInitContainers();
    for (int i = 0; i < expectedInit.size(); i++) {
      String name = expectedInit.get(i).getName();
      if (init.size() <= i || !name.equals(init.get(i).getName())) {
        return Optional.of("init container " + (i + 1) + " is not " + name);
      }
      Optional<String> diff = compare(name, tree(expectedInit.get(i)), tree(init.get(i)));
      if (diff.isPresent()) {
        return diff;
      }
    }
    for (int i = expectedInit.size(); i < init.size(); i++) {
      if (PodInjector.CAPGATE_CONTAINERS.contains(init.get(i).getName())) {
        return Optional.of("a second init container named " + init.get(i).getName());
      }
    }
    for (Container c : spec.getContainers() == null ? List.<Container>of() : spec.getContainers()) {
      if (PodInjector.CAPGATE_CONTAINERS.contains(c.getName())) {
        return Optional.of("a container named " + c.getName());
      }
    }
    if (!Boolean.FALSE.equals(spec.getAutomountServiceAccountToken())) {
      return Optional.of("automountServiceAccountToken is not false");
    }
    Map<String, Volume> volumes = new LinkedHashMap<>();
    (spec.getVolumes() == null ? List.<Volume>of() : spec.getVolumes())
        .forEach(v -> volumes.put(v.getName(), v));
    for (Volume want : expected.getSpec().getVolumes()) {
      Volume have = volumes.get(want.getName());
      if (have == null) {
        return Optional.of("volume " + want.getName() + " is missing");
      }
      Optional<String> diff = compare("volume " + want.getName(), tree(want), tree(have));
      if (diff.isPresent()) {
        return diff;
      }
    }
    Set<String> injectedVolumes = new java.util.HashSet<>();
    expected.getSpec().getVolumes().forEach(v -> injectedVolumes.add(v.getName()));
    for (Volume v : volumes.values()) {
      if (injectedVolumes.contains(v.getName())) {
        continue;
      }
      if (PodInjector.RESERVED_VOLUMES.contains(v.getName())) {
        return Optional.of("volume " + v.getName() + " is not one capgate injects here");
      }
      if (AdmissionHardening.projectsServiceAccountToken(v)) {
        return Optional.of(
            "volume " + v.getName() + " holds a service-account token besides the sidecar's");
      }
    }
    return agentDifference(injector.inject(pod, null), plan);
  }

  /**
   * Each agent container carries the trust settings and placeholders, as injected (containers
   * another webhook added since have just got them from {@code completed}).
   */
  private static Optional<String> agentDifference(Pod completed, InjectionPlan plan) {
    for (Container agent : PodInjector.agentContainers(completed.getSpec())) {
      List<VolumeMount> trust =
          agent.getVolumeMounts().stream()
              .filter(m -> PodInjector.TRUST_VOLUME.equals(m.getName()))
              .toList();
      if (trust.size() != 1
          || !SidecarContract.TRUST_DIR.equals(trust.getFirst().getMountPath())
          || !Boolean.TRUE.equals(trust.getFirst().getReadOnly())
          || trust.getFirst().getSubPath() != null) {
        return Optional.of(
            "container " + agent.getName() + " mounts " + PodInjector.TRUST_VOLUME + " otherwise");
      }
      Map<String, EnvVar> env = new LinkedHashMap<>();
      agent.getEnv().forEach(e -> env.put(e.getName(), e));
      Map<String, String> wanted = new LinkedHashMap<>(PodInjector.TRUST_ENV);
      plan.placeholders().forEach(p -> wanted.putAll(p.variables()));
      for (var e : wanted.entrySet()) {
        EnvVar have = env.get(e.getKey());
        if (have == null || !e.getValue().equals(have.getValue()) || have.getValueFrom() != null) {
          return Optional.of("container " + agent.getName() + " has another " + e.getKey());
        }
      }
      EnvVar java = env.get("JAVA_TOOL_OPTIONS");
      if (java == null
          || java.getValue() == null
          || !java.getValue().endsWith(PodInjector.JAVA_TRUST_OPTIONS)) {
        return Optional.of("container " + agent.getName() + " has another JAVA_TOOL_OPTIONS");
      }
    }
    return Optional.empty();
  }

  /**
   * The pod's CA Secret must be one the webhook minted for this session and not yet handed to a pod
   * (a pod cannot take another's CA, whose key its sidecar would then share), with the certificate
   * the fingerprint names. Empty when it is.
   */
  public static Optional<String> caDifference(
      Secret secret, String caName, String session, String fingerprint, String placeholdersJson) {
    if (secret == null) {
      return Optional.of("its CA Secret " + caName + " does not exist");
    }
    Map<String, String> labels =
        secret.getMetadata().getLabels() == null ? Map.of() : secret.getMetadata().getLabels();
    if (!session.equals(labels.get(PodCaObjects.SESSION_LABEL))
        || !PodCaObjects.COMPONENT.equals(labels.get(PodCaObjects.COMPONENT_LABEL))) {
      return Optional.of("its CA Secret " + caName + " is not a CA of session " + session);
    }
    if (secret.getMetadata().getOwnerReferences() != null
        && secret.getMetadata().getOwnerReferences().stream()
            .anyMatch(o -> "Pod".equals(o.getKind()))) {
      return Optional.of("its CA " + caName + " belongs to another pod");
    }
    String root = secret.getData() == null ? null : secret.getData().get(PodCaObjects.ROOT_KEY);
    if (root == null || !fingerprint.equals(fingerprintOf(root))) {
      return Optional.of("the fingerprint annotation is not that of CA " + caName);
    }
    String stored = secret.getData().get(PodCaObjects.PLACEHOLDERS_KEY);
    if (stored == null
        || !json(new String(Base64.getDecoder().decode(stored), StandardCharsets.UTF_8))
            .equals(json(placeholdersJson))) {
      return Optional.of("its placeholders are not those of CA " + caName);
    }
    return Optional.empty();
  }

  private static String fingerprintOf(String base64Pem) {
    try {
      X509Certificate certificate =
          (X509Certificate)
              CertificateFactory.getInstance("X.509")
                  .generateCertificate(
                      new ByteArrayInputStream(Base64.getDecoder().decode(base64Pem)));
      return Pem.fingerprint(certificate);
    } catch (CertificateException | IllegalArgumentException e) {
      return null;
    }
  }

  /**
   * Compares the webhook's output with what the pod carries: everything expected must be there and
   * equal; anything else only as an API server default. Empty lists and objects the webhook writes
   * may be missing (the API server drops them).
   */
  static Optional<String> compare(String where, JsonNode expected, JsonNode actual) {
    if (expected.isObject() && actual.isObject()) {
      for (Iterator<Map.Entry<String, JsonNode>> it = expected.fields(); it.hasNext(); ) {
        var field = it.next();
        JsonNode have = actual.get(field.getKey());
        if (have == null) {
          if (field.getValue().isContainerNode() && field.getValue().isEmpty()) {
            continue;
          }
          return Optional.of(where + "." + field.getKey() + " is missing");
        }
        Optional<String> diff =
            quantity(where, field.getKey(), field.getValue(), have)
                ? Optional.empty()
                : compare(where + "." + field.getKey(), field.getValue(), have);
        if (diff.isPresent()) {
          return diff;
        }
      }
      for (Iterator<Map.Entry<String, JsonNode>> it = actual.fields(); it.hasNext(); ) {
        var field = it.next();
        if (!expected.has(field.getKey())
            && !(field.getValue().isContainerNode() && field.getValue().isEmpty())
            && !field.getValue().equals(SERVER_DEFAULTS.get(field.getKey()))) {
          return Optional.of(where + "." + field.getKey() + " is not set by capgate");
        }
      }
      return Optional.empty();
    }
    if (expected.isArray() && actual.isArray()) {
      if (expected.size() != actual.size()) {
        return Optional.of(
            where + " has " + actual.size() + " entries, capgate sets " + expected.size());
      }
      for (int i = 0; i < expected.size(); i++) {
        Optional<String> diff = compare(where + "[" + i + "]", expected.get(i), actual.get(i));
        if (diff.isPresent()) {
          return diff;
        }
      }
      return Optional.empty();
    }
    return expected.equals(actual)
        ? Optional.empty()
        : Optional.of(where + " is " + actual + ", capgate sets " + expected);
  }

  /**
   * True when both are the same quantity written differently (only under resources and emptyDir).
   */
  private static boolean quantity(String where, String key, JsonNode expected, JsonNode actual) {
    boolean underQuantities =
        QUANTITY_PARENTS.stream().anyMatch(p -> where.endsWith("." + p)) || "sizeLimit".equals(key);
    if (!underQuantities || !expected.isTextual() || !actual.isTextual()) {
      return false;
    }
    try {
      return new Quantity(expected.asText())
              .getNumericalAmount()
              .compareTo(new Quantity(actual.asText()).getNumericalAmount())
          == 0;
    } catch (IllegalArgumentException | ArithmeticException e) {
      return false;
    }
  }

  private static JsonNode tree(Object o) {
    return json(SERIALIZATION.asJson(o));
  }

  private static JsonNode json(String text) {
    try {
      return MAPPER.readTree(text);
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }
}
