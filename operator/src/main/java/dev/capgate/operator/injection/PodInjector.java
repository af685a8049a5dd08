package dev.capgate.operator.injection;

import static dev.capgate.api.sidecar.SidecarContract.*;

import dev.capgate.api.sidecar.InjectedSettings;
import dev.capgate.api.sidecar.PlaceholderFormat;
import dev.capgate.api.sidecar.SidecarPorts;
import dev.capgate.api.v1alpha1.AwsSigV4Credential;
import dev.capgate.operator.naming.PodMarkers;
import io.fabric8.kubernetes.api.model.Capabilities;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerBuilder;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.EnvVarBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.Probe;
import io.fabric8.kubernetes.api.model.ProbeBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.ResourceRequirementsBuilder;
import io.fabric8.kubernetes.api.model.SecurityContextBuilder;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeBuilder;
import io.fabric8.kubernetes.api.model.VolumeMount;
import io.fabric8.kubernetes.api.model.VolumeMountBuilder;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * The mutation, as a pure function {@code Pod -> Pod} (Istio's model): the admission patch is the
 * diff of the two, golden files show it, and injecting an injected pod returns it unchanged.
 *
 * <p>What it does: the init container {@code capgate-init} (iptables, NET_ADMIN/NET_RAW, root,
 * nothing else) and the native sidecar {@code capgate-proxy} go first; the pod-level token
 * automount is turned off and the token volume the ServiceAccount admission plugin already added is
 * removed, so only the sidecar holds tokens: a projected one with the identity audience (for the
 * operator's {@code /v1/vault-token}) and an ordinary one at the standard path (for the Kubernetes
 * API). Agent containers get the public trust material, the usual trust variables and the
 * credential placeholders.
 */
public final class PodInjector {
  /** Volumes the injection owns; a pod bringing its own of these names is refused. */
  public static final String CA_VOLUME = "capgate-ca";

  public static final String TOKEN_VOLUME = "capgate-token";
  public static final String TRUST_VOLUME = "capgate-trust";

  /** The namespace's shared system roots (a ConfigMap), for capgate-init only. */
  public static final String TRUST_ROOTS_VOLUME = "capgate-system-roots";

  /** The pod CA's root (root.crt of the CA Secret, not its key), for capgate-init only. */
  public static final String POD_CA_ROOT_VOLUME = "capgate-pod-ca";

  public static final String TMP_VOLUME = "capgate-tmp";

  /** The sidecar's Kubernetes API token (default audience), CA and namespace. */
  public static final String KUBE_API_VOLUME = "capgate-kube-api";

  /** Extra upstream CAs of the sidecar (operator setting; public certificates). */
  public static final String UPSTREAM_CA_VOLUME = "capgate-upstream-ca";

  public static final Set<String> SIDECAR_ONLY_VOLUMES =
      Set.of(
          CA_VOLUME,
          TOKEN_VOLUME,
          TMP_VOLUME,
          KUBE_API_VOLUME,
          TRUST_ROOTS_VOLUME,
          POD_CA_ROOT_VOLUME);
  public static final Set<String> RESERVED_VOLUMES =
      Set.of(
          CA_VOLUME,
          TOKEN_VOLUME,
          TRUST_VOLUME,
          TMP_VOLUME,
          KUBE_API_VOLUME,
          UPSTREAM_CA_VOLUME,
          TRUST_ROOTS_VOLUME,
          POD_CA_ROOT_VOLUME);

  /**
   * Room for the trust files capgate-init writes (bundle and truststore of ~150 roots: ~0.4 MiB).
   */
  static final String TRUST_VOLUME_SIZE = "4Mi";

  /** The cluster CA, published in every namespace by kube-controller-manager. */
  static final String ROOT_CA_CONFIGMAP = "kube-root-ca.crt";

  public static final Set<String> CAPGATE_CONTAINERS = Set.of(INIT_CONTAINER, PROXY_CONTAINER);

  /** Prefix of the token volume the ServiceAccount admission plugin adds before webhooks run. */
  static final String AUTO_TOKEN_VOLUME_PREFIX = "kube-api-access-";

  /** Holds an agent-supplied JAVA_TOOL_OPTIONS that comes from valueFrom, so ours can extend it. */
  static final String AGENT_JAVA_TOOL_OPTIONS = "CAPGATE_AGENT_JAVA_TOOL_OPTIONS";

  static final String JAVA_TRUST_OPTIONS =
      "-Djavax.net.ssl.trustStore=" + TRUSTSTORE_FILE + " -Djavax.net.ssl.trustStoreType=PKCS12";

  /** Trust variables of agent containers, in the order they are added. */
  static final Map<String, String> TRUST_ENV = trustEnv();

  private static final KubernetesSerialization SERIALIZATION = new KubernetesSerialization();

  private final SidecarSettings settings;
  private final TrustRootsRef trustRoots;

  /**
   * @param trustRoots the shared system roots ConfigMap every injected pod's capgate-init mounts
   *     and checks
   */
  public PodInjector(SidecarSettings settings, TrustRootsRef trustRoots) {
    this.settings = settings;
    this.trustRoots = trustRoots;
  }

  /**
   * A deep copy: through the serializer's token buffer, not its JSON text ({@code clone}), which
   * cost twice as much inside the admission call (issue 13).
   */
  private static Pod copy(Pod pod) {
    return SERIALIZATION.convertValue(pod, Pod.class);
  }

  /** The uid and ports this injector gives the init rules and the sidecar. */
  public SidecarPorts ports() {
    return settings.ports();
  }

  /**
   * A new pod: {@code pod} with Capgate injected; {@code pod} itself is not modified. An injected
   * pod comes back unchanged, except for agent containers added since (plan may then be null).
   */
  public Pod inject(Pod pod, InjectionPlan plan) {
    Pod out = copy(pod);
    if (PodMarkers.isInjected(out)) {
      // Re-invocation: only containers another webhook added since then need the agent settings,
      // with the placeholders the pod's other agent containers already got.
      Map<String, String> placeholders = placeholdersInUse(out.getSpec());
      for (Container agent : agentContainers(out.getSpec())) {
        if (!hasTrustMount(agent)) {
          addAgentSettings(agent, placeholders);
        }
        agent.setSecurityContext(AgentHardening.harden(agent.getSecurityContext()));
      }
      return out;
    }
    markPod(out, plan);
    PodSpec spec = out.getSpec();
    spec.setAutomountServiceAccountToken(false);
    removeAutomountedToken(spec);
    Map<String, String> placeholders = new LinkedHashMap<>();
    plan.placeholders().forEach(p -> placeholders.putAll(p.variables()));
    for (Container agent : agentContainers(spec)) {
      addAgentSettings(agent, placeholders);
      agent.setSecurityContext(AgentHardening.harden(agent.getSecurityContext()));
    }
    List<Container> initContainers = new ArrayList<>();
    initContainers.add(initContainer(InboundPorts.of(pod, settings.ports()), plan));
    initContainers.add(proxyContainer(plan, spec.getHostAliases()));
    initContainers.addAll(spec.getInitContainers() == null ? List.of() : spec.getInitContainers());
    spec.setInitContainers(initContainers);
    List<Volume> volumes =
        new ArrayList<>(spec.getVolumes() == null ? List.of() : spec.getVolumes());
    volumes.addAll(volumes(plan));
    spec.setVolumes(volumes);
    return out;
  }

  /**
   * A new pod: {@code pod} with the ephemeral containers not in {@code before} (kubectl debug)
   * hardened like agent containers. Ephemeral containers already there cannot be changed.
   */
  public static Pod hardenNewEphemeralContainers(Pod pod, Pod before) {
    Pod out = copy(pod);
    Set<String> existing = new java.util.HashSet<>();
    if (before != null
        && before.getSpec() != null
        && before.getSpec().getEphemeralContainers() != null) {
      before.getSpec().getEphemeralContainers().forEach(e -> existing.add(e.getName()));
    }
    if (out.getSpec().getEphemeralContainers() != null) {
      out.getSpec().getEphemeralContainers().stream()
          .filter(e -> !existing.contains(e.getName()))
          .forEach(e -> e.setSecurityContext(AgentHardening.harden(e.getSecurityContext())));
    }
    return out;
  }

  /** A variable the injection sets in agent containers: a placeholder may not take its name. */
  public static boolean isCapgateAgentVariable(String name) {
    return TRUST_ENV.containsKey(name)
        || "JAVA_TOOL_OPTIONS".equals(name)
        || AGENT_JAVA_TOOL_OPTIONS.equals(name);
  }

  /** The containers that are not Capgate's: regular ones and init containers the pod brought. */
  public static List<Container> agentContainers(PodSpec spec) {
    List<Container> agents = new ArrayList<>();
    if (spec.getInitContainers() != null) {
      spec.getInitContainers().stream()
          .filter(c -> !CAPGATE_CONTAINERS.contains(c.getName()))
          .forEach(agents::add);
    }
    if (spec.getContainers() != null) {
      agents.addAll(spec.getContainers());
    }
    return agents;
  }

  private static void markPod(Pod pod, InjectionPlan plan) {
    Map<String, String> labels = new LinkedHashMap<>(nullToEmpty(pod.getMetadata().getLabels()));
    labels.put(PodMarkers.SESSION, plan.session());
    pod.getMetadata().setLabels(labels);
    Map<String, String> annotations =
        new LinkedHashMap<>(nullToEmpty(pod.getMetadata().getAnnotations()));
    annotations.put(PodMarkers.STATUS, PodMarkers.STATUS_INJECTED);
    annotations.put(PodMarkers.CA, plan.caName());
    annotations.put(PodMarkers.CA_FINGERPRINT, plan.caFingerprint());
    pod.getMetadata().setAnnotations(annotations);
  }

  /**
   * The ServiceAccount admission plugin runs before webhooks and has already mounted the token
   * ({@code kube-api-access-*}) into every container: turning automount off now is too late on its
   * own, so the volume and its mounts go.
   */
  private static void removeAutomountedToken(PodSpec spec) {
    if (spec.getVolumes() == null) {
      return;
    }
    List<String> removed =
        spec.getVolumes().stream()
            .filter(
                v ->
                    v.getName().startsWith(AUTO_TOKEN_VOLUME_PREFIX)
                        && AdmissionHardening.projectsServiceAccountToken(v))
            .map(Volume::getName)
            .toList();
    if (removed.isEmpty()) {
      return;
    }
    spec.setVolumes(
        new ArrayList<>(
            spec.getVolumes().stream().filter(v -> !removed.contains(v.getName())).toList()));
    for (Container c : agentContainers(spec)) {
      if (c.getVolumeMounts() != null) {
        c.setVolumeMounts(
            new ArrayList<>(
                c.getVolumeMounts().stream().filter(m -> !removed.contains(m.getName())).toList()));
      }
    }
  }

  /**
   * The trust material and variables, then the placeholders. A placeholder replaces whatever the
   * container set under that name, a {@code valueFrom} included: a real credential there would be
   * exactly what Capgate exists to keep out of pods ({@code env} also wins over {@code envFrom}).
   */
  private static void addAgentSettings(Container agent, Map<String, String> placeholders) {
    List<VolumeMount> mounts =
        new ArrayList<>(agent.getVolumeMounts() == null ? List.of() : agent.getVolumeMounts());
    mounts.add(
        new VolumeMountBuilder()
            .withName(TRUST_VOLUME)
            .withMountPath(TRUST_DIR)
            .withReadOnly(true)
            .build());
    agent.setVolumeMounts(mounts);

    List<EnvVar> env = new ArrayList<>(agent.getEnv() == null ? List.of() : agent.getEnv());
    TRUST_ENV.forEach((name, value) -> setEnv(env, name, value));
    extendJavaToolOptions(env);
    placeholders.forEach((name, value) -> setEnv(env, name, value));
    agent.setEnv(env);
  }

  private static boolean hasTrustMount(Container c) {
    return c.getVolumeMounts() != null
        && c.getVolumeMounts().stream().anyMatch(m -> TRUST_VOLUME.equals(m.getName()));
  }

  /**
   * The placeholders of an injected pod, read back from the agent containers that were injected:
   * the webhook has no other memory of them (the values are in the sidecar's Secret only).
   */
  static Map<String, String> placeholdersInUse(PodSpec spec) {
    Map<String, String> found = new LinkedHashMap<>();
    for (Container c : agentContainers(spec)) {
      if (hasTrustMount(c) && c.getEnv() != null) {
        for (EnvVar e : c.getEnv()) {
          if (e.getValue() != null && e.getValue().startsWith(PlaceholderFormat.PREFIX)) {
            found.putIfAbsent(e.getName(), e.getValue());
            if (e.getName().equals(AwsSigV4Credential.SECRET_ACCESS_KEY_ENV)) {
              // An awsSigV4 credential's key id is derived from its secret key placeholder.
              found.putIfAbsent(
                  AwsSigV4Credential.ACCESS_KEY_ID_ENV,
                  PlaceholderFormat.awsAccessKeyId(e.getValue()));
            }
          }
        }
      }
    }
    return found;
  }

  /** Ours wins over an agent-supplied value of the same name: intercepted TLS must verify. */
  private static void setEnv(List<EnvVar> env, String name, String value) {
    EnvVar var = new EnvVarBuilder().withName(name).withValue(value).build();
    for (int i = 0; i < env.size(); i++) {
      if (name.equals(env.get(i).getName())) {
        env.set(i, var);
        return;
      }
    }
    env.add(var);
  }

  /**
   * Keeps what the agent put in JAVA_TOOL_OPTIONS and appends the truststore options after it (the
   * last -D of a property wins). A value from valueFrom cannot be concatenated here, so it moves to
   * CAPGATE_AGENT_JAVA_TOOL_OPTIONS and JAVA_TOOL_OPTIONS refers to it with $(...).
   */
  private static void extendJavaToolOptions(List<EnvVar> env) {
    for (int i = 0; i < env.size(); i++) {
      EnvVar existing = env.get(i);
      if (!"JAVA_TOOL_OPTIONS".equals(existing.getName())) {
        continue;
      }
      if (existing.getValueFrom() != null) {
        env.set(
            i,
            new EnvVarBuilder()
                .withName("JAVA_TOOL_OPTIONS")
                .withValue("$(" + AGENT_JAVA_TOOL_OPTIONS + ") " + JAVA_TRUST_OPTIONS)
                .build());
        env.add(
            i,
            new EnvVarBuilder()
                .withName(AGENT_JAVA_TOOL_OPTIONS)
                .withValueFrom(existing.getValueFrom())
                .build());
      } else {
        String agentOptions = existing.getValue() == null ? "" : existing.getValue().strip();
        env.set(
            i,
            new EnvVarBuilder()
                .withName("JAVA_TOOL_OPTIONS")
                .withValue(
                    agentOptions.isEmpty()
                        ? JAVA_TRUST_OPTIONS
                        : agentOptions + " " + JAVA_TRUST_OPTIONS)
                .build());
      }
      return;
    }
    env.add(
        new EnvVarBuilder().withName("JAVA_TOOL_OPTIONS").withValue(JAVA_TRUST_OPTIONS).build());
  }

  /**
   * @param inboundPorts what peers may connect to (annotation + agent probes); all else is dropped
   */
  private Container initContainer(java.util.SortedSet<Integer> inboundPorts, InjectionPlan plan) {
    List<String> args = new ArrayList<>(List.of(INIT_ARG));
    if (!inboundPorts.isEmpty()) {
      args.addAll(List.of(INBOUND_PORTS_FLAG, InboundPorts.flagValue(inboundPorts)));
    }
    return new ContainerBuilder()
        .withName(INIT_CONTAINER)
        .withImage(settings.image())
        .withImagePullPolicy(settings.imagePullPolicy())
        .withArgs(args)
        .withEnv(initEnv(plan))
        // It writes the agents' trust files (pod CA + the namespace's shared roots, both checked
        // against these digests) before the iptables rules: no 449 KiB copy per pod (issue 13).
        .withVolumeMounts(
            new VolumeMountBuilder()
                .withName(TRUST_ROOTS_VOLUME)
                .withMountPath(TRUST_ROOTS_DIR)
                .withReadOnly(true)
                .build(),
            new VolumeMountBuilder()
                .withName(POD_CA_ROOT_VOLUME)
                .withMountPath(POD_CA_ROOT_DIR)
                .withReadOnly(true)
                .build(),
            new VolumeMountBuilder().withName(TRUST_VOLUME).withMountPath(TRUST_DIR).build())
        .withResources(resources())
        // Root with exactly the two capabilities iptables needs, only for the few milliseconds the
        // rules take; runAsNonRoot false overrides a pod-level runAsNonRoot that would forbid uid
        // 0.
        .withSecurityContext(
            new SecurityContextBuilder()
                .withRunAsUser(0L)
                .withRunAsNonRoot(false)
                .withPrivileged(false)
                .withAllowPrivilegeEscalation(false)
                .withCapabilities(new Capabilities(List.of("NET_ADMIN", "NET_RAW"), List.of("ALL")))
                .build())
        .build();
  }

  /**
   * @param hostAliases the pod spec's, fixed at admission: the sidecar resolves the names it dials
   *     from these and DNS, never from the pod's /etc/hosts (agents share that file)
   */
  private Container proxyContainer(
      InjectionPlan plan, List<io.fabric8.kubernetes.api.model.HostAlias> hostAliases) {
    // What the sidecar reads back with InjectedSettings.read: one type on both sides. The Vault
    // token comes from the operator, which attests this pod with the identity token (issue 11):
    // the sidecar needs where to ask, the CA to verify the answer, and the token file.
    InjectedSettings injected =
        InjectedSettings.forSession(
                plan.namespace(),
                plan.session(),
                settings.vaultAddress(),
                settings.vaultCaPem(),
                settings.operatorUrl(),
                settings.operatorCaPem())
            .withLeaseConfigMap(plan.leaseConfigMap())
            .withPorts(settings.ports())
            .withAdminExposeMetrics(settings.adminExposeMetrics())
            .withLogLevel(settings.logLevel());
    if (hostAliases != null && !hostAliases.isEmpty()) {
      injected = injected.withHostAliases(SERIALIZATION.asJson(hostAliases));
    }
    if (settings.upstreamCaConfigMap() != null) {
      injected = injected.withUpstreamCaFile(UPSTREAM_CA_FILE);
    }
    List<EnvVar> env = envVars(injected);
    List<VolumeMount> mounts =
        new ArrayList<>(
            List.of(
                new VolumeMountBuilder()
                    .withName(CA_VOLUME)
                    .withMountPath(CA_DIR)
                    .withReadOnly(true)
                    .build(),
                new VolumeMountBuilder()
                    .withName(TOKEN_VOLUME)
                    .withMountPath(TOKEN_DIR)
                    .withReadOnly(true)
                    .build(),
                new VolumeMountBuilder()
                    .withName(KUBE_API_VOLUME)
                    .withMountPath(KUBE_API_DIR)
                    .withReadOnly(true)
                    .build(),
                new VolumeMountBuilder().withName(TMP_VOLUME).withMountPath("/tmp").build()));
    if (settings.upstreamCaConfigMap() != null) {
      mounts.add(
          new VolumeMountBuilder()
              .withName(UPSTREAM_CA_VOLUME)
              .withMountPath(UPSTREAM_CA_DIR)
              .withReadOnly(true)
              .build());
    }
    return new ContainerBuilder()
        .withName(PROXY_CONTAINER)
        .withImage(settings.image())
        .withImagePullPolicy(settings.imagePullPolicy())
        .withArgs(PROXY_ARG)
        // A native sidecar: started before the agent's containers, stopped after them.
        .withRestartPolicy("Always")
        .withEnv(env)
        .withResources(resources())
        // The startup probe holds back the next containers until the proxy listens: the agent's
        // first connection must not meet an empty port.
        .withStartupProbe(readyz(settings.ports(), 1, 120))
        .withReadinessProbe(readyz(settings.ports(), 2, 3))
        .withSecurityContext(
            new SecurityContextBuilder()
                .withRunAsUser((long) settings.ports().proxyUid())
                .withRunAsGroup((long) settings.ports().proxyUid())
                .withRunAsNonRoot(true)
                .withPrivileged(false)
                .withReadOnlyRootFilesystem(true)
                .withAllowPrivilegeEscalation(false)
                .withCapabilities(new Capabilities(List.of(), List.of("ALL")))
                .withNewSeccompProfile()
                .withType("RuntimeDefault")
                .endSeccompProfile()
                .build())
        .withVolumeMounts(mounts)
        .build();
  }

  private static Probe readyz(SidecarPorts ports, int periodSeconds, int failureThreshold) {
    return new ProbeBuilder()
        .withNewHttpGet()
        .withPath(READINESS_PATH)
        .withNewPort(ports.adminPort())
        .endHttpGet()
        .withPeriodSeconds(periodSeconds)
        .withFailureThreshold(failureThreshold)
        .build();
  }

  /**
   * The init container's: the same uid and ports as the sidecar's, and the digests of the trust
   * material it may use.
   */
  private List<EnvVar> initEnv(InjectionPlan plan) {
    List<EnvVar> env = new ArrayList<>();
    env.add(
        new EnvVarBuilder()
            .withName(ENV_TRUST_ROOTS_SHA256)
            .withValue(trustRoots.sha256())
            .build());
    env.add(
        new EnvVarBuilder()
            .withName(ENV_POD_CA_FINGERPRINT)
            .withValue(plan.caFingerprint())
            .build());
    settings
        .ports()
        .toEnv()
        .forEach(
            (name, value) -> env.add(new EnvVarBuilder().withName(name).withValue(value).build()));
    return env;
  }

  private static List<EnvVar> envVars(InjectedSettings injected) {
    List<EnvVar> env = new ArrayList<>();
    for (InjectedSettings.EnvEntry e : injected.toEnv()) {
      EnvVarBuilder var = new EnvVarBuilder().withName(e.name());
      if (e.fieldPath() != null) {
        var.withNewValueFrom()
            .withNewFieldRef()
            .withFieldPath(e.fieldPath())
            .endFieldRef()
            .endValueFrom();
      } else {
        var.withValue(e.value());
      }
      env.add(var.build());
    }
    return env;
  }

  private io.fabric8.kubernetes.api.model.ResourceRequirements resources() {
    return new ResourceRequirementsBuilder()
        .withRequests(quantities(settings.requests()))
        .withLimits(quantities(settings.limits()))
        .build();
  }

  private static Map<String, Quantity> quantities(Map<String, String> values) {
    Map<String, Quantity> out = new TreeMap<>();
    values.forEach((k, v) -> out.put(k, new Quantity(v)));
    return out;
  }

  private List<Volume> volumes(InjectionPlan plan) {
    List<Volume> volumes =
        new ArrayList<>(
            List.of(
                new VolumeBuilder()
                    .withName(CA_VOLUME)
                    .withNewSecret()
                    .withSecretName(plan.caName())
                    .endSecret()
                    .build(),
                new VolumeBuilder()
                    .withName(TOKEN_VOLUME)
                    .withNewProjected()
                    .addNewSource()
                    .withNewServiceAccountToken()
                    .withAudience(settings.identityAudience())
                    .withExpirationSeconds(settings.tokenExpirationSeconds())
                    .withPath(TOKEN_PATH)
                    .endServiceAccountToken()
                    .endSource()
                    .endProjected()
                    .build(),
                new VolumeBuilder()
                    .withName(TRUST_VOLUME)
                    .withNewEmptyDir()
                    .withSizeLimit(new Quantity(TRUST_VOLUME_SIZE))
                    .endEmptyDir()
                    .build(),
                new VolumeBuilder()
                    .withName(TRUST_ROOTS_VOLUME)
                    .withNewConfigMap()
                    .withName(trustRoots.configMapName())
                    .addNewItem()
                    .withKey(TRUST_ROOTS_KEY)
                    .withPath(TRUST_ROOTS_KEY)
                    .endItem()
                    .endConfigMap()
                    .build(),
                new VolumeBuilder()
                    .withName(POD_CA_ROOT_VOLUME)
                    .withNewSecret()
                    .withSecretName(plan.caName())
                    .addNewItem()
                    .withKey(POD_CA_ROOT_KEY)
                    .withPath(POD_CA_ROOT_KEY)
                    .endItem()
                    .endSecret()
                    .build(),
                new VolumeBuilder()
                    .withName(TMP_VOLUME)
                    .withNewEmptyDir()
                    .withSizeLimit(new Quantity("64Mi"))
                    .endEmptyDir()
                    .build(),
                kubeApiVolume()));
    if (settings.upstreamCaConfigMap() != null) {
      // Not optional: a sidecar that cannot verify its upstreams would only fail later, per
      // request.
      volumes.add(
          new VolumeBuilder()
              .withName(UPSTREAM_CA_VOLUME)
              .withNewConfigMap()
              .withName(settings.upstreamCaConfigMap())
              .addNewItem()
              .withKey(UPSTREAM_CA_KEY)
              .withPath(UPSTREAM_CA_KEY)
              .endItem()
              .endConfigMap()
              .build());
    }
    return volumes;
  }

  /** The same three sources as the ServiceAccount plugin's kube-api-access-* volume. */
  private static Volume kubeApiVolume() {
    return new VolumeBuilder()
        .withName(KUBE_API_VOLUME)
        .withNewProjected()
        .addNewSource()
        .withNewServiceAccountToken()
        .withExpirationSeconds(KUBE_API_TOKEN_EXPIRATION_SECONDS)
        .withPath("token")
        .endServiceAccountToken()
        .endSource()
        .addNewSource()
        .withNewConfigMap()
        .withName(ROOT_CA_CONFIGMAP)
        .addNewItem()
        .withKey("ca.crt")
        .withPath("ca.crt")
        .endItem()
        .endConfigMap()
        .endSource()
        .addNewSource()
        .withNewDownwardAPI()
        .addNewItem()
        .withPath("namespace")
        .withNewFieldRef()
        .withApiVersion("v1")
        .withFieldPath("metadata.namespace")
        .endFieldRef()
        .endItem()
        .endDownwardAPI()
        .endSource()
        .endProjected()
        .build();
  }

  private static Map<String, String> trustEnv() {
    Map<String, String> env = new LinkedHashMap<>();
    env.put("SSL_CERT_FILE", BUNDLE_FILE); // OpenSSL, Go, Ruby, uv, many CLIs
    env.put("REQUESTS_CA_BUNDLE", BUNDLE_FILE); // Python requests
    env.put("CURL_CA_BUNDLE", BUNDLE_FILE); // curl
    env.put("GIT_SSL_CAINFO", BUNDLE_FILE); // git over HTTPS
    // The aws CLI (v1 and v2) and boto3/botocore read neither SSL_CERT_FILE nor
    // REQUESTS_CA_BUNDLE: without this they refuse the pod CA (issue 15).
    env.put("AWS_CA_BUNDLE", BUNDLE_FILE);
    env.put("NODE_EXTRA_CA_CERTS", POD_CA_FILE); // Node adds this to its built-in roots
    return java.util.Collections.unmodifiableMap(env);
  }

  private static <K, V> Map<K, V> nullToEmpty(Map<K, V> map) {
    return map == null ? Map.of() : map;
  }
}
