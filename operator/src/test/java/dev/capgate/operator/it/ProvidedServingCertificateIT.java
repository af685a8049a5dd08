package dev.capgate.operator.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.capgate.operator.CapgateOperator;
import dev.capgate.operator.ca.ServingCertificates;
import dev.capgate.operator.config.OperatorConfig;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509TrustManager;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The chart's {@code webhook.certManager.enabled}, on the operator's side: its serving certificate
 * comes from a Secret someone else wrote (as cert-manager's Certificate writes it: {@code tls.crt},
 * {@code tls.key}, {@code ca.crt}, no capgate annotations). The operator serves exactly that
 * certificate on both ports, the real API server calls the webhook trusting the Secret's {@code
 * ca.crt}, the Secret is never written, and a renewal is served without a restart. cert-manager
 * itself cannot run here; its Certificate is checked by rendering (HelmChartIT).
 */
class ProvidedServingCertificateIT {
  static final String CONFIGURATION = "capgate-provided-cert-it";
  static final String SECRET = "provided-webhook-tls";
  static OperatorUnderTest stack;
  static KubernetesClient admin;
  static String own;
  static ServingCertificates.Issued first;
  static String firstVersion;
  static CapgateOperator operator;

  @BeforeAll
  static void start() {
    stack = OperatorUnderTest.shared();
    admin = stack.client;
    own = stack.kube.newNamespace("capgate-provided");
    first = ServingCertificates.issue(List.of("127.0.0.1"), Duration.ofDays(90));
    firstVersion = admin.resource(tlsSecret(first)).create().getMetadata().getResourceVersion();
    operator = CapgateOperator.start(admin, config(SECRET), () -> {});
    // Narrowed to the shared operator's namespace, which that operator's webhook leaves out, so
    // an admission there reaches this webhook only (as in MeshPortsIT).
    OperatorUnderTest.narrowWebhook(admin, CONFIGURATION, OperatorUnderTest.OPERATOR_NAMESPACE);
  }

  @AfterAll
  static void stop() {
    if (operator != null) {
      operator.close();
    }
    OperatorUnderTest.removeInstallation(admin, CONFIGURATION);
  }

  @Test
  void theOperatorServesTheProvidedCertificateAndTheApiServerTrustsItsCa() throws Exception {
    assertThat(presented(operator.webhookPort())).isEqualTo(certificate(first.certPem()));
    assertThat(presented(operator.identityPort())).isEqualTo(certificate(first.certPem()));
    assertThat(operator.caBundlePem()).isEqualTo(first.caCertPem());
    String caBundle =
        admin
            .admissionRegistration()
            .v1()
            .mutatingWebhookConfigurations()
            .withName(CONFIGURATION)
            .get()
            .getWebhooks()
            .getFirst()
            .getClientConfig()
            .getCaBundle();
    assertThat(new String(Base64.getDecoder().decode(caBundle), StandardCharsets.UTF_8))
        .isEqualTo(first.caCertPem());

    // The API server's call: over TLS verified against the Secret's ca.crt, else its error would
    // be an x509 one, not the webhook's answer (no session of that name).
    stack.createServiceAccount(OperatorUnderTest.OPERATOR_NAMESPACE, "provided-cert-agent");
    String pod =
        OperatorUnderTest.agentPod("provided-cert", "no-such-session", "provided-cert-agent");
    assertThatThrownBy(() -> stack.createPod(OperatorUnderTest.OPERATOR_NAMESPACE, pod))
        .hasMessageContaining("capgate refused pod")
        .hasMessageNotContaining("x509");
    System.out.println(
        "[evidence] webhook called by the API server over the provided certificate (cert-manager's"
            + " Secret shape)");
  }

  @Test
  void theSecretIsNeverWrittenAndARenewalIsServedWithoutARestart() throws Exception {
    Secret now = admin.secrets().inNamespace(own).withName(SECRET).get();
    assertThat(now.getMetadata().getResourceVersion()).isEqualTo(firstVersion);
    assertThat(now.getMetadata().getAnnotations()).isNullOrEmpty();

    ServingCertificates.Issued renewed =
        ServingCertificates.issue(List.of("127.0.0.1"), Duration.ofDays(90));
    admin.resource(tlsSecret(renewed)).update();
    X509Certificate expected = certificate(renewed.certPem());
    await("the renewed certificate is served on both ports")
        .atMost(Duration.ofSeconds(30))
        .untilAsserted(
            () -> {
              assertThat(presented(operator.webhookPort())).isEqualTo(expected);
              assertThat(presented(operator.identityPort())).isEqualTo(expected);
            });
    System.out.println("[evidence] renewed provided certificate served without a restart");
  }

  @Test
  void aSecretWithoutItsCaIsRefusedAtStartNamingWhatIsMissing() {
    ServingCertificates.Issued issued =
        ServingCertificates.issue(List.of("127.0.0.1"), Duration.ofDays(1));
    Secret noCa = tlsSecret(issued);
    noCa.getMetadata().setName("no-ca-tls");
    noCa.getData().remove("ca.crt");
    admin.resource(noCa).create();
    assertThatThrownBy(() -> CapgateOperator.start(admin, config("no-ca-tls"), () -> {}))
        .hasMessageContaining(
            "the serving certificate Secret "
                + own
                + "/no-ca-tls must hold tls.crt, tls.key and"
                + " ca.crt");
  }

  private static OperatorConfig config(String secret) {
    Map<String, String> env = OperatorUnderTest.loopbackEnv(own, CONFIGURATION, stack.bao);
    // The serving certificate is cert-manager's Secret: no names of the operator's own.
    env.remove("CAPGATE_WEBHOOK_CERT_NAMES");
    // Its reconciler watches its own (empty) namespace: the shared operator reconciles the rest.
    env.put("CAPGATE_WATCH_NAMESPACES", own);
    env.put("CAPGATE_WEBHOOK_CERT_SECRET", secret);
    env.put("CAPGATE_WEBHOOK_CERT_PROVIDED", "true");
    env.put("CAPGATE_LEADER_ELECTION", "false");
    return OperatorConfig.fromEnv(env);
  }

  /** As cert-manager writes it: type kubernetes.io/tls, the three keys, nothing of capgate's. */
  private static Secret tlsSecret(ServingCertificates.Issued issued) {
    Map<String, String> data = new LinkedHashMap<>();
    data.put("tls.crt", base64(issued.certPem()));
    data.put("tls.key", base64(issued.keyPem()));
    data.put("ca.crt", base64(issued.caCertPem()));
    return new SecretBuilder()
        .withNewMetadata()
        .withName(SECRET)
        .withNamespace(own)
        .endMetadata()
        .withType("kubernetes.io/tls")
        .withData(data)
        .build();
  }

  /** The certificate a listener presents; read without judging it (what is compared is it). */
  private static X509Certificate presented(int port) throws Exception {
    SSLContext context = SSLContext.getInstance("TLS");
    context.init(null, new TrustManager[] {new AcceptAny()}, null);
    try (SSLSocket socket =
        (SSLSocket) context.getSocketFactory().createSocket("127.0.0.1", port)) {
      socket.startHandshake();
      return (X509Certificate) socket.getSession().getPeerCertificates()[0];
    }
  }

  private static X509Certificate certificate(String pem) throws Exception {
    return (X509Certificate)
        CertificateFactory.getInstance("X.509")
            .generateCertificate(new ByteArrayInputStream(pem.getBytes(StandardCharsets.US_ASCII)));
  }

  private static String base64(String text) {
    return Base64.getEncoder().encodeToString(text.getBytes(StandardCharsets.UTF_8));
  }

  /** Only to read what a listener presents; nothing is sent over the connection. */
  private static final class AcceptAny implements X509TrustManager {
    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType) {}

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType) {}

    @Override
    public X509Certificate[] getAcceptedIssuers() {
      return new X509Certificate[0];
    }
  }
}
