package dev.capgate.operator.injection;

import io.fabric8.kubernetes.client.KubernetesClientException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Whether the Pod Security level of an agent pod's namespace lets the injected pod in. capgate-init
 * adds NET_ADMIN and NET_RAW and runs as root to install the iptables redirect, which the {@code
 * baseline} and {@code restricted} levels forbid; only {@code privileged} (the default when the
 * namespace sets no label) admits it. Checked by the webhook before it mints anything, so the user
 * reads what to change instead of the API server's generic PodSecurity message after a CA was
 * minted for nothing.
 *
 * <p>Only the namespace's labels are visible here: a cluster-wide default level or exemptions in
 * the API server's PodSecurity admission configuration are not, so PodSecurity admission stays the
 * authority and this is advice that comes early. The one case judged wrongly: a namespace exempted
 * there that still carries a baseline/restricted enforce label is refused here; the message says to
 * remove the label.
 */
final class NamespacePodSecurity {
  private static final Logger LOG = LoggerFactory.getLogger(NamespacePodSecurity.class);

  static final String PREFIX = "pod-security.kubernetes.io/";
  static final String ENFORCE = PREFIX + "enforce";
  static final String WARN = PREFIX + "warn";
  static final String AUDIT = PREFIX + "audit";

  /** The levels that reject capgate-init's capabilities (and its running as root). */
  static final Set<String> TOO_STRICT = Set.of("baseline", "restricted");

  /** What the namespace's labels mean for an injected pod. */
  sealed interface Verdict {
    /** The pod may be injected; {@code warnings} go back to whoever creates it. */
    record Fits(List<String> warnings) implements Verdict {}

    /** PodSecurity admission would reject the injected pod: refuse now, saying why. */
    record Rejects(String reason) implements Verdict {}
  }

  private NamespacePodSecurity() {}

  /**
   * Reads the namespace's labels (at most every {@link NamespaceLabels#TTL}: issue 13) and judges
   * them.
   *
   * <p>A failed read (RBAC missing, API server hiccup) admits the pod with a warning that the level
   * could not be checked: PodSecurity admission still runs after the webhook and rejects the pod if
   * its namespace forbids it, so nothing unsafe is stored; refusing instead would make every
   * injection depend on a read that only improves an error message.
   */
  static Verdict of(NamespaceLabels namespaces, String namespace) {
    Map<String, String> labels;
    try {
      labels = namespaces.of(namespace);
    } catch (KubernetesClientException e) {
      LOG.warn(
          "could not read namespace {} to check its Pod Security labels (HTTP {}): {}",
          namespace,
          e.getCode(),
          e.getMessage());
      return new Verdict.Fits(
          List.of(
              "capgate could not read namespace "
                  + namespace
                  + " to check its Pod Security level (HTTP "
                  + e.getCode()
                  + "); agent namespaces need "
                  + ENFORCE
                  + "=privileged"));
    }
    return judge(namespace, labels);
  }

  /** The verdict for a namespace with these labels. */
  static Verdict judge(String namespace, Map<String, String> labels) {
    String enforce = labels.get(ENFORCE);
    if (enforce != null && TOO_STRICT.contains(enforce)) {
      return new Verdict.Rejects(
          "namespace "
              + namespace
              + " enforces Pod Security level \""
              + enforce
              + "\" (label "
              + ENFORCE
              + "="
              + enforce
              + "), which rejects the injected pod: its capgate-init container adds the NET_ADMIN"
              + " and NET_RAW capabilities and runs as root to install the traffic redirect."
              + " Agent namespaces must allow the privileged level: kubectl label namespace "
              + namespace
              + " "
              + ENFORCE
              + "=privileged --overwrite. A platform team with a stricter cluster-wide default"
              + " labels its agent namespaces so, or lists them under the exemptions of the API"
              + " server's PodSecurity admission configuration and removes this label");
    }
    List<String> warnings = new ArrayList<>();
    for (String mode : List.of(WARN, AUDIT)) {
      String level = labels.get(mode);
      if (level != null && TOO_STRICT.contains(level)) {
        // The API server may truncate a warning over 256 characters: this one stays under it
        // even with a 63-character namespace name.
        warnings.add(
            "capgate: namespace "
                + namespace
                + " sets "
                + mode
                + "="
                + level
                + "; capgate-init needs NET_ADMIN, NET_RAW and root: set "
                + mode
                + "=privileged");
      }
    }
    return new Verdict.Fits(warnings);
  }
}
