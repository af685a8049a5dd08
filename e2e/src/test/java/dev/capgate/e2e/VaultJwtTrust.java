package dev.capgate.e2e;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.ByteArrayInputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import java.util.List;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

/**
 * Points the stack's Vault JWT auth method at the operator's current session-signing key, as {@code
 * e2e/openbao/bootstrap.sh session-auth} does at every stack {@code up}: a fresh installation
 * (after an uninstall) makes a new key, and Vault must trust its {@code public.pem}
 * (charts/capgate/README.md, "Vault setup"). Only {@code jwt_validation_pubkeys} changes; the rest
 * of the mount's configuration is written back as it was. The root token is read from its file and
 * never printed.
 */
final class VaultJwtTrust {
  private static final ObjectMapper JSON = new ObjectMapper();

  private VaultJwtTrust() {}

  static void trust(Stack stack, String publicPem) {
    // Kind: Vault's address is a ClusterIP the host cannot reach; a port-forward for the call
    // (OpenBao's certificate names 127.0.0.1 for e2e/kind/up.sh's own port-forward).
    String forward = stack.valueOr("CAPGATE_E2E_VAULT_PORT_FORWARD", "");
    if (forward.isBlank()) {
      trust(stack, stack.vaultAddress(), publicPem);
      return;
    }
    String[] target = forward.split("/", 2); // namespace/svc/name:port
    Process pf = null;
    try {
      pf =
          new ProcessBuilder(
                  stack.kubectl(),
                  "--kubeconfig",
                  stack.kubeconfig(),
                  "-n",
                  target[0],
                  "port-forward",
                  target[1].substring(0, target[1].lastIndexOf(':')),
                  "0:" + target[1].substring(target[1].lastIndexOf(':') + 1))
              .redirectErrorStream(true)
              .start();
      var out =
          new java.io.BufferedReader(
              new java.io.InputStreamReader(pf.getInputStream(), StandardCharsets.UTF_8));
      String line;
      String port = null;
      while (port == null && (line = out.readLine()) != null) {
        var m =
            java.util.regex.Pattern.compile("Forwarding from 127\\.0\\.0\\.1:(\\d+)").matcher(line);
        if (m.find()) {
          port = m.group(1);
        }
      }
      if (port == null) {
        throw new IllegalStateException("kubectl port-forward " + forward + " did not start");
      }
      trust(stack, "https://127.0.0.1:" + port, publicPem);
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    } finally {
      if (pf != null) {
        pf.destroy();
      }
    }
  }

  private static void trust(Stack stack, String vaultAddress, String publicPem) {
    try {
      String token =
          Files.readString(Path.of(stack.value("CAPGATE_E2E_VAULT_ROOT_TOKEN_FILE"))).strip();
      String url =
          vaultAddress
              + "/v1/auth/"
              + stack.valueOr("CAPGATE_E2E_VAULT_JWT_MOUNT", "capgate-jwt")
              + "/config";
      HttpClient http = HttpClient.newBuilder().sslContext(ssl(stack.vaultCaPem())).build();
      HttpResponse<String> read =
          http.send(
              HttpRequest.newBuilder(URI.create(url)).header("X-Vault-Token", token).GET().build(),
              HttpResponse.BodyHandlers.ofString());
      if (read.statusCode() != 200) {
        throw new IllegalStateException("GET " + url + ": HTTP " + read.statusCode());
      }
      ObjectNode config = (ObjectNode) JSON.readTree(read.body()).get("data");
      ObjectNode write = JSON.createObjectNode();
      write.set("bound_issuer", config.get("bound_issuer"));
      write.putPOJO("jwt_validation_pubkeys", List.of(publicPem));
      HttpResponse<String> wrote =
          http.send(
              HttpRequest.newBuilder(URI.create(url))
                  .header("X-Vault-Token", token)
                  .POST(HttpRequest.BodyPublishers.ofString(JSON.writeValueAsString(write)))
                  .build(),
              HttpResponse.BodyHandlers.ofString());
      if (wrote.statusCode() / 100 != 2) {
        throw new IllegalStateException("POST " + url + ": HTTP " + wrote.statusCode());
      }
      Transcript.note("Vault " + url + ": jwt_validation_pubkeys = the operator's new public.pem");
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    } catch (java.security.GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  private static SSLContext ssl(String caPem)
      throws java.security.GeneralSecurityException, java.io.IOException {
    if (caPem == null) {
      return SSLContext.getDefault();
    }
    KeyStore trust = KeyStore.getInstance(KeyStore.getDefaultType());
    trust.load(null, null);
    int i = 0;
    for (var cert :
        CertificateFactory.getInstance("X.509")
            .generateCertificates(
                new ByteArrayInputStream(caPem.getBytes(StandardCharsets.US_ASCII)))) {
      trust.setCertificateEntry("ca" + i++, cert);
    }
    TrustManagerFactory tmf =
        TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    tmf.init(trust);
    SSLContext ctx = SSLContext.getInstance("TLS");
    ctx.init(null, tmf.getTrustManagers(), null);
    return ctx;
  }
}
