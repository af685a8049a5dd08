package dev.capgate.operator.webhook;

import dev.capgate.operator.ca.ServingCertificates;
import dev.capgate.operator.secrets.OperatorSecrets;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps the webhook's serving certificate in a Secret of the operator's namespace, so restarts and
 * replicas share one CA (and the caBundle does not churn). A missing certificate, one that expires
 * within {@link #RENEW_BEFORE}, or one issued for other names is replaced.
 */
public final class ServingCertificateStore {
  private static final Logger LOG = LoggerFactory.getLogger(ServingCertificateStore.class);
  static final Duration VALIDITY = Duration.ofDays(365);
  static final Duration RENEW_BEFORE = Duration.ofDays(30);
  static final String NAMES_ANNOTATION = "capgate.dev/serving-names";
  static final String NOT_AFTER_ANNOTATION = "capgate.dev/not-after";

  private final KubernetesClient client;

  public ServingCertificateStore(KubernetesClient client) {
    this.client = client;
  }

  public ServingCertificates.Issued loadOrIssue(
      String namespace, String secretName, List<String> names) {
    String wantedNames = String.join(",", names);
    Secret existing = client.secrets().inNamespace(namespace).withName(secretName).get();
    if (existing != null && usable(existing, wantedNames)) {
      LOG.info("webhook serving certificate from secret {}/{}", namespace, secretName);
      return new ServingCertificates.Issued(
          OperatorSecrets.text(existing, "ca.crt"),
          OperatorSecrets.text(existing, "tls.crt"),
          OperatorSecrets.text(existing, "tls.key"),
          Instant.parse(existing.getMetadata().getAnnotations().get(NOT_AFTER_ANNOTATION)));
    }
    ServingCertificates.Issued issued = ServingCertificates.issue(names, VALIDITY);
    Secret secret =
        OperatorSecrets.of(
            namespace,
            secretName,
            "webhook-tls",
            Map.of(
                NAMES_ANNOTATION, wantedNames, NOT_AFTER_ANNOTATION, issued.notAfter().toString()),
            "kubernetes.io/tls",
            Map.of(
                "ca.crt",
                issued.caCertPem(),
                "tls.crt",
                issued.certPem(),
                "tls.key",
                issued.keyPem()));
    try {
      if (existing == null) {
        client.secrets().resource(secret).create();
      } else {
        client.secrets().resource(secret).update();
      }
    } catch (KubernetesClientException e) {
      if (e.getCode() == 409) {
        // Another replica stored one first: use that one, so all replicas serve the same CA.
        return loadOrIssue(namespace, secretName, names);
      }
      throw e;
    }
    LOG.info(
        "issued a new webhook serving certificate for {} into secret {}/{}",
        wantedNames,
        namespace,
        secretName);
    return issued;
  }

  private static boolean usable(Secret secret, String wantedNames) {
    Map<String, String> annotations = secret.getMetadata().getAnnotations();
    if (annotations == null
        || !wantedNames.equals(annotations.get(NAMES_ANNOTATION))
        || secret.getData() == null
        || !secret.getData().keySet().containsAll(List.of("ca.crt", "tls.crt", "tls.key"))) {
      return false;
    }
    try {
      return Instant.parse(annotations.get(NOT_AFTER_ANNOTATION))
          .isAfter(Instant.now().plus(RENEW_BEFORE));
    } catch (RuntimeException e) {
      return false;
    }
  }
}
