package dev.capgate.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Required;
import io.fabric8.generator.annotation.Size;
import io.fabric8.generator.annotation.ValidationRule;
import java.util.List;

@JsonInclude(JsonInclude.Include.NON_NULL)
@ValidationRule(
    value = "!has(self.credentials) || size(self.credentials) == 0 || has(self.vault)",
    fieldPath = ".vault",
    reason = "FieldValueRequired",
    message = "spec.vault is required when spec.credentials are declared")
@ValidationRule(
    value =
        "self.egress.all(r, (!has(r.credential) || (has(self.credentials) && self.credentials.exists(c, c.name == r.credential))) && (!has(r.credentials) || r.credentials.all(n, has(self.credentials) && self.credentials.exists(c, c.name == n))))",
    fieldPath = ".egress",
    reason = "FieldValueInvalid",
    message = "every spec.egress[].credential(s) must name an entry of spec.credentials")
@ValidationRule(
    value =
        "!has(self.credentials) || self.credentials.all(c, !has(c.oauth) || !has(c.oauth.tokenExchange) || (c.oauth.tokenExchange.subjectCredential != c.name && self.credentials.exists(d, d.name == c.oauth.tokenExchange.subjectCredential && !(has(d.oauth) && has(d.oauth.tokenExchange)))))",
    fieldPath = ".credentials",
    reason = "FieldValueInvalid",
    message =
        "an oauth.tokenExchange.subjectCredential must name another credential of the session that is not itself a tokenExchange")
@ValidationRule(
    value = "!has(self.credentials) || self.credentials.filter(c, has(c.awsSigV4)).size() <= 1",
    fieldPath = ".credentials",
    reason = "FieldValueInvalid",
    message =
        "at most one awsSigV4 credential: its placeholders are the agent's AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY")
// Record components carry their annotations to both field and accessor, which the generator would
// emit twice: field-level CEL rules therefore live here, on the object, with a fieldPath.
@ValidationRule(
    value = "self.user == oldSelf.user",
    fieldPath = ".user",
    reason = "FieldValueForbidden",
    message = "spec.user is immutable")
@ValidationRule(
    value = "self.agent == oldSelf.agent",
    fieldPath = ".agent",
    reason = "FieldValueForbidden",
    message = "spec.agent is immutable")
@ValidationRule(
    value =
        "!has(self.ttl) || (duration(self.ttl) >= duration('1s') && duration(self.ttl) <= duration('720h'))",
    fieldPath = ".ttl",
    reason = "FieldValueInvalid",
    message = "spec.ttl must be a duration between 1s and 720h, e.g. 2h or 90m")
// Learn mode lets any host through: it must end by itself, soon (a forgotten learn session would be
// an open egress for as long as the session lives), and an enforced session cannot be opened up in
// place (a learn session is created as one, so the choice is visible from its creation on).
@ValidationRule(
    value =
        "!has(self.mode) || self.mode != 'Audit' || (has(self.ttl) && duration(self.ttl) <= duration('24h'))",
    fieldPath = ".mode",
    reason = "FieldValueRequired",
    message = "spec.mode Audit requires spec.ttl of at most 24h: learn mode lets any host through")
@ValidationRule(
    value =
        "!has(self.mode) || self.mode != 'Audit' || (has(oldSelf.mode) && oldSelf.mode == 'Audit')",
    fieldPath = ".mode",
    reason = "FieldValueForbidden",
    message =
        "spec.mode cannot change from Enforce to Audit: create a new session in Audit mode (Audit to Enforce is allowed)")
public record AgentSessionSpec(
    @Required
        @Size(min = 1, max = 253)
        @JsonPropertyDescription(
            "Who delegated to the agent (attribution, audit, {{user}} in Vault paths). Immutable.")
        String user,
    @Required
        @Size(min = 1, max = 63)
        @Pattern(Patterns.NAME)
        @JsonPropertyDescription("Which agent acts ({{agent}} in Vault paths). Immutable.")
        String agent,
    @Size(max = 63)
        @Pattern(Patterns.NAME)
        @JsonPropertyDescription(
            "Optional grouping (team, project, workspace) for audit and attribution.")
        String project,
    @Pattern(Patterns.DURATION)
        @JsonPropertyDescription(
            "Lifetime of the session from its creation, e.g. 2h or 30m. Absent means until deleted. At creation + ttl the session expires and every request is denied.")
        String ttl,
    @Default("Deny")
        @JsonPropertyDescription(
            "What revocation (deletion or expiry) does to running pods: Deny (sidecars deny everything and close connections) or DeletePods (also delete the session's pods).")
        OnRevoke onRevoke,
    @JsonPropertyDescription(
            "How sidecars of this session authenticate to Vault. Required when credentials are declared.")
        VaultAuth vault,
    @Size(max = 32)
        @JsonPropertyDescription(
            "Credentials the sidecar reads from Vault at egress time and injects on the routes that name them. The agent never sees them.")
        List<Credential> credentials,
    @Required
        @Size(min = 1, max = 64)
        @JsonPropertyDescription(
            "Allowed egress, checked in order: the first matching rule decides; no match is a deny.")
        List<EgressRule> egress,
    @JsonPropertyDescription(
            "Rate, concurrency and budget limits over every request the session's rules allow, enforced per pod, on top of each rule's own limits.")
        Limits limits,
    @Default("Enforce")
        @JsonPropertyDescription(
            "Enforce (default): what no egress rule allows is refused. Audit (learn mode): what host/method/path policy would refuse goes out as the agent sent it, WITHOUT any credential, and is audited with decision would-deny (kubectl capgate suggest turns those lines into egress rules). The placeholder guard, the response scrubber, a rule's git refs and the other defences still apply; raw TCP and local addresses stay refused. Audit lets the agent reach any host: it requires spec.ttl of at most 24h, and an Enforce session cannot be switched to Audit.")
        SessionMode mode) {

  /**
   * A session in the default mode (the constructor before {@code limits} and {@code mode} existed).
   */
  public AgentSessionSpec(
      String user,
      String agent,
      String project,
      String ttl,
      OnRevoke onRevoke,
      VaultAuth vault,
      List<Credential> credentials,
      List<EgressRule> egress) {
    this(user, agent, project, ttl, onRevoke, vault, credentials, egress, null, null);
  }

  public SessionMode modeOrDefault() {
    return mode == null ? SessionMode.Enforce : mode;
  }

  /** Learn mode: would-deny requests go out without a credential and are audited. */
  public boolean audits() {
    return modeOrDefault() == SessionMode.Audit;
  }

  public List<Credential> credentialsOrEmpty() {
    return credentials == null ? List.of() : credentials;
  }

  public OnRevoke onRevokeOrDefault() {
    return onRevoke == null ? OnRevoke.Deny : onRevoke;
  }
}
