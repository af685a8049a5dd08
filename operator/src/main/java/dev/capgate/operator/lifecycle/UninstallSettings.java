package dev.capgate.operator.lifecycle;

import dev.capgate.api.v1alpha1.Durations;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * What the chart's uninstall hooks tell the operator image (environment variables the hook Jobs
 * set, named like the Deployment's where they mean the same thing).
 *
 * @param releaseNamespace where the operator ran ({@code CAPGATE_NAMESPACE})
 * @param watchNamespaces the installation's namespaces, empty for all ({@code
 *     CAPGATE_WATCH_NAMESPACES}): the hooks touch nothing outside them, so another installation's
 *     sessions survive
 * @param timeout how long each hook waits (sessions revoked / operator pods gone) before it fails
 *     ({@code CAPGATE_UNINSTALL_TIMEOUT}, the API's duration grammar)
 * @param operatorSelector label selector of the operator's pods ({@code CAPGATE_OPERATOR_SELECTOR})
 * @param signerSecret the session-signing key Secret ({@code CAPGATE_SESSION_SIGNER_SECRET})
 * @param webhookCertSecret the webhook's serving certificate Secret ({@code
 *     CAPGATE_WEBHOOK_CERT_SECRET})
 * @param leaderLease the leader-election Lease ({@code CAPGATE_LEADER_ELECTION_LEASE})
 * @param webhookConfiguration the MutatingWebhookConfiguration's name, set only when the operator
 *     applied it itself ({@code webhook.manageConfiguration}), else empty
 */
public record UninstallSettings(
    String releaseNamespace,
    List<String> watchNamespaces,
    Duration timeout,
    String operatorSelector,
    String signerSecret,
    String webhookCertSecret,
    String leaderLease,
    String webhookConfiguration) {

  public static UninstallSettings fromEnv(Map<String, String> env) {
    return new UninstallSettings(
        required(env, "CAPGATE_NAMESPACE"),
        Arrays.stream(env.getOrDefault("CAPGATE_WATCH_NAMESPACES", "").split(","))
            .map(String::strip)
            .filter(s -> !s.isEmpty())
            .toList(),
        Durations.parse(env.getOrDefault("CAPGATE_UNINSTALL_TIMEOUT", "2m")),
        required(env, "CAPGATE_OPERATOR_SELECTOR"),
        required(env, "CAPGATE_SESSION_SIGNER_SECRET"),
        required(env, "CAPGATE_WEBHOOK_CERT_SECRET"),
        env.getOrDefault("CAPGATE_LEADER_ELECTION_LEASE", ""),
        env.getOrDefault("CAPGATE_WEBHOOK_CONFIGURATION", ""));
  }

  private static String required(Map<String, String> env, String name) {
    String v = env.get(name);
    if (v == null || v.isBlank()) {
      throw new IllegalArgumentException(name + " is not set (the chart's uninstall hook sets it)");
    }
    return v;
  }
}
