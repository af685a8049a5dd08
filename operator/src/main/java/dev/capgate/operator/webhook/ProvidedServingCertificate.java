package dev.capgate.operator.webhook;

import dev.capgate.operator.ca.ServingCertificates;
import dev.capgate.operator.secrets.OperatorSecrets;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Objects;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The webhook's serving certificate from a Secret someone else keeps (chart {@code
 * webhook.certManager.enabled}: cert-manager's Certificate writes {@code tls.crt}, {@code tls.key}
 * and {@code ca.crt}). The operator only reads it — it never mints nor writes one then, unlike
 * {@link ServingCertificateStore} — waits for it at start (cert-manager issues it after the
 * install), and follows its renewals without a restart.
 */
public final class ProvidedServingCertificate implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(ProvidedServingCertificate.class);
  static final List<String> KEYS = List.of("tls.crt", "tls.key", "ca.crt");

  private final ServingCertificates.Issued initial;
  private SharedIndexInformer<Secret> informer;

  private ProvidedServingCertificate(ServingCertificates.Issued initial) {
    this.initial = initial;
  }

  /**
   * Waits up to {@code wait} for the Secret, then reads it.
   *
   * @throws IllegalStateException if it is still missing, or lacks one of {@link #KEYS}, naming
   *     what to check
   */
  public static ProvidedServingCertificate load(
      KubernetesClient client, String namespace, String secretName, Duration wait) {
    Instant deadline = Instant.now().plus(wait);
    Secret secret = client.secrets().inNamespace(namespace).withName(secretName).get();
    while (secret == null && Instant.now().isBefore(deadline)) {
      LOG.info(
          "waiting for the serving certificate Secret {}/{} (cert-manager's Certificate)",
          namespace,
          secretName);
      sleep(Duration.ofSeconds(2));
      secret = client.secrets().inNamespace(namespace).withName(secretName).get();
    }
    if (secret == null) {
      throw new IllegalStateException(
          "the serving certificate Secret "
              + namespace
              + "/"
              + secretName
              + " did not appear within "
              + wait.toSeconds()
              + "s: is cert-manager installed, and is the Certificate Ready (kubectl -n "
              + namespace
              + " describe certificate)?");
    }
    ServingCertificates.Issued issued = read(secret);
    LOG.info(
        "webhook serving certificate from secret {}/{}, provided (valid until {})",
        namespace,
        secretName,
        issued.notAfter());
    return new ProvidedServingCertificate(issued);
  }

  /** What the Secret held at start. */
  public ServingCertificates.Issued initial() {
    return initial;
  }

  /**
   * Calls {@code onRenewal} with each new certificate the Secret gets (cert-manager renews it
   * before it expires). A renewal with another CA is taken too, but the caBundle and the sidecars'
   * trust in the identity listener follow only the next start of the operator: logged.
   */
  public synchronized void follow(
      KubernetesClient client,
      String namespace,
      String secretName,
      Consumer<ServingCertificates.Issued> onRenewal) {
    informer =
        client
            .secrets()
            .inNamespace(namespace)
            .withName(secretName)
            .inform(
                new ResourceEventHandler<>() {
                  private String served = initial.certPem();

                  @Override
                  public void onAdd(Secret secret) {
                    changed(secret);
                  }

                  @Override
                  public void onUpdate(Secret before, Secret secret) {
                    changed(secret);
                  }

                  @Override
                  public void onDelete(Secret secret, boolean unknown) {
                    LOG.warn(
                        "serving certificate Secret {}/{} deleted: serving the last one until it"
                            + " is back",
                        namespace,
                        secretName);
                  }

                  private synchronized void changed(Secret secret) {
                    ServingCertificates.Issued renewed;
                    try {
                      renewed = read(secret);
                    } catch (IllegalStateException e) {
                      LOG.warn("{}: keeping the certificate served now", e.getMessage());
                      return;
                    }
                    if (renewed.certPem().equals(served)) {
                      return;
                    }
                    if (!Objects.equals(renewed.caCertPem(), initial.caCertPem())) {
                      LOG.warn(
                          "the serving certificate in {}/{} has a new CA: new injected sidecars"
                              + " and, with webhook.manageConfiguration, the caBundle keep the old"
                              + " one until the operator restarts",
                          namespace,
                          secretName);
                    }
                    onRenewal.accept(renewed);
                    served = renewed.certPem();
                  }
                });
  }

  static ServingCertificates.Issued read(Secret secret) {
    String where = secret.getMetadata().getNamespace() + "/" + secret.getMetadata().getName();
    if (secret.getData() == null || !secret.getData().keySet().containsAll(KEYS)) {
      throw new IllegalStateException(
          "the serving certificate Secret "
              + where
              + " must hold tls.crt, tls.key and ca.crt (cert-manager writes ca.crt for CA and"
              + " self-signed issuers); it holds "
              + (secret.getData() == null ? "nothing" : secret.getData().keySet()));
    }
    String cert = OperatorSecrets.text(secret, "tls.crt");
    return new ServingCertificates.Issued(
        OperatorSecrets.text(secret, "ca.crt"),
        cert,
        OperatorSecrets.text(secret, "tls.key"),
        notAfter(cert, where));
  }

  private static Instant notAfter(String pem, String where) {
    try {
      X509Certificate leaf =
          (X509Certificate)
              CertificateFactory.getInstance("X.509")
                  .generateCertificate(
                      new ByteArrayInputStream(pem.getBytes(StandardCharsets.US_ASCII)));
      return leaf.getNotAfter().toInstant();
    } catch (CertificateException | ClassCastException e) {
      throw new IllegalStateException(
          "tls.crt of the serving certificate Secret " + where + " is not a PEM certificate", e);
    }
  }

  private static void sleep(Duration d) {
    try {
      Thread.sleep(d);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while waiting for the serving certificate", e);
    }
  }

  @Override
  public synchronized void close() {
    if (informer != null) {
      informer.close();
    }
  }
}
