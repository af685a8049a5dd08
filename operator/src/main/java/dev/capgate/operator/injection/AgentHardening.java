package dev.capgate.operator.injection;

import io.fabric8.kubernetes.api.model.Capabilities;
import io.fabric8.kubernetes.api.model.SecurityContext;
import io.fabric8.kubernetes.api.model.SecurityContextBuilder;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * What the webhook sets in the security context of every agent container (regular, the pod's own
 * init containers, ephemeral ones), so that no agent process can ever become the sidecar's uid: the
 * iptables rules exempt the sidecar's uid ({@code CAPGATE_PROXY_UID} of {@code capgate-init}) and
 * nothing else.
 *
 * <ul>
 *   <li>{@code SETUID} and {@code SETGID} dropped: a process (root included) cannot change its uid
 *       without {@code CAP_SETUID}, and a dropped capability leaves the bounding set, so no exec
 *       brings it back;
 *   <li>{@code NET_ADMIN} and {@code NET_RAW} dropped: the pod's rules cannot be rewritten and no
 *       raw socket goes around them (NET_RAW is in the runtime's default set);
 *   <li>{@code allowPrivilegeEscalation: false} when absent (no_new_privs): setuid binaries and
 *       file capabilities give nothing on exec. An explicit {@code true} is refused instead ({@link
 *       AdmissionHardening}): silently overriding what a pod asks for hides the reason it fails
 *       later.
 * </ul>
 *
 * Idempotent: hardening a hardened context returns an equal one (re-invocation, golden files).
 */
public final class AgentHardening {
  /** Always dropped from agent containers, in this order. */
  public static final List<String> DROPPED = List.of("SETUID", "SETGID", "NET_ADMIN", "NET_RAW");

  /**
   * What an agent container may add: the Pod Security "baseline" list without SETUID and SETGID
   * (NET_RAW is not in it either). None of these changes a uid or the network stack.
   */
  public static final Set<String> ADDABLE =
      Set.of(
          "AUDIT_WRITE",
          "CHOWN",
          "DAC_OVERRIDE",
          "FOWNER",
          "FSETID",
          "KILL",
          "MKNOD",
          "NET_BIND_SERVICE",
          "SETFCAP",
          "SETPCAP",
          "SYS_CHROOT");

  private AgentHardening() {}

  /** A copy of {@code sc} (may be null) with the drops and allowPrivilegeEscalation set. */
  public static SecurityContext harden(SecurityContext sc) {
    SecurityContextBuilder out =
        sc == null ? new SecurityContextBuilder() : new SecurityContextBuilder(sc);
    if (sc == null || sc.getAllowPrivilegeEscalation() == null) {
      out.withAllowPrivilegeEscalation(false);
    }
    Capabilities caps = sc == null ? null : sc.getCapabilities();
    List<String> drop =
        new ArrayList<>(caps == null || caps.getDrop() == null ? List.of() : caps.getDrop());
    for (String cap : DROPPED) {
      if (drop.stream()
          .map(AgentHardening::normalize)
          .noneMatch(d -> d.equals(cap) || d.equals("ALL"))) {
        drop.add(cap);
      }
    }
    out.withCapabilities(
        new Capabilities(
            caps == null || caps.getAdd() == null
                ? new ArrayList<>()
                : new ArrayList<>(caps.getAdd()),
            drop));
    return out.build();
  }

  /** Kubernetes accepts NET_ADMIN and CAP_NET_ADMIN, in any case. */
  static String normalize(String cap) {
    String upper = cap == null ? "" : cap.trim().toUpperCase(Locale.ROOT);
    return upper.startsWith("CAP_") ? upper.substring(4) : upper;
  }
}
