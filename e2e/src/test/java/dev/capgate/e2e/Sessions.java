package dev.capgate.e2e;

import static dev.capgate.api.v1alpha1.AgentSessionBuilder.identityToken;
import static dev.capgate.api.v1alpha1.AgentSessionBuilder.kv2;
import static dev.capgate.api.v1alpha1.AgentSessionBuilder.rule;
import static dev.capgate.api.v1alpha1.HttpMethod.GET;
import static dev.capgate.api.v1alpha1.HttpMethod.POST;

import dev.capgate.api.v1alpha1.AgentSessionBuilder;
import dev.capgate.api.v1alpha1.AgentSessionBuilder.CredentialBuilder;
import dev.capgate.api.v1alpha1.AgentSessionBuilder.RuleBuilder;

/** The sessions of the scenarios, named as the caller says. */
final class Sessions {
  private Sessions() {}

  /**
   * The article's example: a coding agent on issue 42 of acme/repo-a may read the repo and open
   * pull requests through the API, clone and fetch it over Git; nothing else. Push is absent (no
   * git-receive-pack), admin operations (DELETE) are absent, repo B is absent.
   */
  static AgentSessionBuilder article(String name) {
    return alice(name)
        .project("payments")
        .ttl("2h")
        .credential(github(), githubGit())
        .egress(
            githubApi("github-api", "github")
                .methods(GET, POST)
                .paths("/repos/acme/repo-a", "/repos/acme/repo-a/**"),
            gitFetch("git-fetch", "github-git"));
  }

  /**
   * An internal API that takes OpenBao identity JWTs, and a remote MCP server with a bearer token.
   */
  static AgentSessionBuilder internalAndMcp(String name) {
    return alice(name)
        .credential(
            identityToken("internal-identity", "identity/oidc/token/internal-api").bearer(),
            kv2("mcp", "secret/data/mcp/{{user}}", "token").bearer())
        .egress(
            rule("internal-api")
                .hosts("internal.test")
                .methods(GET)
                .paths("/orders/**")
                .credential("internal-identity"),
            rule("mcp").hosts("mcp.test").methods(POST).paths("/mcp").credential("mcp"));
  }

  /**
   * Bob's session (VaultScopeE2E): his own repo B through the API with his own {@code {{user}}}
   * credential, and — the attack — a credential whose path names alice's secret literally, on a Git
   * route to repo A. Vault must refuse bob's sidecar that path: its token is bob's.
   */
  static AgentSessionBuilder bobBorrowingAlicesPath(String name) {
    return AgentSessionBuilder.session(name)
        .user("bob@example.com")
        .agent("coding-agent")
        .vaultRole("capgate-agent")
        .credential(
            github(),
            kv2("alices-github", "secret/data/github/alice@example.com", "token")
                .basic("x-access-token"))
        .egress(
            githubApi("github-api", "github")
                .methods(GET)
                .paths("/repos/acme/repo-b", "/repos/acme/repo-b/**"),
            gitFetch("borrowed", "alices-github"));
  }

  /** Alice's coding agent, its sidecar logging in to Vault as role capgate-agent. */
  static AgentSessionBuilder alice(String name) {
    return AgentSessionBuilder.session(name)
        .user("alice@example.com")
        .agent("coding-agent")
        .vaultRole("capgate-agent");
  }

  /** The user's GitHub token, as a bearer token (the API). */
  static CredentialBuilder github() {
    return kv2("github", "secret/data/github/{{user}}", "token").bearer();
  }

  /** The same token as Git hosts want it: basic, user x-access-token. */
  static CredentialBuilder githubGit() {
    return kv2("github-git", "secret/data/github/{{user}}", "token").basic("x-access-token");
  }

  /** Clone and fetch of acme/repo-a over smart HTTP, with {@code credential}. */
  static RuleBuilder gitFetch(String name, String credential) {
    return gitHost(name, credential)
        .paths("/acme/repo-a.git/info/refs", "/acme/repo-a.git/git-upload-pack");
  }

  /**
   * A rule on the stack's GitHub-style API host injecting {@code credential}; the caller adds the
   * methods and paths (and limits, approval...) that make the scenario.
   */
  static RuleBuilder githubApi(String name, String credential) {
    return rule(name).hosts("api.github.test").credential(credential);
  }

  /**
   * A rule on the stack's Git host injecting {@code credential}, with smart HTTP's methods (GET
   * info/refs, POST the service); the caller adds the paths (and a git push policy...).
   */
  static RuleBuilder gitHost(String name, String credential) {
    return rule(name).hosts("github.test").methods(GET, POST).credential(credential);
  }
}
