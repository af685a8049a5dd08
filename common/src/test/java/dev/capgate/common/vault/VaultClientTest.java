package dev.capgate.common.vault;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsServer;
import java.io.IOException;
import java.io.StringWriter;
import java.math.BigInteger;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The transport of the one Vault client, against a real HTTP(S) server on loopback standing in for
 * Vault's wire format: what a reply and an error may say, and whom an https Vault must be trusted
 * by. The client's behaviour against real OpenBao is in the sidecar's, the operator's and the test
 * kit's Vault ITs.
 */
class VaultClientTest {
  private static final String SECRET = "s3cr3t-value-must-not-leak";
  private static final String TOKEN = "hvs.token-that-must-not-leak";
  private static final Duration TIMEOUT = Duration.ofSeconds(5);

  @TempDir Path dir;
  private final List<HttpServer> servers = new CopyOnWriteArrayList<>();
  private final List<String> seenTokens = new CopyOnWriteArrayList<>();
  private final List<String> seenBodies = new CopyOnWriteArrayList<>();

  @AfterEach
  void stopServers() {
    servers.forEach(s -> s.stop(0));
  }

  @Test
  void anErrorReplyHoldingASecretNeverShowsItInToStringOrExceptions() throws Exception {
    String body =
        "{\"errors\":[\"permission denied: "
            + SECRET
            + "\"],\"data\":{\"token\":\""
            + TOKEN
            + "\"}}";
    VaultClient vault = VaultClient.create(start(http(), 403, body), (Path) null, TIMEOUT);

    VaultReply reply = vault.call("POST", "secret/data/x", TOKEN, Map.of("value", SECRET));

    assertThat(reply.status()).isEqualTo(403);
    assertThat(reply.ok()).isFalse();
    assertThat(reply.data().path("token").asText()).as("the caller can read it").isEqualTo(TOKEN);
    assertThat(reply.errorsMention("permission denied")).isTrue();
    assertThat(seenTokens).containsExactly(TOKEN);
    assertThat(seenBodies).containsExactly("{\"value\":\"" + SECRET + "\"}");
    assertThat(reply.toString()).isEqualTo("VaultReply[status=403]");
    assertThat(reply.describe("secret/data/x")).doesNotContain(SECRET).doesNotContain(TOKEN);
    assertThatThrownBy(() -> reply.orThrow("POST secret/data/x"))
        .isInstanceOf(VaultCallException.class)
        .hasMessage("Vault denied access to POST secret/data/x (HTTP 403)")
        .satisfies(e -> assertThat(((VaultCallException) e).status()).isEqualTo(403));
    assertThat(vault.toString()).doesNotContain(TOKEN);
  }

  @Test
  void aBodyThatIsNotJsonIsNoBodyAndNeverQuoted() throws Exception {
    String address = start(http(), 502, "<html>" + SECRET + "</html>");
    VaultReply reply =
        VaultClient.create(address, (Path) null, TIMEOUT).call("GET", "x", null, null);

    assertThat(reply.status()).isEqualTo(502);
    assertThat(reply.body().isMissingNode()).isTrue();
    assertThatThrownBy(() -> reply.orThrow("GET x"))
        .hasMessage("Vault answered HTTP 502 for GET x")
        .hasNoCause();
  }

  @Test
  void noAnswerIsStatusZeroSayingWhy() throws Exception {
    HttpServer server = http();
    String address = start(server, 200, "{}");
    server.stop(0);

    VaultReply reply =
        VaultClient.create(address, (Path) null, TIMEOUT).call("GET", "x", TOKEN, null);

    assertThat(reply.answered()).isFalse();
    assertThat(reply.status()).isZero();
    assertThat(reply.toString()).startsWith("VaultReply[no answer: ").doesNotContain(TOKEN);
    assertThatThrownBy(() -> reply.orThrow("GET x"))
        .hasMessageStartingWith("Vault unreachable (GET x): ")
        .hasMessageNotContaining(TOKEN);
  }

  @Test
  void aWrappedCallAsksForTheWrapTtl() throws Exception {
    List<String> wrapTtls = new CopyOnWriteArrayList<>();
    HttpServer server = http();
    server.createContext(
        "/v1/auth/jwt/login",
        exchange -> {
          wrapTtls.add(exchange.getRequestHeaders().getFirst(VaultClient.WRAP_TTL_HEADER));
          answer(exchange, 200, "{\"wrap_info\":{\"token\":\"w\"}}");
        });
    server.start();
    VaultClient vault = VaultClient.create(address(server, "http"), (Path) null, TIMEOUT);

    VaultReply reply =
        vault.callWrapped(
            "POST", "auth/jwt/login", null, Map.of("role", "r"), Duration.ofSeconds(60));

    assertThat(reply.body().path("wrap_info").path("token").asText()).isEqualTo("w");
    assertThat(wrapTtls).containsExactly("60s");
  }

  @Test
  void aStringBodyIsRefusedRatherThanSentAsAJsonString() {
    VaultClient vault = VaultClient.create("http://127.0.0.1:1", (Path) null, TIMEOUT);
    assertThatThrownBy(() -> vault.call("POST", "x", null, "{\"a\":1}"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("not a String");
  }

  @Test
  void anAddressThatIsNotAnHttpUrlIsAClearError() {
    assertThatThrownBy(() -> VaultClient.create("vault:8200", (Path) null, TIMEOUT))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("http:// or https:// URL");
    assertThatThrownBy(() -> VaultClient.create("https://u:p@vault:8200", (Path) null, TIMEOUT))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void anHttpsVaultWithAPrivateCaIsTrustedWithThatCaOnly() throws Exception {
    Ca vaultCa = Ca.create("vault-ca");
    Ca wrongCa = Ca.create("other-ca");
    HttpsServer server =
        HttpsServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    server.setHttpsConfigurator(new HttpsConfigurator(vaultCa.serverContext("127.0.0.1")));
    servers.add(server);
    String address = start(server, 200, "{\"data\":{\"ok\":true}}");

    VaultReply trusted =
        VaultClient.create(address, vaultCa.writePem(dir.resolve("vault-ca.pem")), TIMEOUT)
            .call("GET", "sys/health", TOKEN, null);
    VaultReply otherCa =
        VaultClient.create(address, wrongCa.writePem(dir.resolve("other-ca.pem")), TIMEOUT)
            .call("GET", "sys/health", TOKEN, null);
    VaultReply jdkDefaults =
        VaultClient.create(address, (Path) null, TIMEOUT).call("GET", "sys/health", TOKEN, null);

    assertThat(trusted.status()).isEqualTo(200);
    assertThat(trusted.data().path("ok").asBoolean()).isTrue();
    assertThat(otherCa.answered()).as("a CA that did not issue Vault's certificate").isFalse();
    assertThat(jdkDefaults.answered()).as("the JDK's public CAs").isFalse();
    assertThat(otherCa.failure()).contains("SSL");
    assertThat(seenTokens).as("the token went to the trusted server only").containsExactly(TOKEN);
  }

  @Test
  void aCaFileWithoutCertificateIsAClearError() throws IOException {
    Path empty = Files.writeString(dir.resolve("empty.pem"), "not a certificate\n");
    assertThatThrownBy(() -> VaultClient.create("https://127.0.0.1:1", empty, TIMEOUT))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("the Vault CA file " + empty);
  }

  // ------------------------------------------------------------------ helpers

  private HttpServer http() throws IOException {
    HttpServer server =
        HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    servers.add(server);
    return server;
  }

  /** Answers every request with {@code status} and {@code body}, recording token and body. */
  private String start(HttpServer server, int status, String body) {
    server.createContext(
        "/",
        exchange -> {
          String token = exchange.getRequestHeaders().getFirst(VaultClient.TOKEN_HEADER);
          if (token != null) {
            seenTokens.add(token);
          }
          byte[] sent = exchange.getRequestBody().readAllBytes();
          if (sent.length > 0) {
            seenBodies.add(new String(sent, StandardCharsets.UTF_8));
          }
          answer(exchange, status, body);
        });
    server.start();
    return address(server, server instanceof HttpsServer ? "https" : "http");
  }

  private static String address(HttpServer server, String scheme) {
    return scheme + "://127.0.0.1:" + server.getAddress().getPort();
  }

  private static void answer(HttpExchange exchange, int status, String body) throws IOException {
    byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
    exchange.getResponseHeaders().set("Content-Type", "application/json");
    exchange.sendResponseHeaders(status, bytes.length);
    try (var out = exchange.getResponseBody()) {
      out.write(bytes);
    }
  }

  /** A private CA (Bouncy Castle) that issues one server certificate for an IP address. */
  private record Ca(KeyPair keys, X509Certificate certificate) {
    static Ca create(String name) throws Exception {
      KeyPair keys = keyPair();
      X500Name subject = new X500Name("CN=" + name);
      var builder =
          new JcaX509v3CertificateBuilder(
                  subject, serial(), notBefore(), notAfter(), subject, keys.getPublic())
              .addExtension(Extension.basicConstraints, true, new BasicConstraints(true));
      return new Ca(keys, sign(builder, keys));
    }

    SSLContext serverContext(String ip) throws Exception {
      KeyPair leafKeys = keyPair();
      var builder =
          new JcaX509v3CertificateBuilder(
                  new X500Name(certificate.getSubjectX500Principal().getName()),
                  serial(),
                  notBefore(),
                  notAfter(),
                  new X500Name("CN=vault"),
                  leafKeys.getPublic())
              .addExtension(
                  Extension.subjectAlternativeName,
                  false,
                  new GeneralNames(new GeneralName(GeneralName.iPAddress, ip)));
      X509Certificate leaf = sign(builder, keys);
      KeyStore store = KeyStore.getInstance("PKCS12");
      store.load(null, null);
      char[] password = "pw".toCharArray();
      store.setKeyEntry("vault", leafKeys.getPrivate(), password, new X509Certificate[] {leaf});
      KeyManagerFactory factory =
          KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
      factory.init(store, password);
      SSLContext context = SSLContext.getInstance("TLS");
      context.init(factory.getKeyManagers(), null, null);
      return context;
    }

    Path writePem(Path file) throws IOException {
      StringWriter pem = new StringWriter();
      try (JcaPEMWriter writer = new JcaPEMWriter(pem)) {
        writer.writeObject(certificate);
      }
      return Files.writeString(file, pem.toString());
    }

    private static KeyPair keyPair() throws Exception {
      KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
      generator.initialize(256);
      return generator.generateKeyPair();
    }

    private static X509Certificate sign(X509v3CertificateBuilder builder, KeyPair issuer)
        throws Exception {
      return new JcaX509CertificateConverter()
          .getCertificate(
              builder.build(
                  new JcaContentSignerBuilder("SHA256withECDSA").build(issuer.getPrivate())));
    }

    private static BigInteger serial() {
      return BigInteger.valueOf(System.nanoTime());
    }

    private static Date notBefore() {
      return Date.from(Instant.now().minusSeconds(60));
    }

    private static Date notAfter() {
      return Date.from(Instant.now().plus(Duration.ofDays(1)));
    }
  }
}
