package dev.capgate.e2e.upstream;

import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.Signature;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * The GitHub App side of the GitHub-style upstream, as GitHub does it: one App (its id and public
 * key), installed on one account with some repositories and permissions; {@code POST
 * /app/installations/{id}/access_tokens} verifies the App JWT (RS256 with the App's key, {@code
 * iss} the App id, not expired, {@code exp} at most ten minutes ahead) and mints a token limited to
 * the repositories and permissions asked for (never more than the installation has: 422); the repo
 * API and the Git host then check every call against that token's scope ({@link #grant}), and
 * {@code DELETE /installation/token} revokes it (204; later use is 401).
 */
public final class GitHubApp {
  /** GitHub's lifetime of an installation token. */
  public static final Duration TOKEN_LIFETIME = Duration.ofHours(1);

  private static final SecureRandom RANDOM = new SecureRandom();
  private static final Duration MAX_JWT_AHEAD = Duration.ofMinutes(10);
  private static final Duration CLOCK_SKEW = Duration.ofSeconds(60);

  private final long appId;
  private final PublicKey publicKey;
  private final long installationId;
  private final String account;
  private final Set<String> repositories;
  private final Map<String, String> permissions;
  private final Clock clock;
  private final Map<String, Grant> tokens = new ConcurrentHashMap<>();
  private final List<String> minted = new CopyOnWriteArrayList<>();
  private volatile java.util.function.Consumer<JsonObject> events = e -> {};
  private volatile java.util.function.Consumer<String> mintedSink = t -> {};

  /**
   * What one installation token may do.
   *
   * @param permissions name → read or write
   */
  public record Grant(
      long installationId,
      String account,
      Set<String> repositories,
      Map<String, String> permissions,
      Instant expiresAt,
      boolean revoked) {

    /** May this token act on {@code owner/repo} at all (else GitHub answers 404)? */
    public boolean sees(String owner, String repo) {
      return account.equalsIgnoreCase(owner) && repositories.contains(repo);
    }

    /** Does the token hold {@code permission} at {@code level} (write implies read)? */
    public boolean has(String permission, String level) {
      if (permission.equals("metadata") && level.equals("read")) {
        return true; // every installation token reads metadata
      }
      String held = permissions.get(permission);
      return held != null && (held.equals("write") || held.equals(level));
    }
  }

  /**
   * @param repositories the installation's repositories (names, on {@code account})
   * @param permissions the installation's permissions, name → read or write
   */
  public GitHubApp(
      long appId,
      PublicKey publicKey,
      long installationId,
      String account,
      Set<String> repositories,
      Map<String, String> permissions,
      Clock clock) {
    this.appId = appId;
    this.publicKey = publicKey;
    this.installationId = installationId;
    this.account = account;
    this.repositories = Set.copyOf(repositories);
    this.permissions = Map.copyOf(permissions);
    this.clock = clock;
  }

  /**
   * Mints, revocations and refusals of known tokens, one JSON object each, naming a token by its
   * {@link #fingerprint} only (the e2e stack prints them on the upstreams' log, which the suite
   * reads to see a session's tokens revoked and greps for secrets).
   */
  public GitHubApp withEvents(java.util.function.Consumer<JsonObject> sink) {
    this.events = sink;
    return this;
  }

  /** Each token as it is minted (the e2e stack's file of values for its secret sweep). */
  public GitHubApp withMintedTokens(java.util.function.Consumer<String> sink) {
    this.mintedSink = sink;
    return this;
  }

  /**
   * {@code sha256:} + the first 12 hex digits of the token's SHA-256: names it, reveals nothing.
   */
  public static String fingerprint(String token) {
    try {
      byte[] d =
          java.security.MessageDigest.getInstance("SHA-256")
              .digest(token.getBytes(StandardCharsets.UTF_8));
      return "sha256:" + HexFormat.of().formatHex(d).substring(0, 12);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  /** The grant of a live (known, unexpired, unrevoked) installation token. */
  public Optional<Grant> grant(String token) {
    if (token == null) {
      return Optional.empty();
    }
    Grant grant = tokens.get(token);
    if (grant == null) {
      return Optional.empty();
    }
    if (grant.revoked() || !clock.instant().isBefore(grant.expiresAt())) {
      events.accept(
          new JsonObject()
              .put("msg", "github-app token refused")
              .put("token", fingerprint(token))
              .put("why", grant.revoked() ? "revoked" : "expired"));
      return Optional.empty();
    }
    return Optional.of(grant);
  }

  /** Every token minted so far, in order (the tests count mints and try revoked ones). */
  public List<String> minted() {
    return List.copyOf(minted);
  }

  /** Handles the App routes; false when {@code request} is not one of them. */
  boolean handle(HttpServerRequest request) {
    String path = request.path();
    String prefix = "/app/installations/";
    if (path.startsWith(prefix) && path.endsWith("/access_tokens")) {
      if (!request.method().name().equals("POST")) {
        Responses.json(request, 404, Map.of("message", "Not Found"));
        return true;
      }
      String id = path.substring(prefix.length(), path.length() - "/access_tokens".length());
      String problem = jwtProblem(Responses.bearer(request));
      if (problem != null) {
        Responses.json(request, 401, Map.of("message", problem));
      } else if (!id.equals(Long.toString(installationId))) {
        Responses.json(request, 404, Map.of("message", "Not Found"));
      } else {
        request
            .body()
            .onSuccess(body -> mint(request, body.length() == 0 ? "{}" : body.toString()));
      }
      return true;
    }
    if (path.equals("/installation/token")) {
      String token = Responses.bearer(request);
      if (!request.method().name().equals("DELETE")) {
        Responses.json(request, 404, Map.of("message", "Not Found"));
      } else if (grant(token).isEmpty()) {
        Responses.json(request, 401, Map.of("message", "Bad credentials"));
      } else {
        tokens.computeIfPresent(
            token,
            (t, g) ->
                new Grant(
                    g.installationId(),
                    g.account(),
                    g.repositories(),
                    g.permissions(),
                    g.expiresAt(),
                    true));
        request.response().setStatusCode(204).end();
        events.accept(
            new JsonObject()
                .put("msg", "github-app token revoked")
                .put("token", fingerprint(token))
                // What every later call with it gets: the same check the repo API and Git host
                // make.
                .put("nowAnswers", grant(token).isPresent() ? 200 : 401));
      }
      return true;
    }
    return false;
  }

  private void mint(HttpServerRequest request, String body) {
    JsonObject asked;
    try {
      asked = new JsonObject(body);
    } catch (RuntimeException e) {
      Responses.json(request, 400, Map.of("message", "Problems parsing JSON"));
      return;
    }
    Set<String> repos = new LinkedHashSet<>();
    JsonArray names = asked.getJsonArray("repositories");
    if (names == null) {
      repos.addAll(repositories);
    } else {
      if (names.size() > 500) {
        Responses.json(request, 422, Map.of("message", "Too many repositories"));
        return;
      }
      for (Object name : names) {
        if (!repositories.contains(String.valueOf(name))) {
          Responses.json(
              request,
              422,
              Map.of(
                  "message",
                  "There is at least one repository that does not exist or is not accessible to"
                      + " the parent installation."));
          return;
        }
        repos.add(String.valueOf(name));
      }
    }
    Map<String, String> granted = new LinkedHashMap<>();
    JsonObject perms = asked.getJsonObject("permissions");
    if (perms == null) {
      granted.putAll(permissions);
    } else {
      for (String name : perms.fieldNames()) {
        String level = String.valueOf(perms.getValue(name));
        String installed = permissions.get(name);
        boolean ok =
            (level.equals("read") || level.equals("write"))
                && installed != null
                && (installed.equals("write") || installed.equals(level));
        if (!ok) {
          Responses.json(
              request,
              422,
              Map.of("message", "The permissions requested are not granted to this installation."));
          return;
        }
        granted.put(name, level);
      }
    }
    byte[] random = new byte[18];
    RANDOM.nextBytes(random);
    String token = "ghs_" + HexFormat.of().formatHex(random);
    Instant expiresAt =
        clock.instant().plus(TOKEN_LIFETIME).truncatedTo(java.time.temporal.ChronoUnit.SECONDS);
    tokens.put(
        token,
        new Grant(
            installationId, account, Set.copyOf(repos), Map.copyOf(granted), expiresAt, false));
    minted.add(token);
    mintedSink.accept(token);
    events.accept(
        new JsonObject()
            .put("msg", "github-app token minted")
            .put("token", fingerprint(token))
            .put("repositories", new JsonArray(List.copyOf(repos)))
            .put("permissions", new JsonObject(new LinkedHashMap<>(granted))));
    JsonArray repoList = new JsonArray();
    repos.forEach(
        r -> repoList.add(new JsonObject().put("name", r).put("full_name", account + "/" + r)));
    request
        .response()
        .setStatusCode(201)
        .putHeader("content-type", "application/json")
        .end(
            new JsonObject()
                .put("token", token)
                .put("expires_at", expiresAt.toString())
                .put("permissions", new JsonObject(new LinkedHashMap<>(granted)))
                .put("repository_selection", names == null ? "all" : "selected")
                .put("repositories", repoList)
                .encode());
  }

  /** Why GitHub would refuse this App JWT, or null when it is good. */
  String jwtProblem(String jwt) {
    String[] parts = jwt == null ? new String[0] : jwt.split("\\.", -1);
    if (parts.length != 3) {
      return "A JSON web token could not be decoded";
    }
    JsonObject header;
    JsonObject claims;
    try {
      Base64.Decoder b64 = Base64.getUrlDecoder();
      header = new JsonObject(new String(b64.decode(parts[0]), StandardCharsets.UTF_8));
      claims = new JsonObject(new String(b64.decode(parts[1]), StandardCharsets.UTF_8));
      if (!"RS256".equals(header.getString("alg"))) {
        return "A JSON web token could not be decoded";
      }
      Signature rsa = Signature.getInstance("SHA256withRSA");
      rsa.initVerify(publicKey);
      rsa.update((parts[0] + "." + parts[1]).getBytes(StandardCharsets.US_ASCII));
      if (!rsa.verify(b64.decode(parts[2]))) {
        return "A JSON web token could not be decoded";
      }
    } catch (RuntimeException | GeneralSecurityException e) {
      return "A JSON web token could not be decoded";
    }
    Object iss = claims.getValue("iss");
    if (iss == null || !String.valueOf(iss).equals(Long.toString(appId))) {
      return "'Issuer' claim ('iss') must be an Integer";
    }
    Instant now = clock.instant();
    Long exp = claims.getLong("exp");
    Long iat = claims.getLong("iat");
    if (exp == null || iat == null) {
      return "Missing 'issued at' or 'expiration time' claim";
    }
    if (!now.isBefore(Instant.ofEpochSecond(exp))) {
      return "'Expiration time' claim ('exp') must be a numeric value representing the future time"
          + " at which the assertion expires";
    }
    if (Instant.ofEpochSecond(exp).isAfter(now.plus(MAX_JWT_AHEAD))) {
      return "'Expiration time' claim ('exp') is too far in the future";
    }
    if (Instant.ofEpochSecond(iat).isAfter(now.plus(CLOCK_SKEW))) {
      return "'Issued at' claim ('iat') must be an Integer representing a time in the past";
    }
    return null;
  }

  /** {@code contents:write,pull_requests:write} → a map (the command line's form). */
  static Map<String, String> parsePermissions(String spec) {
    Map<String, String> out = new LinkedHashMap<>();
    for (String part : spec.split(",")) {
      String[] kv = part.strip().split(":");
      out.put(kv[0], kv[1]);
    }
    return out;
  }

  static List<String> parseList(String spec) {
    List<String> out = new ArrayList<>();
    for (String part : spec.split(",")) {
      if (!part.isBlank()) {
        out.add(part.strip());
      }
    }
    return out;
  }
}
