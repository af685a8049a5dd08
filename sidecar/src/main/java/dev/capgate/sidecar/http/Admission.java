package dev.capgate.sidecar.http;

import dev.capgate.api.sidecar.PlaceholderFormat;
import dev.capgate.api.v1alpha1.AwsSigV4Credential;
import dev.capgate.api.v1alpha1.Credential;
import dev.capgate.sidecar.audit.Decision;
import dev.capgate.sidecar.audit.Denial;
import dev.capgate.sidecar.audit.Problem;
import dev.capgate.sidecar.credentials.CredentialInjector;
import dev.capgate.sidecar.credentials.CredentialResolver;
import dev.capgate.sidecar.credentials.CredentialUnavailableException;
import dev.capgate.sidecar.credentials.InjectedHeader;
import dev.capgate.sidecar.credentials.PlaceholderLeak;
import dev.capgate.sidecar.credentials.Placeholders;
import dev.capgate.sidecar.credentials.SecretValue;
import dev.capgate.sidecar.limits.Admit;
import dev.capgate.sidecar.limits.LimitRefusal;
import dev.capgate.sidecar.limits.RequestLimits;
import dev.capgate.sidecar.limits.Ticket;
import dev.capgate.sidecar.policy.NormalizedRequest;
import dev.capgate.sidecar.policy.Policy;
import dev.capgate.sidecar.policy.PolicySource;
import dev.capgate.sidecar.policy.RawRequest;
import dev.capgate.sidecar.policy.RejectedRequestException;
import dev.capgate.sidecar.policy.RequestNormalizer;
import dev.capgate.sidecar.policy.RequestVerdict;
import dev.capgate.sidecar.policy.SessionIdentity;
import dev.capgate.sidecar.sigv4.AuthorizationHeader;
import dev.capgate.sidecar.sigv4.PlaceholderSignature;
import dev.capgate.sidecar.sigv4.Resigner;
import dev.capgate.sidecar.sigv4.SigV4Refusal;
import dev.capgate.sidecar.sigv4.SignedRequest;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;

/**
 * The decision on one request head, before a byte of it goes upstream: normalize (400 if ambiguous)
 * → policy (403) → placeholder check (403) → credentials (503 if unavailable) → inject. The answer
 * is a {@link Forward} plan (what exactly to send, with which headers injected) or a {@link
 * LocalAnswer} (status, JSON body, audit reason). No Netty and no sockets: the streaming relay
 * ({@link Exchange}) hands in the head as parsed and acts on the answer.
 *
 * <p>Two calls because the credentials may take a while (Vault): {@link #decide} answers at once;
 * an {@link Allowed} request then waits for {@link #resolve} and is turned into a plan by {@link
 * #inject}. The relay feeds the request body (and scans it for placeholders) in between.
 */
final class Admission {
  private final PolicySource policies;
  private final CredentialResolver credentials;
  private final Placeholders placeholderSet;
  private final PlaceholderGuard placeholders;
  private final KnownSecrets knownSecrets;
  private final Clock clock;
  private final RequestLimits limits;

  Admission(
      PolicySource policies,
      CredentialResolver credentials,
      Placeholders placeholderSet,
      KnownSecrets knownSecrets) {
    this(policies, credentials, placeholderSet, knownSecrets, Clock.systemUTC());
  }

  Admission(
      PolicySource policies,
      CredentialResolver credentials,
      Placeholders placeholderSet,
      KnownSecrets knownSecrets,
      Clock clock) {
    this(policies, credentials, placeholderSet, knownSecrets, clock, new RequestLimits());
  }

  Admission(
      PolicySource policies,
      CredentialResolver credentials,
      Placeholders placeholderSet,
      KnownSecrets knownSecrets,
      Clock clock,
      RequestLimits limits) {
    this.clock = clock;
    this.limits = limits;
    this.policies = policies;
    this.credentials = credentials;
    this.placeholderSet = placeholderSet;
    this.placeholders =
        placeholderSet.isEmpty()
            ? PlaceholderGuard.inactive()
            : new PlaceholderGuard(placeholderSet);
    this.knownSecrets = knownSecrets;
  }

  Admission(HttpServices services) {
    this(
        services.policies(),
        services.credentials(),
        services.placeholders(),
        services.knownSecrets(),
        Clock.systemUTC(),
        services.limits());
  }

  /** Where the relay scans the body and trailers for placeholders. */
  PlaceholderGuard placeholders() {
    return placeholders;
  }

  /**
   * The request head as the agent sent it.
   *
   * @param id the request id (audit line, answer body)
   * @param raw the request line and framing fields as they arrived (null when {@code malformed})
   * @param headers the agent's header fields, in order (Netty's {@code HttpHeaders} is one)
   * @param malformed the HTTP/1.1 decoder could not parse the head
   * @param extendedConnect {@code :protocol} of an HTTP/2 extended CONNECT, or null
   * @param hasBody a body follows the head
   */
  record Head(
      String id,
      AgentConnection connection,
      String method,
      String uri,
      RawRequest raw,
      Iterable<Map.Entry<String, String>> headers,
      boolean malformed,
      String extendedConnect,
      boolean hasBody) {

    /** The host named in answers and audit lines: the normalized one once known. */
    String host(NormalizedRequest normalized) {
      return normalized != null ? normalized.host() : connection.serverName();
    }

    /** The path named in answers and audit lines: the normalized one once known. */
    String path(NormalizedRequest normalized) {
      if (normalized != null) {
        return normalized.path();
      }
      int q = uri.indexOf('?');
      return q < 0 ? uri : uri.substring(0, q);
    }
  }

  /** What to do with a request: forward it, or answer it here. */
  sealed interface Outcome permits Allowed, Forward, LocalAnswer {}

  /**
   * Policy allows the request; the credentials its rule injects are still to be fetched.
   *
   * @param scanBody the body must be scanned for placeholders as it streams
   * @param awsSignature the agent's SigV4 authorization, verified against the placeholder keys,
   *     when the rule names an {@code awsSigV4} credential; else null
   * @param ticket the request's hold on its rule's and session's limits, released when it ends
   * @param wouldDeny learn mode: policy would refuse it ({@code reason} says why); it goes out as
   *     the agent sent it, no rule, no credential
   */
  record Allowed(
      SessionIdentity session,
      NormalizedRequest request,
      String rule,
      String reason,
      List<String> credentialNames,
      Policy policy,
      boolean scanBody,
      AuthorizationHeader awsSignature,
      Ticket ticket,
      boolean wouldDeny)
      implements Outcome {}

  /**
   * Forward exactly {@code request} (normalized target, Host from it) with {@code inject} set.
   *
   * @param placeholderValues credential name → real value, for the placeholders in the agent's
   *     headers that the relay swaps (empty: none)
   * @param valuesExpireAt when the injected values must be fetched again (null: none injected)
   * @param resigner signs the request again with the real AWS keys, last, over the headers as sent;
   *     null when the rule names no {@code awsSigV4} credential
   */
  record Forward(
      Allowed allowed,
      List<InjectedHeader> inject,
      Map<String, String> placeholderValues,
      Instant valuesExpireAt,
      Resigner resigner)
      implements Outcome {

    Forward(
        Allowed allowed,
        List<InjectedHeader> inject,
        Map<String, String> placeholderValues,
        Instant valuesExpireAt) {
      this(allowed, inject, placeholderValues, valuesExpireAt, null);
    }
  }

  /**
   * Answered by the sidecar, never forwarded.
   *
   * @param decision {@link Decision#DENY} or {@link Decision#ERROR} (audit line, metric)
   * @param request the normalized request, or null when it did not normalize
   * @param leak the placeholder that refused it (counted as a likely exfiltration attempt), or null
   * @param closeConnection nothing after this request can be trusted (ambiguous framing or host)
   * @param limited the limit that refused it (counted, and {@code Retry-After} on a 429), or null
   */
  record LocalAnswer(
      int status,
      String body,
      Decision decision,
      String reason,
      SessionIdentity session,
      NormalizedRequest request,
      String rule,
      List<String> credentialNames,
      PlaceholderLeak leak,
      boolean closeConnection,
      LimitRefusal limited)
      implements Outcome {

    LocalAnswer(
        int status,
        String body,
        Decision decision,
        String reason,
        SessionIdentity session,
        NormalizedRequest request,
        String rule,
        List<String> credentialNames,
        PlaceholderLeak leak,
        boolean closeConnection) {
      this(
          status,
          body,
          decision,
          reason,
          session,
          request,
          rule,
          credentialNames,
          leak,
          closeConnection,
          null);
    }
  }

  /**
   * Normalize, ask policy, check placeholders in the head: a {@link LocalAnswer} or {@link
   * Allowed}.
   */
  Outcome decide(Head head) {
    if (head.malformed()) {
      return badRequest(head, "malformed-request", null);
    }
    NormalizedRequest normalized;
    try {
      AgentConnection c = head.connection();
      normalized =
          RequestNormalizer.normalize(
              head.raw(), c.tls() ? c.serverName() : null, c.destination().getPort());
    } catch (RejectedRequestException e) {
      if (head.extendedConnect() != null) {
        return badRequest(
            head,
            "websocket-over-http2-not-supported",
            "WebSocket over HTTP/2 (RFC 8441 extended CONNECT) is not"
                + " supported by the sidecar; use WebSocket over HTTP/1.1 (ALPN http/1.1), which it upgrades and polices"
                + " at the upgrade request");
      }
      return badRequest(head, e.reason(), null);
    }
    Optional<Policy> current = policies.current();
    if (current.isEmpty()) {
      knownSecrets.forget(); // the session is over (or unknown): hold no value of it
      String why = "no valid policy: " + policies.problem();
      return forbidden(head, Problem.NO_VALID_POLICY, null, normalized, null, why, why, null);
    }
    Policy policy = current.get();
    SessionIdentity session = policy.session();
    RequestVerdict verdict = policy.onRequest(normalized);
    String rule = verdict.rule();
    // An awsSigV4 credential's placeholder is a signing key: it never travels, on any route.
    PlaceholderLeak leak =
        placeholders.inspect(
            head.headers(),
            normalized,
            verdict.allowed() ? headerCredentials(policy, verdict.credentials()) : List.of());
    if (leak != null) {
      String host = head.host(normalized);
      return new LocalAnswer(
          403,
          Denial.json(
              Problem.placeholder(leak.credential() != null),
              leak.error(),
              host,
              head.method(),
              head.path(normalized),
              rule,
              head.id(),
              leak.detail()),
          Decision.DENY,
          leak.auditReason(host),
          session,
          normalized,
          rule,
          leak.credential() == null ? List.of() : List.of(leak.credential()),
          leak,
          false);
    }
    if (!verdict.allowed()) {
      return forbidden(
          head,
          Problem.DENIED,
          session,
          normalized,
          rule,
          verdict.reason(),
          verdict.reason(),
          null);
    }
    String override = RequestNormalizer.overrideHeader(head.headers());
    if (override != null) {
      // The upstream might act on a method or path policy never judged.
      return forbidden(
          head,
          Problem.OVERRIDE_HEADER,
          session,
          normalized,
          rule,
          RequestNormalizer.OVERRIDE_HEADER,
          RequestNormalizer.OVERRIDE_HEADER + ": " + override,
          "the "
              + override
              + " header asks the upstream for another method or URL than the one policy judged;"
              + " send the request with that method and URL instead");
    }
    String copySource = copySource(head.headers());
    // A would-deny names no rule and carries no credential: the copy is the upstream's to judge.
    if (copySource != null
        && !verdict.wouldDeny()
        && !policy.allowsS3CopySource(rule, copySource)) {
      String why =
          "rule '"
              + rule
              + "' does not allow reading the copy source (x-amz-copy-source) of this request";
      return forbidden(head, Problem.DENIED, session, normalized, rule, why, why, null);
    }
    AuthorizationHeader awsSignature = null;
    Credential aws = awsCredential(policy, verdict.credentials());
    if (aws != null) {
      try {
        awsSignature = verifyAws(head, aws);
      } catch (SigV4Refusal e) {
        return new LocalAnswer(
            Problem.AWS_SIGNATURE_REFUSED.status(),
            Denial.json(
                Problem.AWS_SIGNATURE_REFUSED,
                e.error(),
                head.host(normalized),
                head.method(),
                head.path(normalized),
                rule,
                head.id(),
                e.detail()),
            Decision.DENY,
            e.error() + ": " + e.detail() + " (credential '" + aws.name() + "')",
            session,
            normalized,
            rule,
            List.of(aws.name()),
            null,
            false);
      }
    }
    // Last: a request refused above takes no token, slot or budget.
    Admit admit = limits.admit(policy, rule);
    if (admit instanceof LimitRefusal refusal) {
      return limited(head, session, normalized, rule, refusal);
    }
    return new Allowed(
        session,
        normalized,
        rule,
        verdict.reason(),
        verdict.credentials(),
        policy,
        placeholders.active() && head.hasBody(),
        awsSignature,
        (Ticket) admit,
        verdict.wouldDeny());
  }

  /** 429 (rate, concurrency; with Retry-After) or 403 budget-exhausted, naming rule and limit. */
  private static LocalAnswer limited(
      Head head,
      SessionIdentity session,
      NormalizedRequest normalized,
      String rule,
      LimitRefusal refusal) {
    Problem problem =
        switch (refusal.kind()) {
          case RATE -> Problem.RATE_LIMITED;
          case CONCURRENCY -> Problem.CONCURRENCY_LIMITED;
          case REQUEST_BUDGET, BYTE_BUDGET -> Problem.BUDGET_EXHAUSTED;
        };
    return new LocalAnswer(
        problem.status(),
        Denial.json(
            problem,
            refusal.error(),
            head.host(normalized),
            head.method(),
            head.path(normalized),
            rule,
            head.id(),
            refusal.reason()),
        Decision.DENY,
        refusal.reason(),
        session,
        normalized,
        rule,
        List.of(),
        null,
        false,
        refusal);
  }

  /** The value of {@code x-amz-copy-source} (several: joined, so none escapes the check). */
  private static String copySource(Iterable<Map.Entry<String, String>> headers) {
    String found = null;
    for (Map.Entry<String, String> h : headers) {
      if (h.getKey().equalsIgnoreCase("x-amz-copy-source")) {
        if (found != null) {
          return "/"; // two sources: malformed, refused by allowsS3CopySource on s3 rules
        }
        found = h.getValue();
      }
    }
    return found;
  }

  /** The rule's credentials whose placeholder may be swapped in a header (not awsSigV4 ones). */
  private static List<String> headerCredentials(Policy policy, List<String> names) {
    if (awsCredential(policy, names) == null) {
      return names;
    }
    return names.stream()
        .filter(n -> policy.credential(n).map(c -> c.awsSigV4() == null).orElse(true))
        .toList();
  }

  /** The rule's awsSigV4 credential (a session declares at most one), or null. */
  private static Credential awsCredential(Policy policy, List<String> names) {
    for (String name : names) {
      Optional<Credential> c = policy.credential(name);
      if (c.isPresent() && c.get().awsSigV4() != null) {
        return c.get();
      }
    }
    return null;
  }

  /** The agent signed with this pod's placeholder keys, for the credential's region and service. */
  private AuthorizationHeader verifyAws(Head head, Credential aws) {
    Optional<String> placeholder = placeholderSet.placeholderOf(aws.name());
    if (placeholder.isEmpty()) {
      throw new SigV4Refusal(
          "aws-placeholder-unavailable",
          "the sidecar has no placeholder keys for credential '"
              + aws.name()
              + "' (placeholders file missing or unreadable), so it cannot verify the signature");
    }
    AwsSigV4Credential spec = aws.awsSigV4();
    return PlaceholderSignature.verify(
        SignedRequest.of(head.method(), head.uri(), head.headers()),
        PlaceholderFormat.awsAccessKeyId(placeholder.get()),
        placeholder.get(),
        spec.region(),
        spec.serviceOrDefault(),
        clock.instant());
  }

  /**
   * The values of the credentials the rule injects, in its order (none: an empty list at once).
   * Fails with {@link CredentialUnavailableException} (possibly wrapped) when one is unavailable.
   */
  CompletionStage<List<SecretValue>> resolve(Allowed allowed) {
    if (allowed.credentialNames().isEmpty()) {
      return CompletableFuture.completedFuture(List.of());
    }
    List<Credential> declared = new ArrayList<>(allowed.credentialNames().size());
    for (String name : allowed.credentialNames()) {
      Optional<Credential> credential = allowed.policy().credential(name);
      if (credential.isEmpty()) {
        return CompletableFuture.failedFuture(
            new CredentialUnavailableException(name, "not declared in the session"));
      }
      declared.add(credential.get());
    }
    return credentials.resolveAll(declared, allowed.session());
  }

  /**
   * Renders the injected headers from the resolved values (or, on {@code failure}, the 503), and
   * remembers the values so that every response from now on is scrubbed of them.
   */
  Outcome inject(Head head, Allowed allowed, List<SecretValue> values, Throwable failure) {
    if (failure != null) {
      Throwable cause =
          failure instanceof CompletionException && failure.getCause() != null
              ? failure.getCause()
              : failure;
      return credentialUnavailable(
          head,
          allowed,
          cause instanceof CredentialUnavailableException e
              ? e
              : new CredentialUnavailableException(
                  String.join(",", allowed.credentialNames()), "resolver failed"));
    }
    if (values.isEmpty()) {
      return new Forward(allowed, List.of(), Map.of(), null);
    }
    List<InjectedHeader> injected = new ArrayList<>(values.size());
    Map<String, String> placeholderValues = Map.of();
    Instant valuesExpireAt = null;
    Resigner resigner = null;
    try {
      for (int i = 0; i < values.size(); i++) {
        Credential credential = allowed.policy().credential(allowed.credentialNames().get(i)).get();
        SecretValue value = values.get(i);
        if (credential.awsSigV4() != null) {
          resigner = resigner(allowed, value);
          valuesExpireAt =
              valuesExpireAt == null || value.expiresAt().isBefore(valuesExpireAt)
                  ? value.expiresAt()
                  : valuesExpireAt;
          // The key id too: S3's error bodies name the access key id the request was signed with.
          knownSecrets.remember(
              credential.name(), scrubForms(value.revealAll()), value.expiresAt());
          continue;
        }
        InjectedHeader header = CredentialInjector.render(credential.inject(), value);
        injected.add(header);
        Instant expiresAt = value.expiresAt();
        valuesExpireAt =
            valuesExpireAt == null || expiresAt.isBefore(valuesExpireAt)
                ? expiresAt
                : valuesExpireAt;
        // Every exchange from now on masks this value too, whatever its rule injects.
        knownSecrets.rememberInjected(credential.name(), value.reveal(), header.value(), expiresAt);
        if (placeholders.active() && placeholderSet.placeholderOf(credential.name()).isPresent()) {
          if (placeholderValues.isEmpty()) {
            placeholderValues = new HashMap<>(2);
          }
          placeholderValues.put(credential.name(), value.reveal());
        }
      }
    } catch (CredentialUnavailableException e) {
      return credentialUnavailable(head, allowed, e);
    }
    return new Forward(allowed, injected, placeholderValues, valuesExpireAt, resigner);
  }

  private static Resigner resigner(Allowed allowed, SecretValue value) {
    String keyId =
        value
            .part(SecretValue.AWS_ACCESS_KEY_ID)
            .orElseThrow(
                () -> new CredentialUnavailableException(value.credential(), "no access key id"));
    if (value.reveal().isEmpty() || keyId.isEmpty()) {
      throw new CredentialUnavailableException(value.credential(), "an AWS key is empty");
    }
    for (String part : value.revealAll()) {
      if (part.chars().anyMatch(c -> c < 0x20 || c == 0x7f)) {
        throw new CredentialUnavailableException(
            value.credential(), "an AWS key contains a control character");
      }
    }
    return new Resigner(
        allowed.awsSignature(),
        keyId,
        value.reveal(),
        value.part(SecretValue.AWS_SESSION_TOKEN).orElse(null));
  }

  private static List<String> scrubForms(List<String> values) {
    List<String> out = new ArrayList<>();
    for (String v : values) {
      out.addAll(SecretScrubber.secretsOf(v, v));
    }
    return out;
  }

  private static LocalAnswer badRequest(Head head, String why, String detail) {
    return new LocalAnswer(
        Problem.BAD_REQUEST.status(),
        Denial.json(
            Problem.BAD_REQUEST,
            why,
            head.host(null),
            head.method(),
            head.path(null),
            null,
            head.id(),
            detail),
        Decision.DENY,
        why,
        null,
        null,
        null,
        List.of(),
        null,
        true);
  }

  private static LocalAnswer forbidden(
      Head head,
      Problem problem,
      SessionIdentity session,
      NormalizedRequest normalized,
      String rule,
      String error,
      String why,
      String detail) {
    String host = head.host(normalized);
    String path = head.path(normalized);
    return new LocalAnswer(
        problem.status(),
        detail == null
            ? Denial.json(problem, why, host, head.method(), path, rule, head.id())
            : Denial.json(problem, error, host, head.method(), path, rule, head.id(), detail),
        Decision.DENY,
        why,
        session,
        normalized,
        rule,
        List.of(),
        null,
        false);
  }

  private static LocalAnswer credentialUnavailable(
      Head head, Allowed allowed, CredentialUnavailableException e) {
    NormalizedRequest normalized = allowed.request();
    return new LocalAnswer(
        Problem.CREDENTIAL_UNAVAILABLE.status(),
        Denial.json(
            Problem.CREDENTIAL_UNAVAILABLE,
            "credential unavailable: " + e.credential(),
            head.host(normalized),
            head.method(),
            head.path(normalized),
            allowed.rule(),
            head.id()),
        Decision.ERROR,
        e.getMessage(), // names the credential, never the value
        allowed.session(),
        normalized,
        allowed.rule(),
        allowed.credentialNames(),
        null,
        false);
  }
}
