package dev.capgate.operator;

import dev.capgate.operator.ca.PodCaMinter;
import dev.capgate.operator.ca.ServingCertificates;
import dev.capgate.operator.ca.TrustBundle;
import dev.capgate.operator.injection.PodAdmitter;
import dev.capgate.operator.injection.PodInjector;
import dev.capgate.operator.injection.SessionResolver;
import dev.capgate.operator.session.AgentSessionReconciler;
import dev.capgate.operator.session.SessionRevocation;
import dev.capgate.operator.session.VaultRevoker;
import dev.capgate.operator.webhook.AdmissionServer;
import dev.capgate.operator.webhook.ServingCertificateStore;
import dev.capgate.operator.webhook.WebhookRegistration;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.javaoperatorsdk.operator.Operator;
import io.vertx.core.Vertx;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import java.time.Clock;
import java.util.HashSet;
import java.util.function.Supplier;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The operator as one object: the AgentSession reconciler (JOSDK) and the admission webhook
 * (Vert.x), wired from an {@link OperatorConfig}. {@link Main} runs it; tests start it in their
 * own JVM against a real API server.
 */
public final class CapgateOperator implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(CapgateOperator.class);
  /** In {@code CAPGATE_WEBHOOK_URL}, replaced by the port the webhook actually listens on. */
  public static final String PORT_PLACEHOLDER = "{port}";

  private final Operator operator;
  private final Vertx vertx;
  private final AdmissionServer webhook;
  private final KubernetesEvents events;
  private final int webhookPort;
  private final String caBundlePem;

  private CapgateOperator(Operator operator, Vertx vertx, AdmissionServer webhook, KubernetesEvents events,
      int webhookPort, String caBundlePem) {
    this.operator = operator;
    this.vertx = vertx;
    this.webhook = webhook;
    this.events = events;
    this.webhookPort = webhookPort;
    this.caBundlePem = caBundlePem;
  }

  public static CapgateOperator start(KubernetesClient client, OperatorConfig config) {
    Clock clock = Clock.systemUTC();
    KubernetesEvents events = new KubernetesEvents(client);

    SessionRevocation revocation = new SessionRevocation(client, vaultRevoker(config));
    Operator operator = new Operator(o -> o.withKubernetesClient(client).withCloseClientOnStop(false));
    operator.register(new AgentSessionReconciler(client, clock, config.orphanedCaGrace(), revocation, events), c -> {
      if (!config.watchNamespaces().isEmpty()) {
        c.settingNamespaces(new HashSet<>(config.watchNamespaces()));
      }
    });
    operator.start();

    PodAdmitter admitter = new PodAdmitter(client, new SessionResolver(client, clock),
        new PodCaMinter(clock, config.caMaxValidity()), TrustBundle.systemRoots(config.systemRootsFile()),
        new PodInjector(config.sidecar()), events);
    ServingCertificates.Issued tls = new ServingCertificateStore(client)
        .loadOrIssue(config.namespace(), config.webhookCertificateSecret(), config.servingCertificateNames());
    Vertx vertx = Vertx.vertx();
    AdmissionServer webhook = new AdmissionServer(vertx, admitter);
    int port = webhook.start(config.webhookHost(), config.webhookPort(), tls);

    WebhookRegistration registration = new WebhookRegistration(client);
    if (config.manageWebhookConfiguration()) {
      WebhookRegistration.Target target = config.webhookUrl() != null
          ? WebhookRegistration.Target.url(config.webhookUrl().replace(PORT_PLACEHOLDER, Integer.toString(port)))
          : WebhookRegistration.Target.service(config.namespace(), config.webhookServiceName(), config.webhookServicePort());
      registration.apply(config.webhookConfigurationName(), target, tls.caCertPem(), config.namespace());
    } else {
      registration.patchCaBundle(config.webhookConfigurationName(), tls.caCertPem());
    }
    LOG.info("capgate operator started (webhook port {}, sidecar image {})", port, config.sidecar().image());
    return new CapgateOperator(operator, vertx, webhook, events, port, tls.caCertPem());
  }

  public int webhookPort() {
    return webhookPort;
  }

  /** The CA the API server uses to verify the webhook. */
  public String caBundlePem() {
    return caBundlePem;
  }

  @Override
  public void close() {
    webhook.close();
    operator.stop();
    vertx.close().toCompletionStage().toCompletableFuture().join();
    events.close();
  }

  private static VaultRevoker vaultRevoker(OperatorConfig config) {
    String address = config.sidecar().vaultAddress();
    if (address == null) {
      LOG.warn("no Vault address configured: leases recorded by sidecars cannot be revoked");
      return null;
    }
    Supplier<String> token;
    if (config.operatorVaultTokenFile() != null) {
      Path file = config.operatorVaultTokenFile();
      token = () -> read(file);
    } else if (config.operatorVaultToken() != null) {
      String value = config.operatorVaultToken();
      token = () -> value;
    } else {
      LOG.warn("no Vault token for the operator: leases recorded by sidecars cannot be revoked");
      return null;
    }
    return new VaultRevoker(address, token, config.vaultCaCertFile() == null ? null : tls(config.vaultCaCertFile()));
  }

  private static String read(Path file) {
    try {
      return Files.readString(file).strip();
    } catch (IOException e) {
      throw new VaultRevoker.VaultUnavailableException("cannot read the operator's Vault token from " + file, e);
    }
  }

  private static SSLContext tls(Path caFile) {
    try (InputStream in = Files.newInputStream(caFile)) {
      KeyStore trust = KeyStore.getInstance("PKCS12");
      trust.load(null, null);
      int i = 0;
      for (var cert : CertificateFactory.getInstance("X.509").generateCertificates(in)) {
        trust.setCertificateEntry("vault-ca-" + i++, cert);
      }
      TrustManagerFactory factory = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
      factory.init(trust);
      SSLContext context = SSLContext.getInstance("TLS");
      context.init(null, factory.getTrustManagers(), null);
      return context;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("cannot use the Vault CA " + caFile, e);
    }
  }
}
