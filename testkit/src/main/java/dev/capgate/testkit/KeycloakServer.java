package dev.capgate.testkit;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.zip.ZipEntry;
import java.util.zip.ZipInputStream;

/**
 * A real Keycloak (the Quarkus distribution from Maven Central, {@code
 * org.keycloak:keycloak-quarkus-dist}) as an OAuth 2.0 authorization server for tests: {@code kc.sh
 * start-dev} on Temurin 25 with an in-memory database, plain HTTP on loopback for the test's admin
 * calls and HTTPS (a certificate the caller issues, e.g. from the test upstream CA) for the
 * sidecar. Realms, clients and users are created through the admin REST API ({@link #admin}).
 *
 * <p>The distribution is unpacked once into {@code <tools>/keycloak/<version>} ({@code make tools}
 * does it; if it has not, the zip in the local Maven repository is unpacked here). Starting takes
 * 20-40 s (Quarkus re-augments in dev mode), so start one per IT class and {@link #stop()} it
 * after. Features: {@code token-exchange} is not needed for RFC 8693 between clients of one realm
 * (standard token exchange V2 is on by default in Keycloak 26.2+).
 */
public final class KeycloakServer extends ManagedProcess {
  public static final String VERSION = "26.5.6";
  public static final String ADMIN_USER = "capgate-admin";
  private static final ObjectMapper JSON = new ObjectMapper();

  private final int httpPort = Ports.free();
  private final int httpsPort = Ports.free();
  private final Path home;
  private final Path certFile;
  private final Path keyFile;
  private final String adminPassword = Names.withRandomSuffix("kc", 24);
  private final HttpClient http =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
  private final String hostname;
  private final List<String> features;
  private long startedInMillis;

  /**
   * @param tls the HTTPS certificate (its names are how the sidecar reaches this server)
   * @param hostname the URL clients use (e.g. {@code https://keycloak.test:8943}): every token's
   *     {@code iss} names it, whichever port the test itself calls, so a grant seeded by the test
   *     is one the sidecar can refresh
   * @param features preview features to enable (e.g. {@code token-exchange}, {@code
   *     admin-fine-grained-authz:v1} for exchanging a token another issuer signed)
   */
  public KeycloakServer(Pki.Issued tls, String hostname, String... features) {
    super("keycloak", Duration.ofSeconds(300)); // 170 s seen under a load average of 15
    this.hostname = hostname;
    this.features = List.of(features);
    this.home = distribution();
    try {
      Path dir = logDir().resolve("keycloak-tls");
      Files.createDirectories(dir);
      tls.writeTo(dir, "server");
      this.certFile = dir.resolve("server.crt");
      this.keyFile = dir.resolve("server.key");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Starts it and prints how long that took (Keycloak is the slowest part of the test stack). */
  @Override
  public synchronized void start() {
    long t0 = System.nanoTime();
    super.start();
    startedInMillis = (System.nanoTime() - t0) / 1_000_000;
    System.out.println("[keycloak] " + VERSION + " ready in " + startedInMillis + " ms");
  }

  public long startedInMillis() {
    return startedInMillis;
  }

  /** Where the test itself talks to it: {@code http://127.0.0.1:<port>}. */
  public String httpAddress() {
    return "http://127.0.0.1:" + httpPort;
  }

  public int httpsPort() {
    return httpsPort;
  }

  @Override
  protected List<String> command() {
    List<String> command = new java.util.ArrayList<>(commandWithoutFeatures());
    if (!features.isEmpty()) {
      command.add("--features=" + String.join(",", features));
    }
    return command;
  }

  private List<String> commandWithoutFeatures() {
    return List.of(
        home.resolve("bin/kc.sh").toString(),
        "start-dev",
        "--db=dev-mem",
        "--http-enabled=true",
        "--http-host=127.0.0.1",
        "--http-port=" + httpPort,
        "--https-port=" + httpsPort,
        "--https-certificate-file=" + certFile,
        "--https-certificate-key-file=" + keyFile,
        "--hostname=" + hostname,
        "--hostname-backchannel-dynamic=false",
        "--cache=local",
        "--http-management-port=" + Ports.free());
  }

  @Override
  protected void customize(ProcessBuilder builder) {
    Map<String, String> env = builder.environment();
    env.keySet().removeIf(k -> k.startsWith("KC_") || k.startsWith("KEYCLOAK_"));
    env.put("JAVA_HOME", System.getProperty("java.home"));
    env.put("KC_BOOTSTRAP_ADMIN_USERNAME", ADMIN_USER);
    env.put("KC_BOOTSTRAP_ADMIN_PASSWORD", adminPassword);
    // Small heap: the machine is shared; Keycloak's default takes a share of RAM.
    env.put("JAVA_OPTS_KC_HEAP", "-Xms64m -Xmx512m");
  }

  @Override
  protected boolean ready() throws Exception {
    HttpResponse<Void> r =
        http.send(
            HttpRequest.newBuilder(URI.create(httpAddress() + "/realms/master"))
                .timeout(Duration.ofSeconds(2))
                .build(),
            HttpResponse.BodyHandlers.discarding());
    return r.statusCode() == 200;
  }

  /**
   * An admin REST call ({@code /admin/realms/...}) with a fresh admin token.
   *
   * @return the status and the body (JSON or empty); the Location header for 201 is in {@code
   *     location}
   */
  public Reply admin(String method, String path, Object body) {
    return send(method, path, body, adminToken());
  }

  /** A 2xx admin call, or an exception naming the call and status. */
  public Reply adminOk(String method, String path, Object body) {
    Reply r = admin(method, path, body);
    if (r.status() / 100 != 2) {
      throw new IllegalStateException(method + " " + path + " answered " + r.status());
    }
    return r;
  }

  /** The id of user {@code username} in {@code realm}. */
  public String userId(String realm, String username) {
    JsonNode users =
        adminOk(
                "GET",
                "/admin/realms/"
                    + realm
                    + "/users?exact=true&username="
                    + URLEncoder.encode(username, StandardCharsets.UTF_8),
                null)
            .json();
    return users.get(0).path("id").asText();
  }

  /** A token endpoint call on the loopback HTTP port (tests seeding a user's grant). */
  public JsonNode token(String realm, Map<String, String> form) {
    String body =
        form.entrySet().stream()
            .map(
                e ->
                    URLEncoder.encode(e.getKey(), StandardCharsets.UTF_8)
                        + "="
                        + URLEncoder.encode(e.getValue(), StandardCharsets.UTF_8))
            .collect(Collectors.joining("&"));
    try {
      HttpResponse<String> r =
          http.send(
              HttpRequest.newBuilder(
                      URI.create(
                          httpAddress() + "/realms/" + realm + "/protocol/openid-connect/token"))
                  .header("Content-Type", "application/x-www-form-urlencoded")
                  .POST(HttpRequest.BodyPublishers.ofString(body))
                  .timeout(Duration.ofSeconds(10))
                  .build(),
              HttpResponse.BodyHandlers.ofString());
      return JSON.readTree(r.body());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  /** The realm's signing keys (JWKS), as an upstream verifying its tokens fetches them. */
  public JsonNode jwks(String realm) {
    return send("GET", "/realms/" + realm + "/protocol/openid-connect/certs", null, null).json();
  }

  private String adminToken() {
    JsonNode t =
        token(
            "master",
            Map.of(
                "grant_type",
                "password",
                "client_id",
                "admin-cli",
                "username",
                ADMIN_USER,
                "password",
                adminPassword));
    if (!t.path("access_token").isTextual()) {
      throw new IllegalStateException("no admin token from Keycloak (" + t.path("error") + ")");
    }
    return t.path("access_token").asText();
  }

  private Reply send(String method, String path, Object body, String bearer) {
    try {
      HttpRequest.Builder b =
          HttpRequest.newBuilder(URI.create(httpAddress() + path)).timeout(Duration.ofSeconds(20));
      if (bearer != null) {
        b.header("Authorization", "Bearer " + bearer);
      }
      if (body != null) {
        b.header("Content-Type", "application/json")
            .method(method, HttpRequest.BodyPublishers.ofString(JSON.writeValueAsString(body)));
      } else {
        b.method(method, HttpRequest.BodyPublishers.noBody());
      }
      HttpResponse<String> r = http.send(b.build(), HttpResponse.BodyHandlers.ofString());
      return new Reply(r.statusCode(), r.body(), r.headers().firstValue("Location").orElse(null));
    } catch (IOException e) {
      throw new UncheckedIOException(method + " " + path, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  /** An answer of the admin API. */
  public record Reply(int status, String body, String location) {
    public JsonNode json() {
      try {
        return body == null || body.isBlank() ? JSON.nullNode() : JSON.readTree(body);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
  }

  /**
   * {@code <tools>/keycloak/<version>}, unpacked from the Maven repository's zip if {@code make
   * tools} has not done it yet; an error naming the fix if neither is there.
   */
  static synchronized Path distribution() {
    Path dir = Tools.home().resolve("keycloak").resolve(VERSION);
    if (Files.isExecutable(dir.resolve("bin/kc.sh"))) {
      return dir;
    }
    Path zip =
        Path.of(
            System.getProperty("user.home"),
            ".m2/repository/org/keycloak/keycloak-quarkus-dist",
            VERSION,
            "keycloak-quarkus-dist-" + VERSION + ".zip");
    if (!Files.isRegularFile(zip)) {
      throw new IllegalStateException(
          "Keycloak " + VERSION + " not found in " + dir + " nor " + zip + " — run `make tools`");
    }
    try {
      Path tmp =
          Files.createTempDirectory(
              dir.getParent() == null ? null : mkdirs(dir.getParent()), "unpack-");
      unzip(zip, tmp);
      Path top = tmp.resolve("keycloak-" + VERSION);
      Files.setPosixFilePermissions(
          top.resolve("bin/kc.sh"), PosixFilePermissions.fromString("rwxr-xr-x"));
      Files.move(top, dir, StandardCopyOption.ATOMIC_MOVE);
      try (var left = Files.walk(tmp)) {
        left.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
      }
      return dir;
    } catch (IOException e) {
      throw new UncheckedIOException("could not unpack " + zip, e);
    }
  }

  private static Path mkdirs(Path dir) throws IOException {
    return Files.createDirectories(dir);
  }

  private static void unzip(Path zip, Path into) throws IOException {
    try (InputStream in = Files.newInputStream(zip);
        ZipInputStream z = new ZipInputStream(in)) {
      for (ZipEntry e; (e = z.getNextEntry()) != null; ) {
        Path target = into.resolve(e.getName()).normalize();
        if (!target.startsWith(into)) {
          throw new IOException("zip entry outside the target: " + e.getName());
        }
        if (e.isDirectory()) {
          Files.createDirectories(target);
        } else {
          Files.createDirectories(target.getParent());
          Files.copy(z, target, StandardCopyOption.REPLACE_EXISTING);
        }
      }
    }
  }
}
