package dev.capgate.operator.injection;

import dev.capgate.api.sidecar.SidecarContract;
import dev.capgate.api.sidecar.SidecarPorts;
import dev.capgate.operator.naming.PodMarkers;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerPort;
import io.fabric8.kubernetes.api.model.EphemeralContainer;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodSecurityContext;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.SecurityContext;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeMount;
import io.fabric8.kubernetes.api.model.VolumeProjection;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * Admission hardening (invariant 7): pods whose shape would let an agent container get around the
 * sidecar are refused, each with a message that names the field and says why.
 *
 * <p>Checks run on the pod as it would be stored (after injection), so a mount the pod asks for of
 * a volume the injection adds (the CA key, the sidecar's token) is caught too. Agent containers are
 * all containers and init containers except Capgate's own two.
 *
 * <p>The central rule: no agent process may run as, or become, the sidecar's uid, which the
 * iptables rules exempt. So every agent container (ephemeral ones too) must have an explicit
 * runAsUser other than the sidecar's (the one in the pod's {@code capgate-init} rules, {@link
 * #exemptUid}; an image's USER is invisible here and changes with the image), may not allow
 * privilege escalation or add a capability outside {@link AgentHardening#ADDABLE}, and must drop
 * {@link AgentHardening#DROPPED} (which {@link AgentHardening} adds before the checks).
 */
public final class AdmissionHardening {
  static final String CA_SECRET_PREFIX = "capgate-ca-";

  private AdmissionHardening() {}

  /** Violations of a pod about to be created (already injected); empty when it may be admitted. */
  public static List<String> violations(Pod pod) {
    PodSpec spec = pod.getSpec();
    List<String> found = new ArrayList<>();
    if (Boolean.TRUE.equals(spec.getHostNetwork())) {
      found.add(
          "spec.hostNetwork is true: the agent would share the node's network and bypass the sidecar's iptables rules");
    }
    if (Boolean.TRUE.equals(spec.getHostPID())) {
      found.add(
          "spec.hostPID is true: agent containers could read the sidecar's files and memory through /proc");
    }
    if (Boolean.TRUE.equals(spec.getShareProcessNamespace())) {
      found.add(
          "spec.shareProcessNamespace is true: agent containers could read the sidecar's files and memory through /proc");
    }
    if (Boolean.TRUE.equals(spec.getHostIPC())) {
      found.add(
          "spec.hostIPC is true: agent containers would share the node's IPC namespace (shared memory of"
              + " processes outside the pod)");
    }
    SidecarPorts exempt = podPorts(pod);
    found.addAll(podGroupViolations(spec.getSecurityContext(), exempt.proxyUid()));
    for (Container c : PodInjector.agentContainers(spec)) {
      found.addAll(
          containerViolations(
              exempt,
              new View(
                  "container",
                  c.getName(),
                  c.getSecurityContext(),
                  c.getVolumeMounts(),
                  c.getPorts()),
              spec));
    }
    return found;
  }

  /** The pod-level groups: the sidecar's uid is its gid too; no agent process shares it. */
  private static List<String> podGroupViolations(PodSecurityContext sc, long proxyUid) {
    List<String> found = new ArrayList<>();
    if (sc == null) {
      return found;
    }
    if (Objects.equals(sc.getFsGroup(), proxyUid)) {
      found.add(
          "spec.securityContext.fsGroup is "
              + proxyUid
              + ", the capgate sidecar's group: use another gid");
    }
    if (sc.getSupplementalGroups() != null && sc.getSupplementalGroups().contains(proxyUid)) {
      found.add(
          "spec.securityContext.supplementalGroups contains "
              + proxyUid
              + ", the capgate sidecar's group: use another gid");
    }
    return found;
  }

  /** Violations of the ephemeral containers of a running injected pod (kubectl debug). */
  public static List<String> ephemeralViolations(Pod pod) {
    return ephemeralViolations(pod, null);
  }

  /**
   * Violations of the ephemeral containers added to a running injected pod (kubectl debug): those
   * not in {@code before} (may be null: all). Ephemeral containers, once added, cannot change.
   */
  public static List<String> ephemeralViolations(Pod pod, Pod before) {
    PodSpec spec = pod.getSpec();
    List<String> found = new ArrayList<>();
    if (spec.getEphemeralContainers() == null) {
      return found;
    }
    Set<String> existing = new java.util.HashSet<>();
    if (before != null
        && before.getSpec() != null
        && before.getSpec().getEphemeralContainers() != null) {
      before.getSpec().getEphemeralContainers().forEach(e -> existing.add(e.getName()));
    }
    SidecarPorts exempt = podPorts(pod);
    for (EphemeralContainer e : spec.getEphemeralContainers()) {
      if (existing.contains(e.getName())) {
        continue;
      }
      if (e.getTargetContainerName() != null
          && PodInjector.CAPGATE_CONTAINERS.contains(e.getTargetContainerName())) {
        found.add(
            "ephemeral container \""
                + e.getName()
                + "\" targets \""
                + e.getTargetContainerName()
                + "\": it would share the sidecar's processes and read its CA key");
      }
      found.addAll(
          containerViolations(
              exempt,
              new View(
                  "ephemeral container",
                  e.getName(),
                  e.getSecurityContext(),
                  e.getVolumeMounts(),
                  e.getPorts()),
              spec));
    }
    return found;
  }

  /** Labels and annotations that only the webhook sets, at creation: no update may touch them. */
  static final List<String> PROTECTED_LABELS = List.of(PodMarkers.INJECT, PodMarkers.SESSION);

  static final List<String> PROTECTED_ANNOTATIONS =
      List.of(PodMarkers.SESSION, PodMarkers.STATUS, PodMarkers.CA, PodMarkers.CA_FINGERPRINT);

  /**
   * Violations of an UPDATE of a pod. A running pod's container images can be changed, and its
   * labels and annotations freely: neither may touch what Capgate put there.
   *
   * <ul>
   *   <li>{@code capgate-init} / {@code capgate-proxy} of an injected pod: changed (e.g. a proxy
   *       image that lets everything through) or removed;
   *   <li>the sidecar's volumes (immutable today; checked anyway, it costs nothing);
   *   <li>Capgate's labels and annotations, on any pod the webhook sees, added, changed or removed:
   *       the operator finds a session's pods by the session label (revocation, {@code DeletePods},
   *       the sidecars' RoleBinding) and their CAs by the CA annotation; without the opt-in label
   *       the webhook's objectSelector no longer matches, so the next UPDATE would not be checked;
   *       and a running pod cannot opt in (its containers cannot be added).
   * </ul>
   */
  public static List<String> updateViolations(Pod before, Pod after) {
    List<String> found = new ArrayList<>();
    for (String name : List.of(SidecarContract.INIT_CONTAINER, SidecarContract.PROXY_CONTAINER)) {
      Container old = initContainer(before, name);
      Container now = initContainer(after, name);
      if (old == null) {
        continue;
      }
      if (now == null) {
        found.add("container \"" + name + "\" cannot be removed from an injected pod");
      } else if (!Objects.equals(old.getImage(), now.getImage())) {
        found.add(
            "the image of container \""
                + name
                + "\" cannot be changed ("
                + old.getImage()
                + " -> "
                + now.getImage()
                + "): capgate's containers keep what the webhook gave them");
      } else if (!old.equals(now)) {
        found.add(
            "container \""
                + name
                + "\" of an injected pod cannot be changed: capgate's containers keep what"
                + " the webhook gave them");
      }
    }
    for (String name : PodInjector.RESERVED_VOLUMES) {
      Volume old = volume(before.getSpec(), name);
      if (old != null && !old.equals(volume(after.getSpec(), name))) {
        found.add("volume \"" + name + "\" of an injected pod cannot be changed or removed");
      }
    }
    for (String key : PROTECTED_LABELS) {
      String old = PodMarkers.label(before, key);
      String now = PodMarkers.label(after, key);
      if (!Objects.equals(old, now)) {
        found.add("label " + key + " " + change(old, now) + " (" + why(key, old) + ")");
      }
    }
    for (String key : PROTECTED_ANNOTATIONS) {
      String old = PodMarkers.annotation(before, key);
      String now = PodMarkers.annotation(after, key);
      if (!Objects.equals(old, now)) {
        found.add("annotation " + key + " " + change(old, now) + " (" + why(key, old) + ")");
      }
    }
    return found;
  }

  private static String change(String old, String now) {
    String what = old == null ? "added to" : now == null ? "removed from" : "changed on";
    return "cannot be " + what + " a running pod";
  }

  private static String why(String key, String old) {
    if (old == null) {
      return "a pod opts in to capgate when it is created: recreate it with the label "
          + PodMarkers.INJECT
          + "=true";
    }
    return switch (key) {
      case PodMarkers.INJECT -> "without it capgate no longer sees this pod's updates";
      case PodMarkers.SESSION -> "capgate finds a session's pods by it, to revoke them";
      default -> "only the webhook sets it; capgate tracks the pod's CA by it";
    };
  }

  /**
   * The uids this pod's iptables rules exempt: what the webhook gave its {@code capgate-init}
   * ({@code CAPGATE_PROXY_UID}, {@code CAPGATE_EXEMPT_UIDS}), which may differ from the contract's
   * defaults (chart {@code sidecar.proxyUid}, {@code sidecar.exemptUids}) and, for a pod injected
   * before the operator's setting changed, from the operator's current ones. The pod's own are the
   * ones that matter: its rules were made from them, and Capgate's containers cannot change once
   * admitted ({@link #updateViolations}). The defaults for a pod without {@code capgate-init} (no
   * rules, nothing exempt).
   */
  static SidecarPorts podPorts(Pod pod) {
    Container init = initContainer(pod, SidecarContract.INIT_CONTAINER);
    if (init == null || init.getEnv() == null) {
      return SidecarPorts.DEFAULTS;
    }
    java.util.Map<String, String> env = new java.util.HashMap<>();
    init.getEnv().stream()
        .filter(v -> v.getValue() != null)
        .forEach(v -> env.put(v.getName(), v.getValue()));
    return SidecarPorts.read(name -> java.util.Optional.ofNullable(env.get(name)));
  }

  /** The sidecar's uid in this pod's rules. */
  static long exemptUid(Pod pod) {
    return podPorts(pod).proxyUid();
  }

  /** Why {@code uid} may not be an agent's, or null when it may. */
  private static String exemptBecause(SidecarPorts exempt, long uid) {
    if (uid == exempt.proxyUid()) {
      return "the capgate sidecar's uid, whose traffic is not intercepted";
    }
    if (uid <= Integer.MAX_VALUE && exempt.exemptUids().contains((int) uid)) {
      return "a uid the pod's capgate rules exempt for another proxy (sidecar.exemptUids), whose"
          + " traffic is not intercepted";
    }
    return null;
  }

  private static Container initContainer(Pod pod, String name) {
    if (pod.getSpec() == null || pod.getSpec().getInitContainers() == null) {
      return null;
    }
    return pod.getSpec().getInitContainers().stream()
        .filter(c -> name.equals(c.getName()))
        .findFirst()
        .orElse(null);
  }

  /** Names the injection owns, in a pod that is not injected yet. */
  public static List<String> reservedNameViolations(Pod pod) {
    PodSpec spec = pod.getSpec();
    List<String> found = new ArrayList<>();
    List<Container> all = new ArrayList<>();
    if (spec.getInitContainers() != null) {
      all.addAll(spec.getInitContainers());
    }
    if (spec.getContainers() != null) {
      all.addAll(spec.getContainers());
    }
    for (Container c : all) {
      if (PodInjector.CAPGATE_CONTAINERS.contains(c.getName())) {
        found.add("container name \"" + c.getName() + "\" is reserved for the capgate sidecar");
      }
    }
    if (spec.getVolumes() != null) {
      for (Volume v : spec.getVolumes()) {
        if (PodInjector.RESERVED_VOLUMES.contains(v.getName())) {
          found.add("volume name \"" + v.getName() + "\" is reserved for the capgate sidecar");
        }
      }
    }
    return found;
  }

  public static boolean projectsServiceAccountToken(Volume volume) {
    return volume.getProjected() != null
        && volume.getProjected().getSources() != null
        && volume.getProjected().getSources().stream()
            .anyMatch(s -> s.getServiceAccountToken() != null);
  }

  /** A container of any kind, as far as the checks care. */
  private record View(
      String kind,
      String name,
      SecurityContext securityContext,
      List<VolumeMount> mounts,
      List<ContainerPort> ports) {
    String describe() {
      return kind + " \"" + name + "\"";
    }
  }

  private static List<String> containerViolations(SidecarPorts exempt, View c, PodSpec spec) {
    long proxyUid = exempt.proxyUid();
    List<String> found = new ArrayList<>();
    SecurityContext sc = c.securityContext();
    if (sc != null && Boolean.TRUE.equals(sc.getPrivileged())) {
      found.add(
          c.describe()
              + " is privileged: it could rewrite the pod's iptables rules and bypass the sidecar");
    }
    if (sc != null && Boolean.TRUE.equals(sc.getAllowPrivilegeEscalation())) {
      found.add(
          c.describe()
              + " sets allowPrivilegeEscalation: true: a setuid binary or file capability could give it"
              + " the capgate sidecar's uid; remove the field (capgate sets it to false)");
    }
    if (sc != null && "Unmasked".equals(sc.getProcMount())) {
      found.add(
          c.describe()
              + " sets procMount: Unmasked: /proc would expose the node's kernel settings; remove the field");
    }
    if (sc != null && sc.getCapabilities() != null && sc.getCapabilities().getAdd() != null) {
      for (String cap : sc.getCapabilities().getAdd()) {
        String normalized = normalizeCapability(cap);
        if (!AgentHardening.ADDABLE.contains(normalized)) {
          found.add(
              c.describe()
                  + " adds capability "
                  + normalized
                  + ", which would let it change its uid, the pod's"
                  + " network rules or the node: agent containers may add only "
                  + String.join(", ", new java.util.TreeSet<>(AgentHardening.ADDABLE)));
        }
      }
    }
    List<String> dropped =
        sc == null || sc.getCapabilities() == null || sc.getCapabilities().getDrop() == null
            ? List.of()
            : sc.getCapabilities().getDrop().stream()
                .map(AdmissionHardening::normalizeCapability)
                .toList();
    if (!dropped.contains("ALL") && !dropped.containsAll(AgentHardening.DROPPED)) {
      found.add(
          c.describe()
              + " does not drop "
              + String.join(", ", AgentHardening.DROPPED)
              + ": capgate drops them from every agent container");
    }
    Long uid = effectiveRunAsUser(sc, spec.getSecurityContext());
    if (uid == null) {
      found.add(
          c.describe()
              + " sets no runAsUser: set securityContext.runAsUser (any uid but "
              + exempt.uidsLeftAlone().stream()
                  .map(String::valueOf)
                  .collect(java.util.stream.Collectors.joining(", "))
              + "; 0 is allowed) on the container or the pod. The uid an image's USER gives is invisible at admission"
              + " and changes with the image; capgate needs the uid fixed, since the sidecar's uid "
              + proxyUid
              + " is not intercepted");
    } else if (exemptBecause(exempt, uid) != null) {
      boolean fromPod = sc == null || sc.getRunAsUser() == null;
      found.add(
          c.describe()
              + " runs as uid "
              + uid
              + (fromPod ? " (from the pod's securityContext)" : "")
              + ", "
              + exemptBecause(exempt, uid));
    }
    Long gid =
        sc != null && sc.getRunAsGroup() != null
            ? sc.getRunAsGroup()
            : spec.getSecurityContext() == null ? null : spec.getSecurityContext().getRunAsGroup();
    if (Objects.equals(gid, proxyUid)) {
      found.add(
          c.describe()
              + " runs as group "
              + gid
              + ", the capgate sidecar's group: use another gid");
    }
    if (c.ports() != null) {
      for (ContainerPort port : c.ports()) {
        if (port.getHostPort() != null && port.getHostPort() != 0) {
          found.add(
              c.describe()
                  + " sets hostPort "
                  + port.getHostPort()
                  + ": connections from the node's address would"
                  + " reach the agent without the sidecar; remove hostPort (use a Service)");
        }
      }
    }
    if (c.mounts() != null) {
      for (VolumeMount mount : c.mounts()) {
        Volume volume = volume(spec, mount.getName());
        String problem = volume == null ? null : mountProblem(volume);
        if (problem == null
            && PodInjector.TRUST_VOLUME.equals(mount.getName())
            && !Boolean.TRUE.equals(mount.getReadOnly())) {
          // An emptyDir since issue 13 (capgate-init writes it): writable, it would let one
          // container change what the pod's other agents trust.
          problem = "writable: the agents' trust files are mounted read-only";
        }
        if (problem != null) {
          found.add(c.describe() + " mounts volume \"" + mount.getName() + "\", " + problem);
        }
      }
    }
    return found;
  }

  private static String mountProblem(Volume volume) {
    if (PodInjector.CA_VOLUME.equals(volume.getName()) || holdsCaSecret(volume)) {
      return "which holds the pod CA key: only the capgate sidecar may mount it";
    }
    if (projectsServiceAccountToken(volume)) {
      return "which holds a service-account token: agent containers get none, the sidecar alone talks to Vault"
          + " and the Kubernetes API";
    }
    if (PodInjector.SIDECAR_ONLY_VOLUMES.contains(volume.getName())) {
      return "which belongs to the capgate sidecar";
    }
    if (volume.getHostPath() != null) {
      return "a hostPath volume: node files could expose the sidecar's CA key and token";
    }
    return null;
  }

  private static boolean holdsCaSecret(Volume volume) {
    if (volume.getSecret() != null && startsWithCaPrefix(volume.getSecret().getSecretName())) {
      return true;
    }
    if (volume.getProjected() != null && volume.getProjected().getSources() != null) {
      for (VolumeProjection source : volume.getProjected().getSources()) {
        if (source.getSecret() != null && startsWithCaPrefix(source.getSecret().getName())) {
          return true;
        }
      }
    }
    return false;
  }

  private static boolean startsWithCaPrefix(String name) {
    return name != null && name.startsWith(CA_SECRET_PREFIX);
  }

  private static Long effectiveRunAsUser(SecurityContext container, PodSecurityContext pod) {
    if (container != null && container.getRunAsUser() != null) {
      return container.getRunAsUser();
    }
    return pod == null ? null : pod.getRunAsUser();
  }

  private static Volume volume(PodSpec spec, String name) {
    if (spec == null || spec.getVolumes() == null) {
      return null;
    }
    return spec.getVolumes().stream()
        .filter(v -> v.getName().equals(name))
        .findFirst()
        .orElse(null);
  }

  /** Kubernetes accepts NET_ADMIN and CAP_NET_ADMIN, in any case. */
  static String normalizeCapability(String cap) {
    return AgentHardening.normalize(cap);
  }
}
