package dev.capgate.cli.session;

import dev.capgate.api.v1alpha1.Credential;
import dev.capgate.api.v1alpha1.Injection;
import dev.capgate.api.v1alpha1.VaultPaths;
import dev.capgate.sidecar.policy.ConnectionAction;
import dev.capgate.sidecar.policy.ConnectionKind;
import dev.capgate.sidecar.policy.ConnectionVerdict;
import dev.capgate.sidecar.policy.NormalizedRequest;
import dev.capgate.sidecar.policy.Policy;
import dev.capgate.sidecar.policy.RawRequest;
import dev.capgate.sidecar.policy.RejectedRequestException;
import dev.capgate.sidecar.policy.RequestNormalizer;
import dev.capgate.sidecar.policy.RequestVerdict;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Runs a sample request through the sidecar's own decision code, in the sidecar's order: the
 * connection ({@code Policy.onConnection}: deny, splice or intercept), then for an intercepted one
 * the request head ({@code RequestNormalizer.normalize}, then {@code Policy.onRequest}). What it
 * cannot know offline: the address a name resolves to (a {@code cidrs} rule matches the address the
 * agent dialled, so it matches here only when the URL names an IP), the request's headers
 * (placeholders, method-override headers) and whether Vault has the credential.
 */
public final class RequestTrial {
  /**
   * The outcome.
   *
   * @param stage {@code connection} or {@code request}: where it was decided
   * @param action the connection's action ({@code INTERCEPT}, {@code PASSTHROUGH}, {@code TCP},
   *     {@code DENY})
   * @param normalized the request as policy saw it, null when it was not read (not intercepted, or
   *     refused as malformed)
   * @param credentials what would be injected: name and where, never a value
   */
  public record Outcome(
      boolean allowed,
      String stage,
      ConnectionAction action,
      String rule,
      String reason,
      NormalizedRequest normalized,
      List<String> credentials) {}

  /** The reason's prefix for what a learn session lets through but its rules refuse. */
  static final String LEARNING =
      "would-deny (spec.mode Audit lets it through, without any credential): ";

  private RequestTrial() {}

  /**
   * @throws dev.capgate.sidecar.policy.InvalidPolicyException when the session does not compile
   *     (the sidecar would deny everything; lint says why)
   */
  public static Outcome run(SessionDocument session, SampleRequest request) {
    Policy policy = Policy.compile(Lint.identity(session), session.spec());
    ConnectionVerdict connection =
        policy.onConnection(
            request.host(),
            destination(request),
            request.tls() ? ConnectionKind.TLS : ConnectionKind.PLAINTEXT_HTTP);
    if (connection.action() != ConnectionAction.INTERCEPT || connection.wouldDeny()) {
      // Learn mode lets a would-deny through; the rules are judged as Enforce will judge them.
      return new Outcome(
          connection.action() != ConnectionAction.DENY && !connection.wouldDeny(),
          "connection",
          connection.action(),
          connection.rule(),
          connection.wouldDeny() ? LEARNING + connection.reason() : connection.reason(),
          null,
          List.of());
    }
    NormalizedRequest normalized;
    try {
      normalized =
          RequestNormalizer.normalize(
              new RawRequest(
                  request.method(),
                  request.target(),
                  null,
                  List.of(request.authority()),
                  List.of(),
                  List.of(),
                  false),
              request.tls() ? request.host() : null,
              request.port());
    } catch (RejectedRequestException e) {
      return new Outcome(
          false,
          "request",
          connection.action(),
          null,
          "bad-request: " + e.reason(),
          null,
          List.of());
    }
    RequestVerdict verdict = policy.onRequest(normalized);
    List<String> credentials = new ArrayList<>();
    if (verdict.allowed()) {
      for (String name : verdict.credentials()) {
        credentials.add(describe(name, policy.credential(name), session));
      }
    }
    return new Outcome(
        verdict.allowed() && !verdict.wouldDeny(),
        "request",
        connection.action(),
        verdict.rule(),
        verdict.wouldDeny() ? LEARNING + verdict.reason() : verdict.reason(),
        normalized,
        List.copyOf(credentials));
  }

  /** An IP literal is the address dialled; a name is left unresolved (see the class comment). */
  private static InetSocketAddress destination(SampleRequest request) {
    String host = request.host();
    String literal =
        host.startsWith("[") && host.endsWith("]") ? host.substring(1, host.length() - 1) : host;
    try {
      if (literal.contains(":")) {
        return new InetSocketAddress(java.net.Inet6Address.ofLiteral(literal), request.port());
      }
      return new InetSocketAddress(InetAddress.ofLiteral(literal), request.port());
    } catch (IllegalArgumentException notAnAddress) {
      return InetSocketAddress.createUnresolved(host, request.port());
    }
  }

  /** {@code github: Authorization: Bearer <from Vault secret/data/github/alice field token>}. */
  static String describe(String name, Optional<Credential> declared, SessionDocument session) {
    if (declared.isEmpty()) {
      return name + " (not declared in spec.credentials)";
    }
    Credential c = declared.get();
    if (c.awsSigV4() != null) {
      // Re-signed, not injected: say so, with where the keys come from.
      return name
          + "  AWS Signature V4 re-signed for "
          + c.awsSigV4().region()
          + "/"
          + c.awsSigV4().serviceOrDefault()
          + "  (keys from Vault "
          + c.awsSigV4().vault().path()
          + ", "
          + c.awsSigV4().vault().engineOrDefault().name().toLowerCase(java.util.Locale.ROOT)
          + ")";
    }
    Injection in = c.inject();
    String header =
        switch (in.type()) {
          case BEARER -> "Authorization: Bearer <value>";
          case BASIC ->
              "Authorization: Basic <"
                  + (in.username() == null ? "" : in.username() + ":")
                  + "value, base64>";
          case HEADER ->
              in.header()
                  + ": "
                  + (in.template() == null
                      ? "<value>"
                      : in.template().replace("{{value}}", "<value>"));
        };
    if (c.githubApp() != null) {
      var app = c.githubApp();
      return name
          + "  "
          + header
          + "  (GitHub App installation token minted by the sidecar: app "
          + app.appId()
          + ", installation "
          + app.installationId()
          + ", repositories "
          + (app.repositories() == null ? "all of the installation" : app.repositories())
          + ")";
    }
    if (c.oauth() != null) {
      return name
          + "  "
          + header
          + "  (OAuth access token from "
          + c.oauth().tokenUrl()
          + (c.oauth().refreshToken() != null
              ? ", refresh_token grant"
              : ", token exchange of credential '"
                  + c.oauth().tokenExchange().subjectCredential()
                  + "'")
          + ")";
    }
    String path;
    try {
      path =
          VaultPaths.resolve(
              c.vault().path(),
              session.spec(),
              session.namespace() == null ? "default" : session.namespace(),
              session.name() == null ? "session" : session.name());
    } catch (IllegalArgumentException e) {
      path = c.vault().path() + " (cannot be rendered: " + e.getMessage() + ")";
    }
    String field = c.vault().field() == null ? "" : " field " + c.vault().field();
    return name
        + "  "
        + header
        + "  (value from Vault "
        + path
        + field
        + ", "
        + c.vault().engineOrDefault().name().toLowerCase(java.util.Locale.ROOT)
        + ")";
  }
}
