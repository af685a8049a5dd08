package dev.capgate.operator.it;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsServer;
import dev.capgate.operator.ca.ServingCertificates;
import io.fabric8.kubernetes.api.model.LabelSelectorBuilder;
import io.fabric8.kubernetes.api.model.admissionregistration.v1.MutatingWebhookConfigurationBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.io.ByteArrayInputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.security.KeyFactory;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import java.security.spec.PKCS8EncodedKeySpec;
import java.time.Duration;
import java.util.Base64;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;

/**
 * Another team's mutating webhook, called after Capgate's (configurations run in name order): it
 * adds a container, so the API server re-invokes Capgate's webhook (reinvocationPolicy IfNeeded) on
 * an already injected pod. Selects pods labelled {@code capgate-it/add-container}.
 */
final class ContainerAddingWebhook implements AutoCloseable {
  static final String LABEL = "capgate-it/add-container";
  static final String CONFIGURATION = "zz-capgate-it-container-adder";
  private static final ObjectMapper JSON = new ObjectMapper();

  private final HttpsServer server;
  private final KubernetesClient client;
  final AtomicInteger calls = new AtomicInteger();

  ContainerAddingWebhook(KubernetesClient client) throws Exception {
    this.client = client;
    ServingCertificates.Issued tls =
        ServingCertificates.issue(java.util.List.of("127.0.0.1"), Duration.ofDays(1));
    server = HttpsServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    server.setHttpsConfigurator(new HttpsConfigurator(sslContext(tls)));
    server.createContext(
        "/mutate",
        exchange -> {
          calls.incrementAndGet();
          JsonNode review = JSON.readTree(exchange.getRequestBody());
          String patch =
              """
          [{"op":"add","path":"/spec/containers/-","value":{"name":"late","image":"registry.example/late:1"}}]""";
          boolean hasLate = false;
          for (JsonNode c : review.path("request").path("object").path("spec").path("containers")) {
            hasLate |= "late".equals(c.path("name").asText());
          }
          String response =
              JSON.createObjectNode()
                  .put("apiVersion", "admission.k8s.io/v1")
                  .put("kind", "AdmissionReview")
                  .set(
                      "response",
                      hasLate
                          ? JSON.createObjectNode()
                              .put("uid", review.path("request").path("uid").asText())
                              .put("allowed", true)
                          : JSON.createObjectNode()
                              .put("uid", review.path("request").path("uid").asText())
                              .put("allowed", true)
                              .put("patchType", "JSONPatch")
                              .put(
                                  "patch",
                                  Base64.getEncoder()
                                      .encodeToString(patch.getBytes(StandardCharsets.UTF_8))))
                  .toString();
          byte[] body = response.getBytes(StandardCharsets.UTF_8);
          exchange.getResponseHeaders().add("Content-Type", "application/json");
          exchange.sendResponseHeaders(200, body.length);
          exchange.getResponseBody().write(body);
          exchange.close();
        });
    server.start();
    client
        .admissionRegistration()
        .v1()
        .mutatingWebhookConfigurations()
        .resource(
            new MutatingWebhookConfigurationBuilder()
                .withNewMetadata()
                .withName(CONFIGURATION)
                .endMetadata()
                .addNewWebhook()
                .withName("add-container.capgate-it.dev")
                .withNewClientConfig()
                .withUrl("https://127.0.0.1:" + server.getAddress().getPort() + "/mutate")
                .withCaBundle(
                    Base64.getEncoder()
                        .encodeToString(tls.caCertPem().getBytes(StandardCharsets.US_ASCII)))
                .endClientConfig()
                .addNewRule()
                .withOperations("CREATE")
                .withApiGroups("")
                .withApiVersions("v1")
                .withResources("pods")
                .endRule()
                .withObjectSelector(
                    new LabelSelectorBuilder().withMatchLabels(Map.of(LABEL, "true")).build())
                .withFailurePolicy("Fail")
                .withSideEffects("None")
                .withAdmissionReviewVersions("v1")
                .withReinvocationPolicy("Never")
                .withTimeoutSeconds(5)
                .endWebhook()
                .build())
        .forceConflicts()
        .serverSideApply();
  }

  private static SSLContext sslContext(ServingCertificates.Issued tls) throws Exception {
    var cert =
        CertificateFactory.getInstance("X.509")
            .generateCertificate(
                new ByteArrayInputStream(tls.certPem().getBytes(StandardCharsets.US_ASCII)));
    String base64 = tls.keyPem().replaceAll("-----[A-Z ]+-----", "").replaceAll("\\s", "");
    var key =
        KeyFactory.getInstance("EC")
            .generatePrivate(new PKCS8EncodedKeySpec(Base64.getDecoder().decode(base64)));
    KeyStore store = KeyStore.getInstance("PKCS12");
    store.load(null, null);
    store.setKeyEntry("server", key, new char[0], new java.security.cert.Certificate[] {cert});
    KeyManagerFactory keys = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
    keys.init(store, new char[0]);
    SSLContext context = SSLContext.getInstance("TLS");
    context.init(keys.getKeyManagers(), null, null);
    return context;
  }

  @Override
  public void close() {
    client
        .admissionRegistration()
        .v1()
        .mutatingWebhookConfigurations()
        .withName(CONFIGURATION)
        .delete();
    server.stop(0);
  }
}
