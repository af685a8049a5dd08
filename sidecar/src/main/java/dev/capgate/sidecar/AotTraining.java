package dev.capgate.sidecar;

import dev.capgate.api.sidecar.SidecarContract;
import dev.capgate.sidecar.config.SidecarConfig;
import dev.capgate.sidecar.tls.Leaf;
import dev.capgate.sidecar.tls.LeafMinter;
import dev.capgate.sidecar.tls.PodCa;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClientAgent;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.net.PemKeyCertOptions;
import io.vertx.core.net.PemTrustOptions;
import io.vertx.core.net.SocketAddress;
import java.io.IOException;
import java.io.StringWriter;
import java.math.BigInteger;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.logging.Logger;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.openssl.jcajce.JcaPKCS8Generator;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * {@code capgate-sidecar aot-train}: the training run of the image's AOT cache (JDK 25, JEP
 * 514/515; {@code java -XX:AOTCacheOutput=... -jar capgate-sidecar.jar aot-train}). The cache holds
 * the classes this run loads and linked, and the profiles of the methods it ran, so it must run
 * what a pod runs: the real proxy start-up (file mode, a throwaway pod CA) to ready, then
 * TLS-intercepted HTTP/1.1 and HTTP/2 requests (allowed, denied by path, denied by method) through
 * the real router, leaf minter and upstream TLS to an upstream on loopback, a refused DNS name, and
 * the admin endpoints. Exits 0 when every answer was the expected one.
 *
 * <p>Everything stays on loopback, in a temporary directory that is deleted afterwards; nothing of
 * this run (CA, keys) is in the cache, which holds classes and profiles only. The one thing the
 * real proxy never does: with no iptables at image build time, the connections' original
 * destination is the loopback upstream, named here, instead of {@code SO_ORIGINAL_DST} (see {@link
 * ProxyCommand#ProxyCommand(SidecarConfig, java.util.function.Function)}, not reachable from any
 * flag or variable).
 */
final class AotTraining {
  private static final Logger LOG = Logger.getLogger(AotTraining.class.getName());
  static final String ARG = "aot-train";
  private static final String UPSTREAM_HOST = "upstream.aot-train.test";

  /** Rounds of the request set: enough for the C1/C2 profiles of the hot path (JEP 515). */
  private static final int ROUNDS = 60;

  private static final long REQUEST_TIMEOUT_SECONDS = 90;

  private AotTraining() {}

  /** Runs the training; 0 when every answer was as expected, 1 otherwise. */
  static int run() {
    Path dir = null;
    try {
      dir = Files.createTempDirectory("capgate-aot-train");
      return train(dir);
    } catch (Exception e) {
      LOG.severe("AOT training failed: " + e);
      return 1;
    } finally {
      if (dir != null) {
        deleteTree(dir);
      }
    }
  }

  private static int train(Path dir) throws Exception {
    KeyPair caKeys = ecKeys();
    X509Certificate caCert = selfSignedCa(caKeys);
    Path caCertFile = Files.writeString(dir.resolve("ca.crt"), pem(caCert));
    Path caKeyFile = Files.writeString(dir.resolve("ca.key"), pkcs8(caKeys.getPrivate()));
    Leaf upstreamLeaf =
        new LeafMinter(new PodCa(caCert, caKeys.getPrivate()), Clock.systemUTC())
            .mint(UPSTREAM_HOST);
    Vertx vertx = Vertx.vertx();
    ProxyCommand.Running proxy = null;
    try {
      HttpServer upstream =
          vertx
              .createHttpServer(
                  new HttpServerOptions()
                      .setHost("127.0.0.1")
                      .setPort(0)
                      .setSsl(true)
                      .setUseAlpn(true)
                      .setKeyCertOptions(
                          new PemKeyCertOptions()
                              .setKeyValue(Buffer.buffer(pkcs8(upstreamLeaf.key())))
                              .setCertValue(Buffer.buffer(pem(upstreamLeaf.certificate())))))
              .requestHandler(
                  request ->
                      request
                          .body()
                          .onComplete(
                              body ->
                                  request
                                      .response()
                                      .putHeader("content-type", "application/json")
                                      .end("{\"path\":\"" + request.path() + "\",\"ok\":true}")))
              .listen()
              .await(10, TimeUnit.SECONDS);
      InetSocketAddress upstreamAddress =
          new InetSocketAddress(InetAddress.getLoopbackAddress(), upstream.actualPort());
      Path session =
          Files.writeString(
              dir.resolve("session.json"),
              """
              {"apiVersion": "capgate.dev/v1alpha1", "kind": "AgentSession",
               "metadata": {"namespace": "aot", "name": "training"},
               "spec": {
                 "user": "training@capgate.invalid",
                 "agent": "aot-train",
                 "egress": [{"name": "upstream", "hosts": ["%s"], "methods": ["GET", "POST"],
                             "paths": ["/allowed/**"], "ports": [%d]}]}}
              """
                  .formatted(UPSTREAM_HOST, upstreamAddress.getPort()));

      // The sidecar refuses to dial a local address (its own ports live on loopback), and an image
      // build cannot give the upstream another one: the sidecar goes out through a CONNECT proxy
      // here, the corporate-egress path (--upstream-proxy), which tunnels to the loopback upstream.
      int egressPort = LoopbackConnectProxy.start(vertx, upstreamAddress.getPort(), line -> {});
      int proxyPort = freePort();
      int dnsPort = freePort();
      int adminPort = freePort();
      // As a pod gets them: CAPGATE_* variables and no flags (so the command line parser, which a
      // pod never loads, is not in the cache either).
      Map<String, String> env = new java.util.HashMap<>();
      env.put("session-file", session.toString());
      env.put("ca-cert", caCertFile.toString());
      env.put("ca-key", caKeyFile.toString());
      env.put("proxy-port", Integer.toString(proxyPort));
      env.put("dns-port", Integer.toString(dnsPort));
      env.put("admin-port", Integer.toString(adminPort));
      env.put("admin-address", "127.0.0.1");
      // Nothing answers there: a name the policy allows would wait for it; refused names never
      // reach it.
      env.put("dns-upstream", "127.0.0.1:" + freePort());
      env.put("resolv-conf", dir.resolve("no-resolv.conf").toString());
      env.put("placeholders-file", dir.resolve("no-placeholders.json").toString());
      env.put("upstream-proxy", "127.0.0.1:" + egressPort);
      env.put(
          SidecarContract.flagOf(SidecarContract.ENV_HOST_ALIASES),
          "[{\"ip\":\"127.0.0.1\",\"hostnames\":[\"" + UPSTREAM_HOST + "\"]}]");
      env.put(SidecarContract.flagOf(SidecarContract.ENV_UPSTREAM_CA_FILE), caCertFile.toString());
      Map<String, String> variables = new java.util.HashMap<>();
      env.forEach((flag, value) -> variables.put(SidecarContract.envOf(flag), value));
      proxy =
          new ProxyCommand(
                  SidecarConfig.parse(List.of(), variables), ch -> Optional.of(upstreamAddress))
              .start();

      List<String> wrong = new ArrayList<>();
      for (HttpVersion version : List.of(HttpVersion.HTTP_1_1, HttpVersion.HTTP_2)) {
        HttpClientAgent client =
            vertx.createHttpClient(
                new HttpClientOptions()
                    .setSsl(true)
                    .setUseAlpn(true)
                    .setProtocolVersion(version)
                    .setTrustOptions(
                        new PemTrustOptions().addCertValue(Buffer.buffer(pem(caCert)))));
        for (int round = 0; round < ROUNDS; round++) {
          expect(client, proxyPort, upstreamAddress, HttpMethod.GET, "/allowed/a?x=1", 200, wrong);
          expect(client, proxyPort, upstreamAddress, HttpMethod.POST, "/allowed/b", 200, wrong);
          expect(client, proxyPort, upstreamAddress, HttpMethod.GET, "/denied", 403, wrong);
          expect(client, proxyPort, upstreamAddress, HttpMethod.DELETE, "/allowed/c", 403, wrong);
        }
        client.close().await(10, TimeUnit.SECONDS);
      }
      HttpClientAgent admin = vertx.createHttpClient();
      for (String path : List.of("/readyz", "/healthz", "/metrics")) {
        int status =
            admin
                .request(HttpMethod.GET, adminPort, "127.0.0.1", path)
                .compose(r -> r.send().compose(resp -> resp.body().map(b -> resp.statusCode())))
                .await(REQUEST_TIMEOUT_SECONDS, TimeUnit.SECONDS);
        if (status != 200) {
          wrong.add("admin " + path + " answered " + status);
        }
      }
      if (!refusedDnsName(dnsPort)) {
        wrong.add("a name no rule allows was not answered NXDOMAIN");
      }
      if (!wrong.isEmpty()) {
        LOG.severe(
            "AOT training: unexpected answers: " + wrong.subList(0, Math.min(5, wrong.size())));
        return 1;
      }
      LOG.info("AOT training done: " + ROUNDS * 8 + " intercepted requests, h1 and h2");
      return 0;
    } finally {
      if (proxy != null) {
        proxy.stop();
      }
      vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }
  }

  private static void expect(
      HttpClientAgent client,
      int proxyPort,
      InetSocketAddress upstream,
      HttpMethod method,
      String path,
      int expected,
      List<String> wrong) {
    RequestOptions options =
        new RequestOptions()
            // Connect to the proxy's listener; TLS SNI and Host name the upstream, as an agent's
            // request redirected by iptables would.
            .setServer(SocketAddress.inetSocketAddress(proxyPort, "127.0.0.1"))
            .setHost(UPSTREAM_HOST)
            .setPort(upstream.getPort())
            .setMethod(method)
            .setURI(path);
    Future<Integer> status =
        client
            .request(options)
            .compose(
                r ->
                    (method == HttpMethod.POST ? r.send("{\"training\":true}") : r.send())
                        .compose(resp -> resp.body().map(b -> resp.statusCode())));
    try {
      // Generous: the first requests load and link most of the sidecar's classes, and an image
      // build may share a busy machine; the training checks answers, not speed.
      int got = status.await(REQUEST_TIMEOUT_SECONDS, TimeUnit.SECONDS);
      if (got != expected) {
        wrong.add(method + " " + path + ": " + got + " instead of " + expected);
      }
    } catch (Exception e) {
      wrong.add(method + " " + path + ": " + e);
    }
  }

  /** A DNS query for a name no rule allows: the DNS proxy answers NXDOMAIN itself. */
  private static boolean refusedDnsName(int dnsPort) throws IOException {
    byte[] name = "refused.aot-train.test".getBytes(StandardCharsets.US_ASCII);
    java.io.ByteArrayOutputStream q = new java.io.ByteArrayOutputStream();
    q.writeBytes(new byte[] {0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0});
    int start = 0;
    for (int i = 0; i <= name.length; i++) {
      if (i == name.length || name[i] == '.') {
        q.write(i - start);
        q.write(name, start, i - start);
        start = i + 1;
      }
    }
    q.writeBytes(new byte[] {0, 0, 1, 0, 1});
    byte[] query = q.toByteArray();
    try (DatagramSocket socket = new DatagramSocket()) {
      socket.setSoTimeout(5000);
      socket.send(
          new DatagramPacket(query, query.length, InetAddress.getLoopbackAddress(), dnsPort));
      byte[] answer = new byte[512];
      DatagramPacket packet = new DatagramPacket(answer, answer.length);
      socket.receive(packet);
      return packet.getLength() >= 4 && (answer[3] & 0x0f) == 3; // RCODE 3: NXDOMAIN
    } catch (SocketTimeoutException e) {
      return false;
    }
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
  }

  private static KeyPair ecKeys() throws Exception {
    KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
    generator.initialize(new ECGenParameterSpec("secp256r1"), new SecureRandom());
    return generator.generateKeyPair();
  }

  /** A pod CA like the operator's (EC P-256, CA:true), valid for the training's few seconds. */
  private static X509Certificate selfSignedCa(KeyPair keys) throws Exception {
    X500Name name = new X500Name("CN=capgate AOT training CA");
    Instant now = Instant.now();
    return new JcaX509CertificateConverter()
        .getCertificate(
            new JcaX509v3CertificateBuilder(
                    name,
                    BigInteger.ONE,
                    Date.from(now.minus(Duration.ofMinutes(5))),
                    Date.from(now.plus(Duration.ofHours(1))),
                    name,
                    keys.getPublic())
                .addExtension(Extension.basicConstraints, true, new BasicConstraints(true))
                .addExtension(
                    Extension.keyUsage,
                    true,
                    new KeyUsage(KeyUsage.keyCertSign | KeyUsage.digitalSignature))
                .build(new JcaContentSignerBuilder("SHA256withECDSA").build(keys.getPrivate())));
  }

  private static String pem(Object object) throws IOException {
    StringWriter out = new StringWriter();
    try (JcaPEMWriter writer = new JcaPEMWriter(out)) {
      writer.writeObject(object);
    }
    return out.toString();
  }

  /** PKCS#8 ("PRIVATE KEY"), the form Vert.x's PEM options read for EC keys. */
  private static String pkcs8(java.security.PrivateKey key) throws IOException {
    StringWriter out = new StringWriter();
    try (JcaPEMWriter writer = new JcaPEMWriter(out)) {
      writer.writeObject(new JcaPKCS8Generator(key, null));
    }
    return out.toString();
  }

  private static void deleteTree(Path dir) {
    try (var walk = Files.walk(dir)) {
      walk.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException e) {
      LOG.warning("could not delete " + dir + ": " + e.getMessage());
    }
  }
}
